//! The SCIM filter language (RFC 7644 §3.4.2.2, ABNF in its Figure 1) parsed into the
//! dialect-independent `model::filter::Filter`.
//!
//! A hand-written recursive-descent parser. Precedence is `not` > `and` > `or`; operators,
//! keywords and `true`/`false`/`null` are case-insensitive; string values are JSON strings with
//! JSON escapes; whitespace between tokens may be any run of spaces, tabs or newlines (the RFC's
//! own examples wrap lines). Input is bounded (`MAX_LEN` bytes, `MAX_DEPTH` nested groups,
//! `MAX_EXPRESSIONS` comparisons), so recursion depth is bounded and no input can exhaust the stack.
//!
//! One extension to the ABNF: `emails[type eq "work"].value eq "x"` (Microsoft Entra ID sends
//! it) is read as `emails[type eq "work" and value eq "x"]`.

use crate::model::filter::{AttrPath, CompareOp, Filter, FilterValue};
use std::fmt;

/// Longest filter accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not (…)` and value paths `[…]`.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons (`attr op value` or `attr pr`) in one filter; keeps the compiled SQL under
/// D1's 100 bound parameters.
pub const MAX_EXPRESSIONS: usize = 50;

/// A filter that does not parse. The dialect renders it as scimType `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub detail: String,
}

impl FilterError {
    pub const SCIM_TYPE: &'static str = "invalidFilter";
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Parse a whole `filter` query parameter (or `filter` member of a `/.search` body).
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let wrap = |m: String| FilterError { detail: format!("invalid filter: {m}") };
    let mut p = Parser::new(input).map_err(wrap)?;
    let filter = p.expression(false).map_err(wrap)?;
    p.finish().map_err(wrap)?;
    Ok(filter)
}

/// The parser state, shared with the PATCH path parser (`super::path`).
pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    expressions: usize,
}

