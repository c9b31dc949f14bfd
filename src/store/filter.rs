//! Compile a `model::filter::Filter` to a parameterized SQL `WHERE` fragment.
//!
//! The caller says which SQL expression stands for each attribute (a `Column`); the SQL built
//! holds only those expressions, fixed keywords and `?` placeholders, never text from the
//! filter. Every fragment evaluates to 0 or 1, never NULL (each comparison is guarded with
//! `IS NOT NULL`), so `not (…)` of a comparison on an absent attribute is true, as a client
//! expects, rather than SQL's unknown.
//!
//! Case: `Text { case_exact: false }` compares with SQLite's `NOCASE` collation and `LIKE`,
//! both of which fold ASCII letters only, so `É` and `é` differ there. Where one name must be
//! found however it is spelled (a `userName`, which is unique on its comparison key), the store
//! keeps that key in a column and maps the attribute as `Username`: `eq` compares the value's key
//! with it exactly. An email is matched the same way where the store keeps its key (the user's
//! address among its `emails`).

use super::SqlValue;
use crate::model::filter::{AttrPath, CompareOp, Filter, FilterValue};
use std::fmt;

/// Most `?` placeholders a compiled filter may use (D1 allows 100 per statement; the rest is
/// left for the query around it).
pub const MAX_PARAMS: usize = 64;
/// Deepest filter tree compiled.
pub const MAX_DEPTH: usize = 128;

/// How the values of a column compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text; not `case_exact`: ASCII case-insensitive (`COLLATE NOCASE`, `LIKE`); `case_exact`:
    /// binary (`=`, `GLOB`).
    Text {
        case_exact: bool,
    },
    /// A username, text compared as `Text { case_exact: false }` but for `eq` / `ne`, which compare
    /// its comparison key (`key`, the column of `values::Username::canonical_key`) with the value's:
    /// the filter finds exactly the user that uniqueness would say the name belongs to
    /// (`ÑANDÚ`, fullwidth `ＡＤＡ`, NFD `élodie`), as Okta's and Entra's look-up before create
    /// needs. A value that is no username matches nobody.
    Username {
        key: &'static str,
    },
    /// A name unique under its comparison key (a group's `displayName`), text compared as
    /// `Text { case_exact: false }` but for `eq` / `ne`, which compare the key (`key`, the column
    /// of `values::caseless_key`) with the value's: `displayName eq "ÄRZTE"` finds `Ärzte`, the
    /// group uniqueness says the name belongs to.
    Caseless {
        key: &'static str,
    },
    /// An email inside a user's list of addresses, text compared as `Text { case_exact: false }`,
    /// but `eq` also matches the element that is the user's address (`canonical`, the `users.email`
    /// column) when the value's comparison key (`values::Email::canonical_key`) is the stored
    /// `key`: `ÉLODIE@MÜNCHEN.example` finds `élodie@münchen.example`, as uniqueness would say.
    Email {
        key: &'static str,
        canonical: &'static str,
    },
    /// 0 or 1 (JSON `true`/`false` inside a JSON array read as 1/0 by `json_extract`).
    Bool,
    /// RFC 3339 UTC text shaped as `values::rfc3339_millis` writes it
    /// (`2025-03-25T16:00:34.438Z`), so that text order is time order.
    DateTime,
    Int,
}

impl ColumnType {
    /// The SCIM type name with its article, for messages.
    fn name(self) -> &'static str {
        match self {
            ColumnType::Text { .. } | ColumnType::Username { .. } | ColumnType::Caseless { .. } | ColumnType::Email { .. } => {
                "a string"
            }
            ColumnType::Bool => "a boolean",
            ColumnType::DateTime => "a dateTime",
            ColumnType::Int => "an integer",
        }
    }
}

/// A filterable sub-attribute of a multi-valued attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubColumn {
    /// The key in each JSON object, as stored (canonical case); matched case-insensitively.
    pub name: &'static str,
    pub ty: ColumnType,
}

/// What an attribute is in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A scalar SQL expression (usually a column; index it for the attributes clients match on).
    Scalar { expr: &'static str, ty: ColumnType },
    /// A JSON array of objects (`json_extract(scim, '$.emails')`), searched with `json_each`.
    /// Without a sub-attribute, a comparison is on `value` (RFC 7644 §3.4.2.2's
    /// `emails co "example.com"`).
    Multi { json_expr: &'static str, subs: &'static [SubColumn] },
    /// A correlated `SELECT` whose rows are the values, one column per sub-attribute (a group's
    /// members from `group_members`): searched row by row, never built into one JSON value, which
    /// D1 caps at 2,000,000 bytes (a large group's members would not fit).
    Rows { select: &'static str, subs: &'static [SubColumn] },
}

