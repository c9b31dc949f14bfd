//! What an event says: its type, who caused it, the body a webhook delivers, and which types an
//! endpoint subscribes to. No storage here.

use crate::model::Principal;
use serde_json::Value;

/// Event types, named as the Standard Webhooks spec recommends: full-stop delimited, grouped
/// hierarchically, `[a-z_]` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    UserDeleted,
    ApiKeyCreated,
    ApiKeyRevoked,
    EmailCodeRequested,
    PhoneCodeRequested,
    PasswordResetRequested,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
}

impl EventType {
    pub const ALL: [EventType; 13] = [
        EventType::UserCreated,
        EventType::UserUpdated,
        EventType::UserDeactivated,
        EventType::UserReactivated,
        EventType::UserDeleted,
        EventType::ApiKeyCreated,
        EventType::ApiKeyRevoked,
        EventType::EmailCodeRequested,
        EventType::PhoneCodeRequested,
        EventType::PasswordResetRequested,
        EventType::GroupCreated,
        EventType::GroupUpdated,
        EventType::GroupDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserUpdated => "user.updated",
            EventType::UserDeactivated => "user.deactivated",
            EventType::UserReactivated => "user.reactivated",
            EventType::UserDeleted => "user.deleted",
            EventType::ApiKeyCreated => "api_key.created",
            EventType::ApiKeyRevoked => "api_key.revoked",
            EventType::EmailCodeRequested => "user.email.code_requested",
            EventType::PhoneCodeRequested => "user.phone.code_requested",
            EventType::PasswordResetRequested => "user.password.reset_requested",
            EventType::GroupCreated => "group.created",
            EventType::GroupUpdated => "group.updated",
            EventType::GroupDeleted => "group.deleted",
        }
    }

    /// The exact wire name; anything else (other case, wildcards) is `None`.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Code events carry `{to, code, url, expires_at}`; the code may appear only in a signed
    /// webhook delivery, never in the pull feed, the audit trail or a log line.
    pub fn carries_code(self) -> bool {
        matches!(self, EventType::EmailCodeRequested | EventType::PhoneCodeRequested | EventType::PasswordResetRequested)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        EventType::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown event type {s:?}")))
    }
}

/// Who caused an event. JSON: `{"type":"key","key_id":7,"user_id":2}` or `{"type":"operator"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    Key { key_id: i64, user_id: i64 },
    Operator,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        match p {
            Principal::Operator => Actor::Operator,
            Principal::Key(k) => Actor::Key { key_id: k.key_id, user_id: k.user_id },
        }
    }
}