type Parsed<T> = Result<T, String>;

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Parsed<Self> {
        if src.len() > MAX_LEN {
            return Err(format!("longer than {MAX_LEN} bytes"));
        }
        Ok(Self { src, pos: 0, depth: 0, expressions: 0 })
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn peek_is(&self, byte: u8) -> bool {
        self.peek() == Some(byte)
    }

    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Skip whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// 1-based character position, for messages.
    fn at(&self) -> String {
        format!("at character {}", self.src.char_indices().take_while(|(i, _)| *i < self.pos).count() + 1)
    }

    fn expect(&mut self, byte: u8) -> Parsed<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!("expected '{}' {}", byte as char, self.at()))
        }
    }

    /// Nothing but whitespace may remain.
    pub(crate) fn finish(&mut self) -> Parsed<()> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(format!("unexpected '{}' {}", self.rest_preview(), self.at())),
        }
    }

    fn rest_preview(&self) -> String {
        self.src.get(self.pos..).unwrap_or("").chars().take(20).collect()
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    /// Consume `kw` (any case) if it is the next whole word.
    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.pos + kw.len();
        let Some(word) = self.src.get(self.pos..end) else { return false };
        let boundary = !matches!(self.src.as_bytes().get(end), Some(b) if is_name_byte(*b));
        if word.eq_ignore_ascii_case(kw) && boundary {
            self.pos = end;
            return true;
        }
        false
    }

    /// `FILTER` (or `valFilter` when `relative`): `or` of `and`s of unary terms.
    pub(crate) fn expression(&mut self, relative: bool) -> Parsed<Filter> {
        let mut left = self.conjunction(relative)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.keyword("or") {
                left = Filter::or(left, self.conjunction(relative)?);
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn conjunction(&mut self, relative: bool) -> Parsed<Filter> {
        let mut left = self.unary(relative)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.keyword("and") {
                left = Filter::and(left, self.unary(relative)?);
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    /// `not (…)`, `(…)`, or a comparison.
    fn unary(&mut self, relative: bool) -> Parsed<Filter> {
        self.skip_ws();
        let save = self.pos;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some(b'(') {
                return Ok(Filter::not(self.group(relative)?));
            }
            // An attribute that happens to be called `not…`.
            self.pos = save;
        }
        if self.peek() == Some(b'(') {
            return self.group(relative);
        }
        self.comparison(relative)
    }

    fn group(&mut self, relative: bool) -> Parsed<Filter> {
        self.expect(b'(')?;
        self.enter()?;
        let inner = self.expression(relative)?;
        self.skip_ws();
        self.expect(b')')?;
        self.depth -= 1;
        Ok(inner)
    }

    /// `attrPath pr`, `attrPath op value`, or a value path `attr[…]` (optionally `.sub op value`).
    fn comparison(&mut self, relative: bool) -> Parsed<Filter> {
        self.expressions += 1;
        if self.expressions > MAX_EXPRESSIONS {
            return Err(format!("more than {MAX_EXPRESSIONS} comparisons"));
        }
        let path = self.attr_path(relative)?;
        if self.peek() == Some(b'[') {
            if relative {
                return Err(format!("a value filter cannot contain another value path {}", self.at()));
            }
            return self.value_path(path);
        }
        self.operation(path)
    }

    /// After an attribute path: ` pr` or ` op value`.
    fn operation(&mut self, path: AttrPath) -> Parsed<Filter> {
        if !self.skip_ws() {
            return Err(format!("expected an operator after '{path}' {}", self.at()));
        }
        if self.keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let op = CompareOp::parse(word).ok_or_else(|| {
            self.pos = start;
            format!("unknown operator '{word}' after '{path}' {}", self.at())
        })?;
        if !self.skip_ws() {
            return Err(format!("expected a value after '{path} {word}' {}", self.at()));
        }
        let value = self.value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn value_path(&mut self, attr: AttrPath) -> Parsed<Filter> {
        if attr.sub_attr.is_some() {
            return Err(format!("a value path names a multi-valued attribute, not '{attr}' {}", self.at()));
        }
        let inner = self.bracketed_filter()?;
        if !self.eat(b'.') {
            return Ok(Filter::value_path(attr, inner));
        }
        let sub = AttrPath::new(&self.attr_name()?);
        let tail = self.operation(sub)?;
        Ok(Filter::value_path(attr, Filter::and(inner, tail)))
    }

    /// `[valFilter]`, the brackets included.
    pub(crate) fn bracketed_filter(&mut self) -> Parsed<Filter> {
        self.expect(b'[')?;
        self.enter()?;
        let inner = self.expression(true)?;
        self.skip_ws();
        self.expect(b']')?;
        self.depth -= 1;
        Ok(inner)
    }

    /// `[URI ":"] ATTRNAME ["." ATTRNAME]`; `relative` (inside a value filter) allows neither
    /// the URN nor the sub-attribute.
    pub(crate) fn attr_path(&mut self, relative: bool) -> Parsed<AttrPath> {
        let start = self.pos;
        while matches!(self.peek(), Some(b) if is_name_byte(b) || b == b':' || b == b'.') {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        if text.is_empty() {
            return Err(format!("expected an attribute name {}", self.at()));
        }
        let path = split_path(text).map_err(|m| format!("{m} in '{text}' {}", self.at()))?;
        if relative && (path.urn.is_some() || path.sub_attr.is_some()) {
            return Err(format!("a value filter names sub-attributes only, not '{text}' {}", self.at()));
        }
        Ok(path)
    }

    /// A single `ATTRNAME` (after `].`).
    pub(crate) fn attr_name(&mut self) -> Parsed<String> {
        let start = self.pos;
        while matches!(self.peek(), Some(b) if is_name_byte(b)) {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        check_name(name).map_err(|m| format!("{m} {}", self.at()))?;
        Ok(name.to_string())
    }

    /// `compValue`: a JSON string, number, `true`, `false` or `null`, followed by a delimiter.
    fn value(&mut self) -> Parsed<FilterValue> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'"') => FilterValue::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => FilterValue::Num(self.number()?),
            _ if self.keyword("true") => FilterValue::Bool(true),
            _ if self.keyword("false") => FilterValue::Bool(false),
            _ if self.keyword("null") => FilterValue::Null,
            _ => return Err(format!("expected a value (a \"string\", number, true, false or null) {}", self.at())),
        };
        if !matches!(self.peek(), None | Some(b' ' | b'\t' | b'\n' | b'\r' | b')' | b']')) {
            self.pos = start;
            return Err(format!("malformed value '{}' {}", self.rest_preview(), self.at()));
        }
        Ok(value)
    }

    fn string(&mut self) -> Parsed<String> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(format!("unterminated string {}", self.at()));
                }
                Some(b'\\') => self.pos += 2,
                Some(b'"') => break,
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        let lexeme = self.src.get(start..self.pos).unwrap_or("");
        serde_json::from_str(lexeme).map_err(|e| {
            self.pos = start;
            format!("invalid string ({e}) {}", self.at())
        })
    }

    fn number(&mut self) -> Parsed<serde_json::Number> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
            self.pos += 1;
        }
        // JSON's grammar, then one canonical value: an integer stays exact; anything else is a
        // finite double (serde_json keeps the digits as written otherwise, so `-1.5e3` and
        // `-1500.0` would differ and `1e999` would pass).
        let text = &self.src[start..self.pos];
        let parsed: Option<serde_json::Number> = serde_json::from_str::<serde_json::Number>(text).ok().and_then(|n| {
            if let Some(i) = n.as_i64() {
                Some(i.into())
            } else if let Some(u) = n.as_u64() {
                Some(u.into())
            } else {
                n.as_f64().filter(|f| f.is_finite()).and_then(serde_json::Number::from_f64)
            }
        });
        parsed.ok_or_else(|| {
            self.pos = start;
            format!("invalid number '{}' {}", self.rest_preview(), self.at())
        })
    }
}