/// Where a multi-valued attribute's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Json(&'static str),
    Rows(&'static str),
}

impl Source {
    fn of(column: Column) -> Option<(Source, &'static [SubColumn])> {
        match column {
            Column::Scalar { .. } => None,
            Column::Multi { json_expr, subs } => Some((Source::Json(json_expr), subs)),
            Column::Rows { select, subs } => Some((Source::Rows(select), subs)),
        }
    }

    /// Whether any value satisfies `cond` (over the value's alias, `ELEMENT`).
    fn exists(self, cond: &str) -> String {
        match self {
            Source::Json(json_expr) => format!("EXISTS (SELECT 1 FROM json_each({json_expr}) AS {ELEMENT} WHERE {cond})"),
            Source::Rows(select) => format!("EXISTS (SELECT 1 FROM ({select}) AS {ELEMENT} WHERE {cond})"),
        }
    }

    /// A sub-attribute of the value: `json_extract(je.value, '$."type"')`, for object values
    /// only (`json_extract` raises an error on a value that is not JSON, such as a bare string in
    /// the array), or the row's column `je."type"`. The name comes from the caller's static map,
    /// never from the filter; it is checked anyway, so no name could ever break out of the SQL.
    fn element(self, name: &str) -> Result<String, CompileError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$')) {
            return Err(CompileError::new(format!("sub-attribute name '{name}' is not searchable")));
        }
        Ok(match self {
            Source::Json(_) => {
                format!("(CASE WHEN {ELEMENT}.type = 'object' THEN json_extract({ELEMENT}.value, '$.\"{name}\"') END)")
            }
            Source::Rows(_) => format!("{ELEMENT}.\"{name}\""),
        })
    }
}

/// A filter that cannot be compiled: an attribute that is unknown or not searchable, or a value
/// or operator that does not fit it. The dialect renders it as scimType `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub detail: String,
}

impl CompileError {
    pub const SCIM_TYPE: &'static str = "invalidFilter";
    fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into() }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The alias of the `json_each` row inside a multi-valued match.
const ELEMENT: &str = "je";

/// A WHERE fragment and its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Fragment {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params }
    }
}

/// Compile `filter`; `map` says what each attribute path is in SQL (`None`: not filterable).
/// For a multi-valued attribute, `map` is asked with the path as written (`emails.value`,
/// `emails`) and answers with the `Multi` column; the sub-attribute is looked up in its `subs`.
pub fn compile(filter: &Filter, map: &dyn Fn(&AttrPath) -> Option<Column>) -> Result<Fragment, CompileError> {
    let mut c = Compiler { map, params: Vec::new() };
    let sql = c.node(filter, None, 0)?;
    if c.params.len() > MAX_PARAMS {
        return Err(CompileError::new(format!("filter too complex: more than {MAX_PARAMS} values")));
    }
    Ok(Fragment::new(sql, c.params))
}

struct Compiler<'m> {
    map: &'m dyn Fn(&AttrPath) -> Option<Column>,
    params: Vec<SqlValue>,
}