/// The body of a webhook delivery: `{"type","timestamp","data"}` in that order, compact, as the
/// Standard Webhooks spec's payload structure has it. `timestamp` is when the event happened
/// (RFC 3339, as stored), not when this attempt is made. The string returned is what gets signed
/// and sent: it must not be re-serialised in between.
pub fn delivery_body(event_type: EventType, timestamp: &str, data: &Value) -> String {
    // `Value`'s Display is its compact JSON and cannot fail; the type name needs no escaping.
    format!(r#"{{"type":"{}","timestamp":{},"data":{}}}"#, event_type.as_str(), Value::from(timestamp), data)
}

/// The event types an endpoint receives: all of them, or a non-empty set of known types.
///
/// Names are exact. Neither Svix (`filterTypes`) nor Stripe (`enabled_events`) offers prefix
/// wildcards such as `user.*`, and Stripe's one wildcard, `*`, means "all", which here is said by
/// leaving the list out; so wildcards are refused as unknown names rather than half-supported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Option<Vec<EventType>>);

impl EventFilter {
    pub fn all() -> EventFilter {
        EventFilter(None)
    }

    /// `None` (the field left out or null) is all types; otherwise every name must be known (the
    /// error names each unknown one) and the list must not be empty. Duplicates collapse, and the
    /// set is kept in [`EventType::ALL`] order, so equal subscriptions compare and store equal.
    pub fn parse<S: AsRef<str>>(names: Option<&[S]>) -> Result<EventFilter, String> {
        let Some(names) = names else { return Ok(EventFilter::all()) };
        if names.is_empty() {
            return Err("must list at least one event type (leave it out to receive all)".into());
        }
        let unknown: Vec<_> =
            names.iter().map(|n| n.as_ref()).filter(|n| EventType::parse(n).is_none()).map(|n| format!("{n:?}")).collect();
        if !unknown.is_empty() {
            let known: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(format!("unknown event types: {} (known: {})", unknown.join(", "), known.join(", ")));
        }
        let wanted = |t: &EventType| names.iter().any(|n| n.as_ref() == t.as_str());
        Ok(EventFilter(Some(EventType::ALL.into_iter().filter(wanted).collect())))
    }

    pub fn matches(&self, event_type: EventType) -> bool {
        self.0.as_ref().is_none_or(|types| types.contains(&event_type))
    }

    /// `None` for all types, else the subscribed ones.
    pub fn types(&self) -> Option<&[EventType]> {
        self.0.as_deref()
    }
}

/// `null` for all types, else the list of names: how `event_types` is rendered and stored.
impl serde::Serialize for EventFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyPrincipal, Role};
    use serde_json::json;

    #[test]
    fn wire_names_round_trip() {
        let names: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            names,
            [
                "user.created",
                "user.updated",
                "user.deactivated",
                "user.reactivated",
                "user.deleted",
                "api_key.created",
                "api_key.revoked",
                "user.email.code_requested",
                "user.phone.code_requested",
                "user.password.reset_requested",
                "group.created",
                "group.updated",
                "group.deleted",
            ]
        );
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert_eq!(serde_json::from_value::<EventType>(json!(t.as_str())).unwrap(), t);
            // The spec's recommended alphabet for type ids.
            assert!(t.as_str().split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        }
        for bad in ["", "user", "User.Created", "user.created ", "user.*", "*", "user.email", "api-key.created"] {
            assert_eq!(EventType::parse(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_value::<EventType>(json!("user.*")).is_err());
    }

    #[test]
    fn code_events() {
        let coded: Vec<_> = EventType::ALL.into_iter().filter(|t| t.carries_code()).map(EventType::as_str).collect();
        assert_eq!(coded, ["user.email.code_requested", "user.phone.code_requested", "user.password.reset_requested"]);
    }

    #[test]
    fn actors() {
        let key = Principal::Key(KeyPrincipal {
            key_id: 7,
            user_id: 2,
            user_uuid: "u".into(),
            org_id: 1,
            role: Role::Admin,
            scopes: Default::default(),
            expires_at: None,
            checked_at: String::new(),
        });
        assert_eq!(Actor::from(&key), Actor::Key { key_id: 7, user_id: 2 });
        assert_eq!(Actor::from(&Principal::Operator), Actor::Operator);
        assert_eq!(serde_json::to_value(Actor::from(&key)).unwrap(), json!({"type": "key", "key_id": 7, "user_id": 2}));
        assert_eq!(serde_json::to_value(Actor::Operator).unwrap(), json!({"type": "operator"}));
        for a in [Actor::Operator, Actor::Key { key_id: 1, user_id: 3 }] {
            assert_eq!(serde_json::from_value::<Actor>(serde_json::to_value(a).unwrap()).unwrap(), a);
        }
    }

    #[test]
    fn delivery_bodies() {
        let data = json!({"id": 2, "name": "Quote \" and \\ and é", "fields": ["email"]});
        let body = delivery_body(EventType::UserUpdated, "2024-05-01T12:00:00.123Z", &data);
        assert_eq!(
            body,
            r#"{"type":"user.updated","timestamp":"2024-05-01T12:00:00.123Z","data":{"fields":["email"],"id":2,"name":"Quote \" and \\ and é"}}"#
        );
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back, json!({"type": "user.updated", "timestamp": "2024-05-01T12:00:00.123Z", "data": data}));
        // A timestamp is escaped like any string, whatever it holds.
        let odd = delivery_body(EventType::UserCreated, "a\"b", &json!(null));
        assert_eq!(odd, r#"{"type":"user.created","timestamp":"a\"b","data":null}"#);
    }

    #[test]
    fn filters() {
        let all = EventFilter::parse::<&str>(None).unwrap();
        assert_eq!(all, EventFilter::all());
        assert!(EventType::ALL.into_iter().all(|t| all.matches(t)));
        assert_eq!(all.types(), None);
        assert_eq!(serde_json::to_value(&all).unwrap(), json!(null));

        let some = EventFilter::parse(Some(&["user.deleted", "user.created", "user.deleted"][..])).unwrap();
        assert_eq!(some.types(), Some(&[EventType::UserCreated, EventType::UserDeleted][..]));
        assert!(some.matches(EventType::UserCreated) && some.matches(EventType::UserDeleted));
        assert!(!some.matches(EventType::UserUpdated) && !some.matches(EventType::EmailCodeRequested));
        assert_eq!(serde_json::to_value(&some).unwrap(), json!(["user.created", "user.deleted"]));
        let owned: Vec<String> = ["user.deleted", "user.created"].into_iter().map(String::from).collect();
        assert_eq!(EventFilter::parse(Some(&owned[..])).unwrap(), some, "order and duplicates do not matter");
    }

    #[test]
    fn filter_errors_name_every_unknown_type() {
        let err = EventFilter::parse(Some(&["user.created", "user.*", "invoice.paid"][..])).unwrap_err();
        assert!(err.starts_with(r#"unknown event types: "user.*", "invoice.paid" (known: user.created, "#), "{err}");
        assert!(err.ends_with("group.deleted)"), "{err}");
        assert!(EventFilter::parse(Some(&["*"][..])).is_err());
        let empty: [&str; 0] = [];
        assert_eq!(
            EventFilter::parse(Some(&empty[..])),
            Err("must list at least one event type (leave it out to receive all)".into())
        );
    }
}
