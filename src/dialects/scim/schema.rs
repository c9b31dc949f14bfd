//! The SCIM schemas served: User (RFC 7643 §4.1), Enterprise User (§4.3), Group (§4.2), with
//! every attribute's characteristics as in their §8.7.1 representation (and its errata:
//! `x509Certificates.value` is case-exact, as §2.3.6 says binary is; Group `displayName` is
//! required, as §4.2 says). Static data: `/Schemas` and `/ResourceTypes` render it, PATCH and the
//! filter mapping read it.

use crate::model::filter::AttrPath;
use serde_json::{json, Map, Value};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }

    /// Whether `caseExact` means anything for this type (RFC 7643 §7: string-valued types).
    fn is_textual(self) -> bool {
        matches!(self, AttrType::String | AttrType::Reference | AttrType::Binary)
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7 `attributes` / `subAttributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    /// RFC 7643 §2.2's defaults: optional, not case-exact, readWrite, returned by default, not unique.
    const fn new(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        Self {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }
    const fn reference(name: &'static str, types: &'static [&'static str], description: &'static str) -> Self {
        Self { reference_types: types, ..Self::new(name, AttrType::Reference, description) }
    }
    const fn complex(name: &'static str, subs: &'static [Attribute], description: &'static str) -> Self {
        Self { sub_attributes: subs, ..Self::new(name, AttrType::Complex, description) }
    }
    /// A multi-valued complex attribute.
    const fn multi(name: &'static str, subs: &'static [Attribute], description: &'static str) -> Self {
        Self { multi_valued: true, ..Self::complex(name, subs, description) }
    }
    const fn case_exact(self) -> Self {
        Self { case_exact: true, ..self }
    }
    const fn required(self) -> Self {
        Self { required: true, ..self }
    }
    const fn mutability(self, mutability: Mutability) -> Self {
        Self { mutability, ..self }
    }
    const fn returned(self, returned: Returned) -> Self {
        Self { returned, ..self }
    }
    const fn unique(self) -> Self {
        Self { uniqueness: Uniqueness::Server, ..self }
    }
    const fn canonical(self, canonical_values: &'static [&'static str]) -> Self {
        Self { canonical_values, ..self }
    }

    /// The sub-attribute called `name`, ignoring case.
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }

    /// The RFC 7643 §7 representation.
    pub fn to_json(&self) -> Value {
        let mut a = Map::new();
        a.insert("name".into(), self.name.into());
        a.insert("type".into(), self.ty.as_str().into());
        a.insert("multiValued".into(), self.multi_valued.into());
        a.insert("description".into(), self.description.into());
        a.insert("required".into(), self.required.into());
        if self.ty.is_textual() {
            a.insert("caseExact".into(), self.case_exact.into());
        }
        if !self.canonical_values.is_empty() {
            a.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.ty == AttrType::Reference {
            a.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.is_complex() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            a.insert("subAttributes".into(), subs.into());
        }
        a.insert("mutability".into(), self.mutability.as_str().into());
        a.insert("returned".into(), self.returned.as_str().into());
        if !self.is_complex() && self.ty != AttrType::Boolean {
            a.insert("uniqueness".into(), self.uniqueness.as_str().into());
        }
        Value::Object(a)
    }
}

/// A schema (RFC 7643 §7).
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The attribute called `name`, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The `/Schemas/{id}` representation, without `meta` (the dialect adds its location).
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attribute::to_json).collect::<Vec<_>>(),
        })
    }
}

/// An extension a resource type may carry (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug)]
pub struct SchemaExtension {
    pub schema: &'static Schema,
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its core schema, its extensions.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    pub extensions: &'static [SchemaExtension],
}

/// What an attribute path names in a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// An attribute, possibly of an extension (then stored under the extension's URN key), and
    /// possibly one of its sub-attributes.
    Attribute { extension: Option<&'static Schema>, attr: &'static Attribute, sub: Option<&'static Attribute> },
    /// A whole extension object (`urn:…:enterprise:2.0:User`).
    Extension(&'static Schema),
}

impl ResourceType {
    /// The `/ResourceTypes/{name}` representation, without `meta`.
    pub fn to_json(&self) -> Value {
        let extensions: Vec<Value> =
            self.extensions.iter().map(|e| json!({"schema": e.schema.id, "required": e.required})).collect();
        json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "schemaExtensions": extensions,
        })
    }

    /// Every schema of this type: the core one first.
    pub fn schemas(&self) -> impl Iterator<Item = &'static Schema> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|e| e.schema))
    }

    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions.iter().map(|e| e.schema).find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A core or common attribute (`id`, `externalId`, `meta`, RFC 7643 §3.1) by name.
    pub fn core_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.schema.attribute(name).or_else(|| COMMON_ATTRIBUTES.iter().find(|a| a.name.eq_ignore_ascii_case(name)))
    }

    /// What `path` names: a URN prefix picks the schema; without one, core and common
    /// attributes come first, then an extension attribute of that name. `None`: nothing.
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved> {
        if let Some(whole) = self.whole_extension(path) {
            return Some(whole);
        }
        let (extension, attr) = match &path.urn {
            Some(urn) => self.resolve_qualified(urn, path)?,
            None => self.resolve_bare(&path.attr)?,
        };
        let sub = match &path.sub_attr {
            Some(name) => Some(attr.sub(name)?),
            None => None,
        };
        Some(Resolved::Attribute { extension, attr, sub })
    }

    fn resolve_qualified(&self, urn: &str, path: &AttrPath) -> Option<(Option<&'static Schema>, &'static Attribute)> {
        if urn.eq_ignore_ascii_case(self.schema.id) {
            return Some((None, self.core_attribute(&path.attr)?));
        }
        let ext = self.extension(urn)?;
        Some((Some(ext), ext.attribute(&path.attr)?))
    }

    fn resolve_bare(&self, name: &str) -> Option<(Option<&'static Schema>, &'static Attribute)> {
        if let Some(attr) = self.core_attribute(name) {
            return Some((None, attr));
        }
        self.extensions.iter().find_map(|e| Some((Some(e.schema), e.schema.attribute(name)?)))
    }

    /// `urn:…:enterprise:2.0:User` splits as URN `urn:…:enterprise:2.0` + attribute `User`.
    fn whole_extension(&self, path: &AttrPath) -> Option<Resolved> {
        let urn = path.urn.as_ref().filter(|_| path.sub_attr.is_none())?;
        self.extension(&format!("{urn}:{}", path.attr)).map(Resolved::Extension)
    }
}

impl Resolved {
    /// The attribute's canonical path, for messages: `name.givenName`, `urn:…:User:manager`.
    pub fn display(&self) -> String {
        match self {
            Resolved::Extension(s) => s.id.to_string(),
            Resolved::Attribute { extension, attr, sub } => {
                let prefix = extension.map(|e| format!("{}:", e.id)).unwrap_or_default();
                let suffix = sub.map(|s| format!(".{}", s.name)).unwrap_or_default();
                format!("{prefix}{}{suffix}", attr.name)
            }
        }
    }
}

use AttrType::DateTime;
use Mutability::{Immutable, ReadOnly, WriteOnly};

const DISPLAY: Attribute =
    Attribute::string("display", "A human-readable name, primarily used for display purposes.  READ-ONLY.");
const PRIMARY: Attribute = Attribute::boolean(
    "primary",
    "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.  The primary \
     attribute value 'true' MUST appear no more than once.",
);

/// RFC 7643 §3.1: `id`, `externalId` and `meta` belong to every resource and to no schema.
pub static COMMON_ATTRIBUTES: &[Attribute] = &[
    Attribute::string("id", "A unique identifier for a SCIM resource as defined by the service provider.")
        .case_exact()
        .mutability(ReadOnly)
        .returned(Returned::Always)
        .unique(),
    Attribute::string("externalId", "A String that is an identifier for the resource as defined by the provisioning client.")
        .case_exact(),
    Attribute::complex("meta", META_SUBS, "A complex attribute containing resource metadata.").mutability(ReadOnly),
];

static META_SUBS: &[Attribute] = &[
    Attribute::string("resourceType", "The name of the resource type of the resource.").case_exact().mutability(ReadOnly),
    Attribute::new("created", DateTime, "The \"DateTime\" that the resource was added to the service provider.")
        .mutability(ReadOnly),
    Attribute::new("lastModified", DateTime, "The most recent DateTime that the details of this resource were updated.")
        .mutability(ReadOnly),
    Attribute::reference("location", &["uri"], "The URI of the resource being returned.").case_exact().mutability(ReadOnly),
    Attribute::string("version", "The version of the resource being returned.").case_exact().mutability(ReadOnly),
];

pub static USER_SCHEMA: Schema = Schema { id: USER_URN, name: "User", description: "User Account", attributes: USER_ATTRIBUTES };

static USER_ATTRIBUTES: &[Attribute] = &[
    Attribute::string(
        "userName",
        "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. \
         Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service \
         provider's entire set of Users. REQUIRED.",
    )
    .required()
    .unique(),
    Attribute::complex(
        "name",
        NAME_SUBS,
        "The components of the user's real name. Providers MAY return just the full name as a single string in the \
         formatted sub-attribute, or they MAY return just the individual component attributes using the other \
         sub-attributes, or they MAY return both.  If both variants are returned, they SHOULD be describing the same \
         name, with the formatted name indicating how the component attributes should be combined.",
    ),
    Attribute::string(
        "displayName",
        "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User being \
         described, if known.",
    ),
    Attribute::string(
        "nickName",
        "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This attribute \
         SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge').",
    ),
    Attribute::reference(
        "profileUrl",
        &["external"],
        "A fully qualified URL pointing to a page representing the User's online profile.",
    )
    .case_exact(),
    Attribute::string("title", "The user's title, such as \"Vice President.\""),
    Attribute::string(
        "userType",
        "Used to identify the relationship between the organization and the user.  Typical values used might be \
         'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.",
    ),
    Attribute::string(
        "preferredLanguage",
        "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized user \
         interface; e.g., 'en_US' specifies the language English and country US.",
    ),
    Attribute::string(
        "locale",
        "Used to indicate the User's default location for purposes of localizing items such as currency, date time \
         format, or numerical representations.",
    ),
    Attribute::string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    Attribute::boolean("active", "A Boolean value indicating the User's administrative status."),
    Attribute::string(
        "password",
        "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial \
         password when creating a new User or to reset an existing User's password.",
    )
    .mutability(WriteOnly)
    .returned(Returned::Never),
    Attribute::multi(
        "emails",
        EMAIL_SUBS,
        "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., \
         'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
    ),
    Attribute::multi(
        "phoneNumbers",
        PHONE_SUBS,
        "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to the \
         format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', \
         'mobile', 'fax', 'pager', and 'other'.",
    ),
    Attribute::multi("ims", IM_SUBS, "Instant messaging addresses for the User."),
    Attribute::multi("photos", PHOTO_SUBS, "URLs of photos of the User."),
    Attribute::multi(
        "addresses",
        ADDRESS_SUBS,
        "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.  This \
         attribute is a complex type with the following sub-attributes.",
    ),
    Attribute::multi(
        "groups",
        GROUP_REF_SUBS,
        "A list of groups to which the user belongs, either through direct membership, through nested groups, or \
         dynamically calculated.",
    )
    .mutability(ReadOnly),
    Attribute::multi(
        "entitlements",
        ENTITLEMENT_SUBS,
        "A list of entitlements for the User that represent a thing the User has.",
    ),
    Attribute::multi(
        "roles",
        ROLE_SUBS,
        "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
    ),
    Attribute::multi("x509Certificates", CERTIFICATE_SUBS, "A list of certificates issued to the User."),
];

static NAME_SUBS: &[Attribute] = &[
    Attribute::string(
        "formatted",
        "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., \
         'Ms. Barbara J Jensen, III').",
    ),
    Attribute::string(
        "familyName",
        "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. \
         Barbara J Jensen, III').",
    ),
    Attribute::string(
        "givenName",
        "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. \
         Barbara J Jensen, III').",
    ),
    Attribute::string(
        "middleName",
        "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').",
    ),
    Attribute::string(
        "honorificPrefix",
        "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name \
         'Ms. Barbara J Jensen, III').",
    ),
    Attribute::string(
        "honorificSuffix",
        "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name \
         'Ms. Barbara J Jensen, III').",
    ),
];

static EMAIL_SUBS: &[Attribute] = &[
    Attribute::string(
        "value",
        "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., \
         'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
    ),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.")
        .canonical(&["work", "home", "other"]),
    Attribute::boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred \
         mailing address or primary email address.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static PHONE_SUBS: &[Attribute] = &[
    Attribute::string("value", "Phone number of the User."),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    Attribute::boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred \
         phone number or primary phone number.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static IM_SUBS: &[Attribute] = &[
    Attribute::string("value", "Instant messaging address for the User."),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.")
        .canonical(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
    Attribute::boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred \
         messenger or primary messenger.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static PHOTO_SUBS: &[Attribute] = &[
    Attribute::reference("value", &["external"], "URL of a photo of the User.").case_exact(),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.")
        .canonical(&["photo", "thumbnail"]),
    Attribute::boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred \
         photo or thumbnail.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static ADDRESS_SUBS: &[Attribute] = &[
    Attribute::string(
        "formatted",
        "The full mailing address, formatted for display or use with a mailing label.  This attribute MAY contain \
         newlines.",
    ),
    Attribute::string(
        "streetAddress",
        "The full street address component, which may include house number, street name, P.O. box, and multi-line \
         extended street address information.  This attribute MAY contain newlines.",
    ),
    Attribute::string("locality", "The city or locality component."),
    Attribute::string("region", "The state or region component."),
    Attribute::string("postalCode", "The zip code or postal code component."),
    Attribute::string("country", "The country name component."),
    Attribute::string("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.")
        .canonical(&["work", "home", "other"]),
    PRIMARY,
];

static GROUP_REF_SUBS: &[Attribute] = &[
    Attribute::string("value", "The identifier of the User's group.").case_exact().mutability(ReadOnly),
    Attribute::reference("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource to which the user belongs.")
        .case_exact()
        .mutability(ReadOnly),
    DISPLAY.mutability(ReadOnly),
    Attribute::string("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.")
        .canonical(&["direct", "indirect"])
        .mutability(ReadOnly),
];

static ENTITLEMENT_SUBS: &[Attribute] = &[
    Attribute::string("value", "The value of an entitlement."),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function."),
    PRIMARY,
];

static ROLE_SUBS: &[Attribute] = &[
    Attribute::string("value", "The value of a role."),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function."),
    PRIMARY,
];

static CERTIFICATE_SUBS: &[Attribute] = &[
    Attribute::new("value", AttrType::Binary, "The value of an X.509 certificate.").case_exact(),
    DISPLAY,
    Attribute::string("type", "A label indicating the attribute's function."),
    PRIMARY,
];

pub static ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        Attribute::string(
            "employeeNumber",
            "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association \
             with an organization.",
        ),
        Attribute::string("costCenter", "Identifies the name of a cost center."),
        Attribute::string("organization", "Identifies the name of an organization."),
        Attribute::string("division", "Identifies the name of a division."),
        Attribute::string("department", "Identifies the name of a department."),
        Attribute::complex(
            "manager",
            MANAGER_SUBS,
            "The User's manager.  A complex type that optionally allows service providers to represent organizational \
             hierarchy by referencing the 'id' attribute of another User.",
        ),
    ],
};

static MANAGER_SUBS: &[Attribute] = &[
    Attribute::string("value", "The id of the SCIM resource representing the User's manager.  REQUIRED.").case_exact(),
    Attribute::reference("$ref", &["User"], "The URI of the SCIM resource representing the User's manager.  REQUIRED.")
        .case_exact(),
    Attribute::string("displayName", "The displayName of the User's manager. OPTIONAL and READ-ONLY.").mutability(ReadOnly),
];

pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: &[
        Attribute::string("displayName", "A human-readable name for the Group. REQUIRED.").required(),
        Attribute::multi("members", MEMBER_SUBS, "A list of members of the Group."),
    ],
};

static MEMBER_SUBS: &[Attribute] = &[
    Attribute::string("value", "Identifier of the member of this Group.").case_exact().mutability(Immutable),
    Attribute::reference("$ref", &["User", "Group"], "The URI corresponding to a SCIM resource that is a member of this Group.")
        .case_exact()
        .mutability(Immutable),
    Attribute::string("type", "A label indicating the type of resource, e.g., 'User' or 'Group'.")
        .canonical(&["User", "Group"])
        .mutability(Immutable),
    // Not in RFC 7643 §8.7.1, but Okta and Entra send it and RFC 7643 §2.4 lists `display` among
    // the default sub-attributes of multi-valued attributes.
    Attribute::string("display", "A human-readable name for the group member, primarily used for display purposes."),
];

pub static USER: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[SchemaExtension { schema: &ENTERPRISE_USER_SCHEMA, required: false }],
};

pub static GROUP: ResourceType =
    ResourceType { name: "Group", endpoint: "/Groups", description: "Group", schema: &GROUP_SCHEMA, extensions: &[] };

/// Every schema served at `/Schemas`.
pub static SCHEMAS: [&Schema; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];

#[cfg(test)]
mod tests {
    use super::*;

    fn names(attrs: &[Attribute]) -> Vec<&str> {
        attrs.iter().map(|a| a.name).collect()
    }

    #[test]
    fn user_schema_lists_every_rfc7643_attribute() {
        assert_eq!(
            names(USER_SCHEMA.attributes),
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates"
            ]
        );
        let user_name = USER_SCHEMA.attribute("USERNAME").unwrap();
        assert!(user_name.required && !user_name.case_exact && user_name.uniqueness == Uniqueness::Server);
        let password = USER_SCHEMA.attribute("password").unwrap();
        assert_eq!((password.mutability, password.returned), (WriteOnly, Returned::Never));
        let groups = USER_SCHEMA.attribute("groups").unwrap();
        assert!(groups.multi_valued && groups.mutability == ReadOnly);
        assert!(groups.sub_attributes.iter().all(|s| s.mutability == ReadOnly));
        assert_eq!(names(USER_SCHEMA.attribute("name").unwrap().sub_attributes).len(), 6);
        for multi in ["emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"] {
            let a = USER_SCHEMA.attribute(multi).unwrap();
            assert!(a.multi_valued, "{multi}");
            assert_eq!(a.sub("primary").map(|p| p.ty), Some(AttrType::Boolean), "{multi}");
            assert!(a.sub("type").is_some(), "{multi}");
        }
        assert!(USER_SCHEMA.attribute("x509Certificates").unwrap().sub("value").unwrap().case_exact);
    }

    #[test]
    fn enterprise_and_group_schemas() {
        assert_eq!(
            names(ENTERPRISE_USER_SCHEMA.attributes),
            ["employeeNumber", "costCenter", "organization", "division", "department", "manager"]
        );
        let manager = ENTERPRISE_USER_SCHEMA.attribute("manager").unwrap();
        assert_eq!(names(manager.sub_attributes), ["value", "$ref", "displayName"]);
        assert_eq!(manager.sub("displayname").unwrap().mutability, ReadOnly);
        assert_eq!(names(GROUP_SCHEMA.attributes), ["displayName", "members"]);
        let members = GROUP_SCHEMA.attribute("members").unwrap();
        assert_eq!(members.sub("value").unwrap().mutability, Immutable);
    }

    #[test]
    fn resolve_paths() {
        let r = |p: AttrPath| USER.resolve(&p).map(|r| r.display());
        let urn =
            |u: &str, a: &str, s: Option<&str>| AttrPath { urn: Some(u.into()), attr: a.into(), sub_attr: s.map(str::to_string) };
        assert_eq!(r(AttrPath::with_sub("NAME", "givenname")).as_deref(), Some("name.givenName"));
        assert_eq!(r(AttrPath::new("id")).as_deref(), Some("id"));
        assert_eq!(r(AttrPath::with_sub("meta", "lastModified")).as_deref(), Some("meta.lastModified"));
        assert_eq!(r(urn(USER_URN, "userName", None)).as_deref(), Some("userName"));
        assert_eq!(
            r(urn(ENTERPRISE_USER_URN, "manager", Some("value"))).as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
        );
        assert_eq!(
            r(AttrPath::new("employeeNumber")).as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
            "an unqualified extension attribute"
        );
        assert_eq!(
            r(urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User", None)).as_deref(),
            Some(ENTERPRISE_USER_URN)
        );
        assert_eq!(r(AttrPath::new("nope")), None);
        assert_eq!(r(AttrPath::with_sub("userName", "x")), None, "a simple attribute has no sub-attributes");
        assert_eq!(r(AttrPath::with_sub("name", "x")), None);
        assert_eq!(r(urn(GROUP_URN, "displayName", None)), None, "another resource type's schema");
        assert_eq!(GROUP.resolve(&AttrPath::new("employeeNumber")), None);
    }

    #[test]
    fn json_representations() {
        let user = USER_SCHEMA.to_json();
        assert_eq!(user["id"], USER_URN);
        assert_eq!(user["schemas"][0], SCHEMA_URN);
        let attrs = user["attributes"].as_array().unwrap();
        assert_eq!(attrs.len(), 21);
        let user_name = &attrs[0];
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(user_name["mutability"], "readWrite");
        let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"][2]["canonicalValues"], json!(["work", "home", "other"]));
        assert!(emails.get("caseExact").is_none() && emails.get("uniqueness").is_none());
        let photos = attrs.iter().find(|a| a["name"] == "photos").unwrap();
        assert_eq!(photos["subAttributes"][0]["referenceTypes"], json!(["external"]));
        let rt = USER.to_json();
        assert_eq!(rt["schemaExtensions"], json!([{"schema": ENTERPRISE_USER_URN, "required": false}]));
        assert_eq!(GROUP.to_json()["endpoint"], "/Groups");
        assert_eq!(SCHEMAS.iter().map(|s| s.id).collect::<Vec<_>>(), [USER_URN, ENTERPRISE_USER_URN, GROUP_URN]);
    }
}