/// What a path names: an expression to compare (directly, or on each value of a JSON array).
enum Target {
    Direct { expr: String, ty: ColumnType },
    InArray { source: Source, expr: String, ty: ColumnType },
    WholeArray { source: Source, subs: &'static [SubColumn] },
}

/// Inside a value path (`emails[type eq "work"]`): the values searched and their sub-attributes.
type Scope = Option<(Source, &'static [SubColumn])>;

impl Compiler<'_> {
    /// `scope`: inside a value path, the sub-attributes its paths name.
    fn node(&mut self, f: &Filter, scope: Scope, depth: usize) -> Result<String, CompileError> {
        if depth > MAX_DEPTH {
            return Err(CompileError::new(format!("filter nested deeper than {MAX_DEPTH} levels")));
        }
        let sql = match f {
            Filter::And(a, b) => format!("({} AND {})", self.node(a, scope, depth + 1)?, self.node(b, scope, depth + 1)?),
            Filter::Or(a, b) => format!("({} OR {})", self.node(a, scope, depth + 1)?, self.node(b, scope, depth + 1)?),
            Filter::Not(a) => format!("(NOT {})", self.node(a, scope, depth + 1)?),
            Filter::Present(path) => match self.target(path, scope)? {
                Target::WholeArray { source, .. } => source.exists("1"),
                Target::Direct { expr, ty } => present(&expr, ty),
                Target::InArray { source, expr, ty } => source.exists(&present(&expr, ty)),
            },
            Filter::Compare { path, op, value } => match self.target(path, scope)? {
                Target::Direct { expr, ty } => self.compare(&expr, ty, *op, value, path)?,
                Target::InArray { source, expr, ty } => {
                    let cond = self.compare(&expr, ty, *op, value, path)?;
                    source.exists(&cond)
                }
                // `emails co "x"`: compares the values' `value` (RFC 7644 §3.4.2.2).
                Target::WholeArray { source, subs } => {
                    let sub = find_sub(subs, "value").ok_or_else(|| unknown(path))?;
                    let cond = self.compare(&source.element(sub.name)?, sub.ty, *op, value, path)?;
                    source.exists(&cond)
                }
            },
            Filter::ValuePath { attr, filter } => {
                let (Some((source, subs)), None) = ((self.map)(attr).and_then(Source::of), scope) else {
                    return Err(match (self.map)(attr) {
                        Some(_) => CompileError::new(format!("'{attr}' is not a multi-valued attribute that can be filtered")),
                        None => unknown(attr),
                    });
                };
                let cond = self.node(filter, Some((source, subs)), depth + 1)?;
                source.exists(&cond)
            }
        };
        Ok(sql)
    }

    fn target(&self, path: &AttrPath, scope: Scope) -> Result<Target, CompileError> {
        if let Some((source, subs)) = scope {
            let sub = (path.urn.is_none() && path.sub_attr.is_none()).then(|| find_sub(subs, &path.attr)).flatten();
            let sub = sub.ok_or_else(|| unknown(path))?;
            return Ok(Target::Direct { expr: source.element(sub.name)?, ty: sub.ty });
        }
        let column = (self.map)(path).ok_or_else(|| unknown(path))?;
        if let Column::Scalar { expr, ty } = column {
            return Ok(Target::Direct { expr: expr.to_string(), ty });
        }
        let (source, subs) = Source::of(column).ok_or_else(|| unknown(path))?;
        let Some(sub_name) = &path.sub_attr else { return Ok(Target::WholeArray { source, subs }) };
        let sub = find_sub(subs, sub_name).ok_or_else(|| unknown(path))?;
        Ok(Target::InArray { source, expr: source.element(sub.name)?, ty: sub.ty })
    }

    fn bind(&mut self, v: SqlValue) {
        self.params.push(v);
    }

    fn compare(
        &mut self,
        expr: &str,
        ty: ColumnType,
        op: CompareOp,
        value: &FilterValue,
        path: &AttrPath,
    ) -> Result<String, CompileError> {
        if op == CompareOp::Ne {
            return Ok(format!("(NOT {})", self.compare(expr, ty, CompareOp::Eq, value, path)?));
        }
        let mismatch = || CompileError::new(format!("'{path} {} {value}': '{path}' is {} attribute", op.as_str(), ty.name()));
        match (ty, value) {
            (_, FilterValue::Null) if op == CompareOp::Eq => Ok(format!("(NOT {})", present(expr, ty))),
            (_, FilterValue::Null) => {
                Err(CompileError::new(format!("'{path} {} null': null compares with eq or ne only", op.as_str())))
            }
            (ColumnType::Text { case_exact }, FilterValue::Str(s)) => Ok(self.text(expr, case_exact, op, s)),
            (ColumnType::Username { key }, FilterValue::Str(s)) if op == CompareOp::Eq => {
                match crate::values::Username::parse(s) {
                    Ok(name) => {
                        self.bind(SqlValue::Text(name.canonical_key()));
                        Ok(guarded(key, "= ?"))
                    }
                    Err(_) => Ok("(0)".into()),
                }
            }
            (ColumnType::Username { .. }, FilterValue::Str(s)) => Ok(self.text(expr, false, op, s)),
            (ColumnType::Caseless { key }, FilterValue::Str(s)) if op == CompareOp::Eq => {
                // A row without its key yet (written before keys were, until the sweep gives it
                // one: `groups::key_legacy_names`) compares its text as it did then.
                self.bind(SqlValue::Text(crate::values::caseless_key(s)));
                let spelled = self.text(expr, false, op, s);
                Ok(format!("({} OR (({key} IS NULL OR {key} GLOB '{LEGACY}*') AND {spelled}))", guarded(key, "= ?")))
            }
            (ColumnType::Caseless { .. }, FilterValue::Str(s)) => Ok(self.text(expr, false, op, s)),
            (ColumnType::Email { key, canonical }, FilterValue::Str(s)) if op == CompareOp::Eq => {
                let spelled = self.text(expr, false, op, s);
                match crate::values::Email::parse(s) {
                    Ok(email) => {
                        self.bind(SqlValue::Text(email.canonical_key()));
                        Ok(format!("({spelled} OR ({expr} = {canonical} AND {}))", guarded(key, "= ?")))
                    }
                    Err(_) => Ok(spelled),
                }
            }
            (ColumnType::Email { .. }, FilterValue::Str(s)) => Ok(self.text(expr, false, op, s)),
            (ColumnType::Bool, FilterValue::Bool(b)) if op == CompareOp::Eq => {
                self.bind(SqlValue::Int(i64::from(*b)));
                Ok(guarded(expr, "= ?"))
            }
            (ColumnType::DateTime, FilterValue::Str(s)) if !op.is_substring() => {
                let at = crate::values::instant::parse_rfc3339(s)
                    .ok_or_else(|| CompileError::new(format!("'{path}': \"{s}\" is not an RFC 3339 date-time")))?;
                Ok(self.date_time(expr, op, at, whole_millisecond(s)))
            }
            (ColumnType::Int, FilterValue::Num(n)) if !op.is_substring() => {
                let n = n.as_i64().ok_or_else(|| CompileError::new(format!("'{path}': {n} is not an integer")))?;
                self.bind(SqlValue::Int(n));
                Ok(guarded(expr, &format!("{} ?", sql_operator(op))))
            }
            _ => Err(mismatch()),
        }
    }

    /// A comparison with an instant. The store writes instants as UTC text to the millisecond in
    /// years 0000–9999 (`Instant::utc_text`), whose text order is their time order; `at` may be
    /// finer than a millisecond or outside those years, so it is compared as the instant it is:
    /// a stored time is after `at` exactly when it is after `at`'s millisecond, rounded down, and
    /// none equals it unless `at` is a whole millisecond. Beyond the years stored, `''` sorts
    /// before every stored time and `'~'` after.
    fn date_time(&mut self, expr: &str, op: CompareOp, at: crate::values::instant::Instant, whole_ms: bool) -> String {
        use crate::values::instant::{FIRST_MS, LAST_MS};
        let ms = at.unix_millis();
        let (bound, whole) = match ms {
            ..FIRST_MS => (String::new(), true),
            FIRST_MS..=LAST_MS => (at.utc_text(), whole_ms),
            _ => ("~".to_string(), true),
        };
        let op = match (op, whole) {
            (_, true) => sql_operator(op),
            (CompareOp::Eq, false) => return "(0)".into(),
            (CompareOp::Gt | CompareOp::Ge, false) => ">",
            (_, false) => "<=",
        };
        self.bind(SqlValue::Text(bound));
        guarded(expr, &format!("{op} ?"))
    }

    /// A text comparison; substring matches escape the pattern so the value matches literally.
    fn text(&mut self, expr: &str, case_exact: bool, op: CompareOp, s: &str) -> String {
        if op.is_substring() && s.is_empty() {
            return format!("({expr} IS NOT NULL)");
        }
        if op.is_substring() {
            let pattern = if case_exact { glob_pattern(op, s) } else { like_pattern(op, s) };
            if pattern.len() > MAX_PATTERN_BYTES {
                return self.substring(expr, case_exact, op, s);
            }
            self.bind(SqlValue::Text(pattern));
            return guarded(expr, if case_exact { "GLOB ?" } else { "LIKE ? ESCAPE '\\'" });
        }
        self.bind(SqlValue::Text(s.to_string()));
        let collate = if case_exact { "" } else { " COLLATE NOCASE" };
        guarded(expr, &format!("{} ?{collate}", sql_operator(op)))
    }

    /// `co`, `sw`, `ew` without a pattern, for a value whose pattern D1 would refuse as too long:
    /// the same match (`lower` folds ASCII letters only, as `LIKE` does), without an index.
    fn substring(&mut self, expr: &str, case_exact: bool, op: CompareOp, s: &str) -> String {
        let fold = |e: &str| if case_exact { e.to_string() } else { format!("lower({e})") };
        let (value, hay) = (fold("?"), fold(expr));
        let cond = match op {
            CompareOp::Co => format!("instr({hay}, {value}) > 0"),
            CompareOp::Sw => format!("substr({hay}, 1, length(?)) = {value}"),
            _ => format!("substr({hay}, -length(?)) = {value}"),
        };
        let binds = if op == CompareOp::Co { 1 } else { 2 };
        for _ in 0..binds {
            self.bind(SqlValue::Text(s.to_string()));
        }
        format!("({expr} IS NOT NULL AND {cond})")
    }
}

/// Whether an RFC 3339 date-time names a whole millisecond: no digit of its fraction past the
/// third is other than 0 (the parsed instant keeps nine digits; the text keeps them all).
fn whole_millisecond(s: &str) -> bool {
    let Some((_, fraction)) = s.split_once('.') else { return true };
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    fraction.get(3..digits).is_none_or(|finer| finer.bytes().all(|d| d == b'0'))
}

/// The longest `LIKE` / `GLOB` pattern D1 takes (SQLite's `SQLITE_MAX_LIKE_PATTERN_LENGTH` there;
/// a longer one fails the whole query as "too complex").
const MAX_PATTERN_BYTES: usize = 50;

fn unknown(path: &AttrPath) -> CompileError {
    CompileError::new(format!("cannot filter on '{path}': unknown attribute, or not searchable"))
}

fn find_sub(subs: &'static [SubColumn], name: &str) -> Option<&'static SubColumn> {
    subs.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// `pr`: not null and, for text, not empty (RFC 7644 §3.4.2.2).
fn present(expr: &str, ty: ColumnType) -> String {
    match ty {
        ColumnType::Text { .. } | ColumnType::Username { .. } | ColumnType::Caseless { .. } | ColumnType::Email { .. } => {
            format!("({expr} IS NOT NULL AND {expr} <> '')")
        }
        _ => format!("({expr} IS NOT NULL)"),
    }
}

/// The prefix of a `Caseless` key column's value that is no key (`values::caseless_key` never
/// writes an upper-case letter): a row written before the keys whose key is another row's.
pub const LEGACY: &str = "TWIN:";

/// `expr <cond>`, false (not NULL) when `expr` is NULL.
fn guarded(expr: &str, cond: &str) -> String {
    format!("({expr} IS NOT NULL AND {expr} {cond})")
}

fn sql_operator(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        _ => "=",
    }
}

/// A `LIKE … ESCAPE '\'` pattern matching `s` literally at the start, end or anywhere.
fn like_pattern(op: CompareOp, s: &str) -> String {
    let mut escaped = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    wildcard(op, &escaped, "%")
}

/// A `GLOB` pattern (case-sensitive) matching `s` literally: `*`, `?` and `[` go in brackets.
fn glob_pattern(op: CompareOp, s: &str) -> String {
    let mut escaped = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                escaped.push('[');
                escaped.push(c);
                escaped.push(']');
            }
            _ => escaped.push(c),
        }
    }
    wildcard(op, &escaped, "*")
}

