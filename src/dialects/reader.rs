use crate::error::FieldError;
use crate::model::Patch;
use crate::values::FromJson;
use serde_json::{Map, Value};

/// What a JSON `null` means in a dialect: clear the field (most REST APIs), or leave it alone
/// (proto3 JSON, where `null` is how an unset field is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullMeans {
    Clear,
    Keep,
}

/// Reads typed fields out of one JSON object, collecting every error rather than stopping at the
/// first, and reporting whatever it was never asked for as unknown (the mass-assignment defence).
pub struct Reader {
    obj: Map<String, Value>,
    prefix: String,
    null: NullMeans,
    errors: Vec<FieldError>,
}

impl Reader {
    /// `prefix` is how the dialect names this object's fields in errors (`""`, `"profile."`).
    pub fn new(obj: Map<String, Value>, prefix: &str, null: NullMeans) -> Self {
        Self { obj, prefix: prefix.to_string(), null, errors: Vec::new() }
    }

    /// Start from a value that must be an object; a non-object is an error on `name`.
    pub fn object(value: Value, name: &str, prefix: &str, null: NullMeans) -> Result<Self, FieldError> {
        match value {
            Value::Object(obj) => Ok(Self::new(obj, prefix, null)),
            _ => Err(FieldError::new(name, "must be an object")),
        }
    }

    pub fn path(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let field = self.path(key);
        self.errors.push(FieldError::new(field, message));
    }

    pub fn take_raw(&mut self, key: &str) -> Option<Value> {
        self.obj.remove(key)
    }

    pub fn peek(&self, key: &str) -> Option<&Value> {
        self.obj.get(key)
    }

    /// Absent or `null`.
    pub fn is_unset(&self, key: &str) -> bool {
        self.obj.get(key).is_none_or(Value::is_null)
    }

    fn parse<T: FromJson>(&mut self, key: &str, v: &Value) -> Option<T> {
        match T::from_json(v) {
            Ok(t) => Some(t),
            Err(msg) => {
                self.error(key, msg);
                None
            }
        }
    }

    /// A three-state field: absent keeps, `null` clears (or keeps, per dialect), a value sets.
    pub fn patch<T: FromJson>(&mut self, key: &str) -> Patch<T> {
        match self.obj.remove(key) {
            None => Patch::Keep,
            Some(Value::Null) if self.null == NullMeans::Keep => Patch::Keep,
            Some(Value::Null) => Patch::Clear,
            Some(v) => self.parse(key, &v).map_or(Patch::Keep, Patch::Set),
        }
    }

    /// A three-state field read with a custom parser (for values with no `FromJson`).
    pub fn patch_with<T>(&mut self, key: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Patch<T> {
        match self.obj.remove(key) {
            None => Patch::Keep,
            Some(Value::Null) if self.null == NullMeans::Keep => Patch::Keep,
            Some(Value::Null) => Patch::Clear,
            Some(v) => match parse(&v) {
                Ok(t) => Patch::Set(t),
                Err(msg) => {
                    self.error(key, msg);
                    Patch::Keep
                }
            },
        }
    }

    /// A field that may be changed but never cleared.
    pub fn patch_non_null<T: FromJson>(&mut self, key: &str) -> Patch<T> {
        match self.obj.remove(key) {
            None => Patch::Keep,
            Some(Value::Null) if self.null == NullMeans::Keep => Patch::Keep,
            Some(Value::Null) => {
                self.error(key, "must not be null");
                Patch::Keep
            }
            Some(v) => self.parse(key, &v).map_or(Patch::Keep, Patch::Set),
        }
    }

    /// A field the request must carry.
    pub fn required<T: FromJson>(&mut self, key: &str) -> Option<T> {
        match self.obj.remove(key) {
            None | Some(Value::Null) => {
                self.error(key, "is required");
                None
            }
            Some(v) => self.parse(key, &v),
        }
    }

    /// A field that may be absent or null (both meaning "none").
    pub fn optional<T: FromJson>(&mut self, key: &str) -> Option<T> {
        match self.obj.remove(key) {
            None | Some(Value::Null) => None,
            Some(v) => self.parse(key, &v),
        }
    }

    /// A field read with a custom parser (e.g. passwords, which are not `FromJson` on purpose).
    pub fn with<T>(&mut self, key: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        let v = self.obj.remove(key)?;
        match parse(&v) {
            Ok(t) => Some(t),
            Err(msg) => {
                self.error(key, msg);
                None
            }
        }
    }

    /// Whether an error was already reported for `key`.
    pub fn has_error(&self, key: &str) -> bool {
        let path = self.path(key);
        self.errors.iter().any(|e| e.field == path)
    }

    /// Errors so far, plus one per field nobody asked for.
    pub fn finish(mut self) -> Vec<FieldError> {
        let unknown: Vec<String> = self.obj.keys().cloned().collect();
        for key in unknown {
            self.error(&key, "is not a recognised field");
        }
        self.errors
    }

    /// Absorb errors from a nested reader.
    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Email, ShortText};
    use serde_json::json;

    fn reader(v: Value, null: NullMeans) -> Reader {
        Reader::object(v, "body", "", null).unwrap()
    }

    #[test]
    fn three_states_and_every_error() {
        let mut r = reader(json!({"a": "x", "b": null, "c": 5, "d": "not mail", "zz": 1}), NullMeans::Clear);
        assert_eq!(r.patch::<ShortText>("a"), Patch::Set(ShortText::parse("x").unwrap()));
        assert_eq!(r.patch::<ShortText>("b"), Patch::Clear);
        assert_eq!(r.patch::<ShortText>("missing"), Patch::Keep);
        assert_eq!(r.patch::<ShortText>("c"), Patch::Keep);
        assert_eq!(r.patch::<Email>("d"), Patch::Keep);
        let errors = r.finish();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["c", "d", "zz"]);
    }

    #[test]
    fn proto3_null_keeps() {
        let mut r = reader(json!({"b": null}), NullMeans::Keep);
        assert_eq!(r.patch_non_null::<ShortText>("b"), Patch::Keep);
        assert!(r.finish().is_empty());
        let mut r = reader(json!({"b": null}), NullMeans::Clear);
        assert_eq!(r.patch_non_null::<ShortText>("b"), Patch::Keep);
        assert_eq!(r.finish()[0].message, "must not be null");
    }
}
