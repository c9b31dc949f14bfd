//! Who may write which canonical field. Each dialect brings a table (rules as data, so the
//! permission matrix can be tested exhaustively); the core invariants in `Field` and here sit on
//! top and no table can relax them.

use crate::model::{Field, Role, Shown};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The user may set it on itself; an admin on anyone in its org.
    SelfService,
    /// Only an admin of the user's org.
    AdminOnly,
    /// The user itself when the request carries proof (current password, reset code);
    /// otherwise only an admin.
    SelfWithProof,
}

/// One dialect's write rules, and which of a user's fields its reads and writes hand back.
#[derive(Debug)]
pub struct Rules {
    pub dialect: &'static str,
    /// Every key of this API is a site-admin key (Konstantly): a user key is refused outright.
    pub admin_keys_only: bool,
    pub fields: &'static [(Field, Access)],
    /// What the dialect renders of a user (`read_user`, `update_user`).
    pub shown: Shown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// A user key aimed at another user of its org.
    NotSelf,
    /// This API takes admin keys only.
    AdminKeyRequired,
    /// Only the operator (its `ADMIN_TOKEN`) may do this: no key, an admin's included.
    OperatorRequired,
    /// These fields may not be written by this caller; the request is refused whole.
    Fields(Vec<Field>),
    /// The key's scopes do not include this API (or it is a `read` key and this is a write).
    OutOfScope,
    /// A key would be issued (or rotated) carrying more than the key asking for it: these of its
    /// fields (`scopes`, `expires_at`) reach further than the caller's own.
    BeyondIssuer(Vec<&'static str>),
}

impl Rules {
    /// The access a field effectively has in this dialect: `None` when the dialect can't write
    /// it at all; core invariants win over the table.
    pub fn access(&self, field: Field) -> Option<Access> {
        let listed = self.fields.iter().find(|(f, _)| *f == field).map(|(_, a)| *a)?;
        Some(if field.admin_only_by_core() { Access::AdminOnly } else { listed })
    }

    /// May a caller with `role` write `touched` on a target (`is_self` when it is the caller)?
    /// `proof_given`: the request proves knowledge of the current password or a reset code.
    pub fn authorize(&self, role: Role, is_self: bool, touched: &[Field], proof_given: bool) -> Result<(), Denial> {
        if self.admin_keys_only && role != Role::Admin {
            return Err(Denial::AdminKeyRequired);
        }
        if role == Role::User && !is_self {
            return Err(Denial::NotSelf);
        }
        let allowed = |f: &Field| match (self.access(*f), role) {
            (None, _) => false,
            (Some(_), Role::Admin) => true,
            (Some(Access::SelfService), Role::User) => true,
            (Some(Access::SelfWithProof), Role::User) => proof_given,
            (Some(Access::AdminOnly), Role::User) => false,
        };
        let denied: Vec<Field> = touched.iter().copied().filter(|f| !allowed(f)).collect();
        if denied.is_empty() {
            Ok(())
        } else {
            Err(Denial::Fields(denied))
        }
    }

    /// Reading follows writing: yourself, or anyone in your org as its admin.
    pub fn authorize_read(&self, role: Role, is_self: bool) -> Result<(), Denial> {
        self.authorize(role, is_self, &[], false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RULES: Rules = Rules {
        dialect: "test",
        admin_keys_only: false,
        fields: &[(Field::Name, Access::SelfService), (Field::Admin, Access::SelfService), (Field::Email, Access::AdminOnly)],
        shown: Shown::All,
    };

    #[test]
    fn core_invariants_override_the_table() {
        assert_eq!(RULES.access(Field::Admin), Some(Access::AdminOnly), "a table can't make admin self-service");
        assert_eq!(RULES.access(Field::Bio), None);
        assert_eq!(
            RULES.authorize(Role::User, true, &[Field::Name, Field::Admin, Field::Email], false),
            Err(Denial::Fields(vec![Field::Admin, Field::Email]))
        );
        assert_eq!(RULES.authorize(Role::Admin, false, &[Field::Name, Field::Admin, Field::Email], false), Ok(()));
        assert_eq!(RULES.authorize(Role::Admin, false, &[Field::Bio], false), Err(Denial::Fields(vec![Field::Bio])));
        assert_eq!(RULES.authorize(Role::User, false, &[Field::Name], false), Err(Denial::NotSelf));
    }

    #[test]
    fn proof_opens_self_with_proof_fields_to_the_user_only() {
        static R: Rules = Rules {
            dialect: "t",
            admin_keys_only: false,
            fields: &[(Field::Password, Access::SelfWithProof)],
            shown: Shown::All,
        };
        assert_eq!(R.authorize(Role::User, true, &[Field::Password], true), Ok(()));
        assert_eq!(R.authorize(Role::User, true, &[Field::Password], false), Err(Denial::Fields(vec![Field::Password])));
        assert_eq!(R.authorize(Role::Admin, false, &[Field::Password], false), Ok(()));
        assert_eq!(R.authorize(Role::User, false, &[Field::Password], true), Err(Denial::NotSelf));
    }
}