fn wildcard(op: CompareOp, escaped: &str, any: &str) -> String {
    match op {
        CompareOp::Sw => format!("{escaped}{any}"),
        CompareOp::Ew => format!("{any}{escaped}"),
        _ => format!("{any}{escaped}{any}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static EMAIL_SUBS: &[SubColumn] = &[
        SubColumn { name: "value", ty: ColumnType::Text { case_exact: false } },
        SubColumn { name: "primary", ty: ColumnType::Bool },
    ];

    fn map(p: &AttrPath) -> Option<Column> {
        match p.attr.to_ascii_lowercase().as_str() {
            "username" => Some(Column::Scalar { expr: "username", ty: ColumnType::Text { case_exact: false } }),
            "created" => Some(Column::Scalar { expr: "created_at", ty: ColumnType::DateTime }),
            "emails" => Some(Column::Multi { json_expr: "json_extract(scim, '$.emails')", subs: EMAIL_SUBS }),
            _ => None,
        }
    }

    fn eq(attr: &str, v: &str) -> Filter {
        Filter::compare(AttrPath::new(attr), CompareOp::Eq, FilterValue::Str(v.into()))
    }

    #[test]
    fn values_are_bound_never_inlined() {
        let nasty = "x' OR 1=1 --";
        let f = compile(&Filter::or(eq("userName", nasty), Filter::not(eq("userName", "y"))), &map).unwrap();
        assert_eq!(
            f.sql,
            "((username IS NOT NULL AND username = ? COLLATE NOCASE) OR (NOT (username IS NOT NULL AND username = ? COLLATE NOCASE)))"
        );
        assert_eq!(f.params, vec![SqlValue::Text(nasty.into()), SqlValue::Text("y".into())]);
    }

    #[test]
    fn multi_valued_paths_become_exists() {
        let f =
            compile(&Filter::compare(AttrPath::with_sub("emails", "VALUE"), CompareOp::Co, FilterValue::Str("a%".into())), &map)
                .unwrap();
        assert_eq!(
            f.sql,
            "EXISTS (SELECT 1 FROM json_each(json_extract(scim, '$.emails')) AS je WHERE \
             ((CASE WHEN je.type = 'object' THEN json_extract(je.value, '$.\"value\"') END) IS NOT NULL AND \
             (CASE WHEN je.type = 'object' THEN json_extract(je.value, '$.\"value\"') END) LIKE ? ESCAPE '\\'))"
        );
        assert_eq!(f.params, vec![SqlValue::Text("%a\\%%".into())]);
        let f = compile(&Filter::Present(AttrPath::new("emails")), &map).unwrap();
        assert_eq!(f.sql, "EXISTS (SELECT 1 FROM json_each(json_extract(scim, '$.emails')) AS je WHERE 1)");
    }

    #[test]
    fn patterns_escape_wildcards() {
        assert_eq!(like_pattern(CompareOp::Sw, r"50%_\x"), r"50\%\_\\x%");
        assert_eq!(like_pattern(CompareOp::Ew, "a"), "%a");
        assert_eq!(glob_pattern(CompareOp::Co, "a*b?[c]"), "*a[*]b[?][[]c]*");
    }

    #[test]
    fn date_times_compare_as_the_store_writes_them() {
        let at = |op, v: &str| {
            let f = compile(&Filter::compare(AttrPath::new("created"), op, FilterValue::Str(v.into())), &map);
            f.map(|f| (f.sql, f.params))
        };
        let bound = |s: &str| vec![SqlValue::Text(s.into())];
        let guarded = |op: &str| format!("(created_at IS NOT NULL AND created_at {op} ?)");
        assert_eq!(at(CompareOp::Gt, "2011-05-13T04:42:34Z"), Ok((guarded(">"), bound("2011-05-13T04:42:34.000Z"))));
        assert_eq!(at(CompareOp::Eq, "2011-05-13T06:42:34.5+02:00"), Ok((guarded("="), bound("2011-05-13T04:42:34.500Z"))));
        // Finer than the stored millisecond: after it, or at or before it; never equal.
        assert_eq!(at(CompareOp::Ge, "2011-05-13T04:42:34.0001Z"), Ok((guarded(">"), bound("2011-05-13T04:42:34.000Z"))));
        assert_eq!(at(CompareOp::Lt, "2011-05-13T04:42:34.0001Z"), Ok((guarded("<="), bound("2011-05-13T04:42:34.000Z"))));
        assert_eq!(at(CompareOp::Eq, "2011-05-13T04:42:34.0001Z"), Ok(("(0)".into(), vec![])));
        // Past the ninth digit too, where the parsed instant stops; zeros are still whole.
        assert_eq!(at(CompareOp::Eq, "2011-05-13T04:42:34.0000000001Z"), Ok(("(0)".into(), vec![])));
        assert_eq!(
            at(CompareOp::Eq, "2011-05-13T04:42:34.5000000000+02:00"),
            Ok((guarded("="), bound("2011-05-13T02:42:34.500Z")))
        );
        // Beyond the years stored: before or after every stored time.
        assert_eq!(at(CompareOp::Lt, "9999-12-31T23:59:59-00:01"), Ok((guarded("<"), bound("~"))));
        assert_eq!(at(CompareOp::Gt, "0000-01-01T00:00:00+00:01"), Ok((guarded(">"), bound(""))));
        assert!(at(CompareOp::Gt, "2011-05-13").is_err());
    }

    #[test]
    fn bounds() {
        let mut deep = eq("userName", "x");
        for _ in 0..=MAX_DEPTH {
            deep = Filter::not(deep);
        }
        assert!(compile(&deep, &map).unwrap_err().detail.contains("nested deeper"));
        let mut wide = eq("userName", "0");
        for i in 1..=MAX_PARAMS {
            wide = Filter::or(wide, eq("userName", &i.to_string()));
        }
        assert!(compile(&wide, &map).unwrap_err().detail.contains("too complex"));
        assert_eq!(CompileError::SCIM_TYPE, "invalidFilter");
    }
}