/// Bytes of an `ATTRNAME` (RFC 7644 Figure 1: ALPHA, DIGIT, `-`, `_`), plus `$` for `$ref`.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$')
}

/// `ATTRNAME = ALPHA *(nameChar)`, and `$ref` (RFC 7643 §2.1 names it as the exception).
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.eq_ignore_ascii_case("$ref")
        || (name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else if name.is_empty() {
        Err("expected an attribute name".into())
    } else {
        Err(format!("'{name}' is not an attribute name"))
    }
}

/// Split `urn:…:Resource:attr.sub` at the last colon (the URN itself contains colons and dots,
/// the attribute part contains no colon) and then at the dot.
pub(crate) fn split_path(text: &str) -> Result<AttrPath, String> {
    let (urn, rest) = match text.rfind(':') {
        Some(i) => {
            let urn = &text[..i];
            if !urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) || urn.len() <= 4 {
                return Err("a schema prefix must be a URN".into());
            }
            (Some(urn.to_string()), &text[i + 1..])
        }
        None => (None, text),
    };
    let mut parts = rest.split('.');
    let attr = parts.next().unwrap_or("");
    let sub = parts.next();
    if parts.next().is_some() {
        return Err("at most one sub-attribute may follow the attribute".into());
    }
    check_name(attr)?;
    if let Some(sub) = sub {
        check_name(sub)?;
    }
    Ok(AttrPath { urn, attr: attr.to_string(), sub_attr: sub.map(str::to_string) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::filter::CompareOp::*;

    fn s(v: &str) -> FilterValue {
        FilterValue::Str(v.into())
    }
    fn p(attr: &str) -> AttrPath {
        AttrPath::new(attr)
    }
    fn ps(attr: &str, sub: &str) -> AttrPath {
        AttrPath::with_sub(attr, sub)
    }
    fn cmp(path: AttrPath, op: CompareOp, value: FilterValue) -> Filter {
        Filter::compare(path, op, value)
    }
    const LAST_MODIFIED: &str = "2011-05-13T04:42:34Z";

    /// Every example filter of RFC 7644 §3.4.2.2, verbatim (line breaks as in the RFC).
    #[test]
    fn rfc7644_examples() {
        let core_user = "urn:ietf:params:scim:schemas:core:2.0:User";
        let work_example = || Filter::and(cmp(p("type"), Eq, s("work")), cmp(p("value"), Co, s("@example.com")));
        let cases: Vec<(&str, Filter)> = vec![
            (r#"userName eq "bjensen""#, cmp(p("userName"), Eq, s("bjensen"))),
            (r#"name.familyName co "O'Malley""#, cmp(ps("name", "familyName"), Co, s("O'Malley"))),
            (r#"userName sw "J""#, cmp(p("userName"), Sw, s("J"))),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                cmp(AttrPath { urn: Some(core_user.into()), attr: "userName".into(), sub_attr: None }, Sw, s("J")),
            ),
            ("title pr", Filter::Present(p("title"))),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, cmp(ps("meta", "lastModified"), Gt, s(LAST_MODIFIED))),
            (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, cmp(ps("meta", "lastModified"), Ge, s(LAST_MODIFIED))),
            (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, cmp(ps("meta", "lastModified"), Lt, s(LAST_MODIFIED))),
            (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, cmp(ps("meta", "lastModified"), Le, s(LAST_MODIFIED))),
            (
                r#"title pr and userType eq "Employee""#,
                Filter::and(Filter::Present(p("title")), cmp(p("userType"), Eq, s("Employee"))),
            ),
            (r#"title pr or userType eq "Intern""#, Filter::or(Filter::Present(p("title")), cmp(p("userType"), Eq, s("Intern")))),
            (
                "\n schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
                cmp(p("schemas"), Eq, s("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")),
            ),
            (
                "userType eq \"Employee\" and (emails co \"example.com\" or\n  emails.value co \"example.org\")",
                Filter::and(
                    cmp(p("userType"), Eq, s("Employee")),
                    Filter::or(cmp(p("emails"), Co, s("example.com")), cmp(ps("emails", "value"), Co, s("example.org"))),
                ),
            ),
            (
                "userType ne \"Employee\" and not (emails co \"example.com\" or\n  emails.value co \"example.org\")",
                Filter::and(
                    cmp(p("userType"), Ne, s("Employee")),
                    Filter::not(Filter::or(
                        cmp(p("emails"), Co, s("example.com")),
                        cmp(ps("emails", "value"), Co, s("example.org")),
                    )),
                ),
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                Filter::and(cmp(p("userType"), Eq, s("Employee")), cmp(ps("emails", "type"), Eq, s("work"))),
            ),
            (
                "userType eq \"Employee\" and emails[type eq \"work\" and\n  value co \"@example.com\"]",
                Filter::and(cmp(p("userType"), Eq, s("Employee")), Filter::value_path(p("emails"), work_example())),
            ),
            (
                "emails[type eq \"work\" and value co \"@example.com\"] or\n  ims[type eq \"xmpp\" and value co \"@foo.com\"]",
                Filter::or(
                    Filter::value_path(p("emails"), work_example()),
                    Filter::value_path(p("ims"), Filter::and(cmp(p("type"), Eq, s("xmpp")), cmp(p("value"), Co, s("@foo.com")))),
                ),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn okta_and_entra_shapes() {
        assert_eq!(parse(r#"userName eq "ada@acme.test""#), Ok(cmp(p("userName"), Eq, s("ada@acme.test"))));
        assert_eq!(parse(r#"externalId eq "00u1abcd""#), Ok(cmp(p("externalId"), Eq, s("00u1abcd"))));
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "ada@acme.test""#),
            Ok(Filter::value_path(
                p("emails"),
                Filter::and(cmp(p("type"), Eq, s("work")), cmp(p("value"), Eq, s("ada@acme.test")))
            ))
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value pr"#),
            Ok(Filter::value_path(p("emails"), Filter::and(cmp(p("type"), Eq, s("work")), Filter::Present(p("value")))))
        );
        assert_eq!(
            parse(r#"displayName eq "Sales Team""#),
            Ok(cmp(p("displayName"), Eq, s("Sales Team"))),
            "group lookup by name"
        );
        assert_eq!(
            parse(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
            Ok(Filter::value_path(p("members"), cmp(p("value"), Eq, s("2819c223-7f76-453a-919d-413861904646"))))
        );
    }

    #[test]
    fn extension_urns() {
        let f = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#).unwrap();
        let Filter::Compare { path, .. } = f else { panic!("{f:?}") };
        assert_eq!(path.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!((path.attr.as_str(), path.sub_attr), ("employeeNumber", None));

        let f = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#).unwrap();
        let Filter::Compare { path, .. } = f else { panic!("{f:?}") };
        assert_eq!((path.attr.as_str(), path.sub_attr.as_deref()), ("manager", Some("value")));
    }

    #[test]
    fn keywords_and_operators_ignore_case() {
        assert_eq!(parse(r#"userName EQ "x""#), Ok(cmp(p("userName"), Eq, s("x"))));
        assert_eq!(
            parse(r#"title PR And userType Eq "E" OR NOT (active eq TRUE)"#),
            Ok(Filter::or(
                Filter::and(Filter::Present(p("title")), cmp(p("userType"), Eq, s("E"))),
                Filter::not(cmp(p("active"), Eq, FilterValue::Bool(true)))
            ))
        );
        assert_eq!(parse("x eq False"), Ok(cmp(p("x"), Eq, FilterValue::Bool(false))));
        assert_eq!(parse("x eq null"), Ok(cmp(p("x"), Eq, FilterValue::Null)));
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let (a, b, c) = (Filter::Present(p("a")), Filter::Present(p("b")), Filter::Present(p("c")));
        assert_eq!(parse("a pr or b pr and c pr"), Ok(Filter::or(a.clone(), Filter::and(b.clone(), c.clone()))));
        assert_eq!(parse("a pr and b pr or c pr"), Ok(Filter::or(Filter::and(a.clone(), b.clone()), c.clone())));
        assert_eq!(parse("(a pr or b pr) and c pr"), Ok(Filter::and(Filter::or(a.clone(), b.clone()), c.clone())));
        assert_eq!(parse("not (a pr) and b pr"), Ok(Filter::and(Filter::not(a.clone()), b.clone())));
        assert_eq!(parse("not(a pr)"), Ok(Filter::not(a.clone())), "no space before the parenthesis");
        assert_eq!(
            parse("a pr and b pr and c pr"),
            Ok(Filter::and(Filter::and(a.clone(), b.clone()), c.clone())),
            "left-associative"
        );
        assert_eq!(parse("  ((a pr))  "), Ok(a));
    }

    #[test]
    fn values() {
        let v = |f: &str| match parse(f).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(v(r#"a eq "O\u0027Malley \"q\" \\ \/ \n""#), s("O'Malley \"q\" \\ / \n"));
        assert_eq!(v(r#"a eq "\ud83d\ude00 é""#), s("😀 é"));
        assert_eq!(v(r#"a eq "a)b]c" "#), s("a)b]c"));
        assert_eq!(v("a eq 42"), FilterValue::Num(42.into()));
        assert_eq!(v("a gt -1.5e3"), FilterValue::Num(serde_json::Number::from_f64(-1500.0).unwrap()));
        assert_eq!(v(r#"a eq """#), s(""));
        assert_eq!(v("quota gt 1.5"), FilterValue::Num(serde_json::Number::from_f64(1.5).unwrap()));
    }

    #[test]
    fn odd_but_valid_names() {
        assert!(parse("notes pr").is_ok(), "an attribute starting with 'not'");
        assert!(parse("not pr").is_ok(), "an attribute called 'not'");
        assert!(parse("order pr or andy pr").is_ok());
        assert!(parse(r#"members[$ref eq "x"]"#).is_ok());
        assert!(parse("x-y_z pr").is_ok());
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = |f: &str| parse(f).unwrap_err().detail;
        for (input, needle) in [
            ("", "expected an attribute name"),
            ("userName", "expected an operator"),
            ("userName eq", "expected a value"),
            (r#"userName xx "a""#, "unknown operator 'xx'"),
            (r#"userName eq "a"#, "unterminated string"),
            (r#"userName eq 'a'"#, "expected a value"),
            (r#"userName eq "a"b"#, "malformed value"),
            ("userName eq bjensen", "expected a value"),
            (r#"userName eq "a" and"#, "expected an attribute name"),
            (r#"userName eq "a" xor b pr"#, "unexpected 'xor b pr'"),
            (r#"(userName eq "a""#, "expected ')'"),
            (r#"userName eq "a")"#, "unexpected ')'"),
            (r#"emails[type eq "work""#, "expected ']'"),
            (r#"emails[emails.type eq "work"]"#, "sub-attributes only"),
            (r#"emails[x[y pr]]"#, "another value path"),
            ("name.a.b pr", "at most one sub-attribute"),
            ("1abc pr", "not an attribute name"),
            ("foo:bar pr", "must be a URN"),
            ("urn: pr", "must be a URN"),
            ("a eq 1.2.3", "invalid number"),
            ("a eq 1e999", "invalid number"),
            (r#"a eq "\x""#, "invalid string"),
            ("a eq \"\u{1}\"", "invalid string"),
            ("a pr and not b pr", "unknown operator 'b'"),
            (r#"emails[type eq "work"]. eq "x""#, "expected an attribute name"),
        ] {
            let e = err(input);
            assert!(e.contains(needle), "{input:?}: {e}");
            assert!(e.starts_with("invalid filter: "), "{e}");
        }
        assert!(err("userName eq").contains("at character 12"), "{}", err("userName eq"));
        assert_eq!(FilterError::SCIM_TYPE, "invalidFilter");
    }

    #[test]
    fn limits() {
        let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_LEN));
        assert!(parse(&long).unwrap_err().detail.contains("longer than 4096"));
        let deep = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&deep).is_ok());
        let deeper = format!("{}a pr{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse(&deeper).unwrap_err().detail.contains("nested deeper"));
        let nots = format!("{}a pr{}", "not (".repeat(200), ")".repeat(200));
        assert!(parse(&nots).unwrap_err().detail.contains("nested deeper"));
        let many = vec!["a pr"; MAX_EXPRESSIONS].join(" and ");
        assert!(parse(&many).is_ok());
        let too_many = vec!["a pr"; MAX_EXPRESSIONS + 1].join(" or ");
        assert!(parse(&too_many).unwrap_err().detail.contains("more than 50 comparisons"));
    }
}
