//! A token's payload read in place: the claim checks and the identity mapping walk this borrowed
//! tree instead of a `serde_json::Map`, so an uncached verification does not allocate a `String`
//! per claim name and string value, nor the map's nodes, only to drop them again once the identity
//! is built. Strings borrow from the decoded payload unless they hold escapes.
//!
//! An object keeps its members in document order. A name given twice counts once, with its last
//! value, for lookups and iteration alike: RFC 7519 §4 asks a parser either to refuse repeated
//! names or to keep the last, and the last is what `serde_json::Map`, which
//! [`VerifiedToken::payload`](crate::VerifiedToken::payload) returns, keeps.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value borrowed from a payload's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A JSON object borrowed from a payload's text: its members in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Json<'a> {
    /// The member `key` of an object (the last, if given twice).
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object()?.get(key)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(crate) fn as_number(&self) -> Option<&Number> {
        match self {
            Json::Number(number) => Some(number),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// An owned copy, for the few claims kept beyond the text they were read from (a signed
    /// token's own claims, weighed against its introspection answer).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.as_ref().to_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(name, value)| (name.to_owned(), value.to_value()))
                    .collect(),
            ),
        }
    }

    /// A view of an owned value, for payloads that arrive as one (introspection answers, tests).
    pub(crate) fn borrow(value: &'a Value) -> Json<'a> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(items) => Json::Array(items.iter().map(Json::borrow).collect()),
            Value::Object(map) => Json::Object(Object::borrow(map)),
        }
    }
}

impl<'a> Object<'a> {
    /// Reads a payload: the text must be one JSON object.
    pub(crate) fn parse(text: &'a str) -> serde_json::Result<Object<'a>> {
        serde_json::from_str(text)
    }

    /// A view of an owned map.
    pub(crate) fn borrow(map: &'a Map<String, Value>) -> Object<'a> {
        Object(
            map.iter()
                .map(|(key, value)| (Cow::Borrowed(key.as_str()), Json::borrow(value)))
                .collect(),
        )
    }

    /// The member `key` (the last, if given twice).
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(name, _)| name == key)
    }

    /// The member names, in document order, a repeated name once (where it last appears).
    pub(crate) fn keys(&self) -> Keys<'_, 'a> {
        Keys(self.members())
    }

    /// The members, in document order, a repeated name once with its last value.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.members().map(|(name, value)| (&**name, value))
    }

    fn members(&self) -> Members<'_, 'a> {
        Members {
            members: &self.0,
            next: 0,
        }
    }
}

/// An object's members, each name once: a member is skipped when its name appears again later.
/// Quadratic in the members, so only what runs after the signature walks an object this way (the
/// lookups before it, `get`, are linear).
#[derive(Debug, Clone)]
struct Members<'o, 'a> {
    members: &'o [(Cow<'a, str>, Json<'a>)],
    next: usize,
}

impl<'o, 'a> Iterator for Members<'o, 'a> {
    type Item = &'o (Cow<'a, str>, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((member, later)) = self.members.get(self.next..)?.split_first() {
            self.next += 1;
            if !later.iter().any(|(name, _)| *name == member.0) {
                return Some(member);
            }
        }
        None
    }
}

/// The member names of an [`Object`], each once.
#[derive(Debug, Clone)]
pub(crate) struct Keys<'o, 'a>(Members<'o, 'a>);

impl<'o> Iterator for Keys<'o, '_> {
    type Item = &'o str;

    fn next(&mut self) -> Option<&'o str> {
        self.0.next().map(|(name, _)| &**name)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object<'de>, D::Error> {
        deserializer.deserialize_map(PayloadVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        // As `serde_json::Value` does: a float JSON cannot hold reads as null.
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(text)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let Some(Name(first)) = map.next_key()? else {
            return Ok(Json::Object(Object::default()));
        };
        // serde_json's `raw_value` feature (on in this workspace) reads an object under this key
        // as the JSON text its string holds, so `VerifiedToken::payload` would see another value
        // than the checks do: refused, as no issuer writes it.
        if first == RAW_VALUE_TOKEN {
            return Err(de::Error::custom("a serde_json private member name"));
        }
        // With serde_json's `arbitrary_precision` feature on (Cargo unifies features, so any crate
        // in the application can turn it on), every number arrives as this one-member map.
        // Without it, such a member is just a member, as `serde_json::Map` sees it.
        if first == NUMBER_TOKEN && *NUMBERS_AS_MAPS {
            let digits: Cow<'de, str> = map.next_value::<Name<'de>>()?.0;
            return digits
                .parse::<Number>()
                .map(Json::Number)
                .map_err(|_| de::Error::custom("not a JSON number"));
        }
        // Room for this member alone: a payload of a thousand `[{"a":0}, …]` must not reserve
        // more before its signature is checked (an object of several members grows once more).
        let mut members = vec![(first, map.next_value()?)];
        read_members(&mut members, map)?;
        Ok(Json::Object(Object(members)))
    }
}

/// The key under which serde_json's `raw_value` feature reads an object as embedded JSON text.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The key under which serde_json's `arbitrary_precision` feature hands a number over.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Whether this build's serde_json hands numbers over as maps (`arbitrary_precision`), asked once.
static NUMBERS_AS_MAPS: LazyLock<bool> = LazyLock::new(|| {
    struct Probe;
    impl<'de> Visitor<'de> for Probe {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }

        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<bool, A::Error> {
            Ok(true)
        }
    }
    serde_json::Deserializer::from_str("1")
        .deserialize_any(Probe)
        .unwrap_or(false)
});

fn read_members<'de, A: MapAccess<'de>>(
    members: &mut Vec<(Cow<'de, str>, Json<'de>)>,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(Name(name)) = map.next_key()? {
        members.push((name, map.next_value()?));
    }
    Ok(())
}

/// The payload itself: the one object that must be an object.
struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<'de>, A::Error> {
        // A token's payload holds a dozen or so claims: one allocation of this size, not the three
        // of growing through four and eight members. Only here: nested objects start small.
        let mut members = Vec::with_capacity(16);
        read_members(&mut members, map)?;
        Ok(Object(members))
    }
}

/// A member name (or a string), borrowed unless it holds escapes: serde's own `Cow<str>` always
/// allocates.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name<'de>, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"sub":"u-1","n":-3,"big":18446744073709551615,"f":1.5,"ok":true,
            "none":null,"esc":"a\"b\u00e9","arr":[1,"x",{"k":[]}],"o":{"in":{"deep":"y"}},
            "dup":1,"dup":2}"#;
        let object = Object::parse(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let owned = value.as_object().unwrap();
        assert_eq!(
            Json::Object(object.clone()).dedup(),
            Json::borrow(&value).dedup()
        );
        assert_eq!(
            object.get("dup").and_then(Json::as_number),
            owned["dup"].as_number()
        );
        assert_eq!(object.get("esc").and_then(Json::as_str), Some("a\"bé"));
        assert_eq!(
            object
                .get("o")
                .and_then(|o| o.get("in"))
                .and_then(|i| i.get("deep")),
            Some(&Json::String("y".into()))
        );
        assert!(object.get("none").is_some_and(Json::is_null));
        assert!(object.contains_key("arr") && !object.contains_key("missing"));
        let borrowed =
            |name: &str| matches!(object.get(name), Some(Json::String(Cow::Borrowed(_))));
        assert!(borrowed("sub"), "a plain string borrows from the text");
        assert!(
            !borrowed("esc"),
            "an escaped one is unescaped into its own string"
        );
        assert_eq!(object.keys().filter(|k| *k == "dup").count(), 1);
        let last: Vec<_> = object.iter().filter(|(k, _)| *k == "dup").collect();
        assert_eq!(
            last,
            [("dup", &Json::Number(2.into()))],
            "iteration keeps the last too"
        );
        assert_eq!(object.keys().next(), Some("sub"), "document order");
        assert_eq!(
            Json::Object(object.clone()).to_value(),
            value,
            "an owned copy is serde_json's own reading"
        );
        let token = r#"{"n":{"$serde_json::private::Number":"7"}}"#;
        assert_eq!(
            Json::Object(Object::parse(token).unwrap()).dedup(),
            Json::borrow(&serde_json::from_str(token).unwrap()).dedup(),
            "serde_json's number token is a member like any other unless it sends numbers so"
        );
    }

    #[test]
    fn refuses_what_is_not_one_object() {
        for text in [
            "[]",
            "\"iss\"",
            "{\"a\":1",
            "{\"a\":1}x",
            "{\"a\":\"\\ud800\"}",
            "",
        ] {
            assert!(Object::parse(text).is_err(), "{text}");
        }
        let raw = r#"{"a":{"$serde_json::private::RawValue":"{\"sub\":\"x\"}"}}"#;
        assert!(
            serde_json::from_str::<Value>(raw).unwrap()["a"]["sub"] == "x",
            "serde_json reads the member as embedded JSON"
        );
        assert!(Object::parse(raw).is_err(), "so it is refused here");
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(
            Object::parse(&deep).is_err(),
            "nesting stops at serde_json's limit"
        );
        assert_eq!(Object::parse("{}").unwrap(), Object::default());
        assert!(Object::parse(&json!({"a": 1}).to_string()).is_ok());
    }

    /// Object-shaped text from JSON's own characters, most of it not JSON.
    const ALMOST_JSON: &str = "\\{[\\[\\]{}\":,a-c0-9.e\\\\u -]{0,120}\\}";

    proptest::proptest! {
        /// Whatever text serde_json reads as an object, this reads as the same object, and what it
        /// refuses, this refuses: the checks and `VerifiedToken::payload` never disagree.
        #[test]
        fn agrees_with_serde_json_on_any_text(text in ALMOST_JSON) {
            match (Object::parse(&text), serde_json::from_str::<Value>(&text)) {
                (Ok(object), Ok(value)) => proptest::prop_assert_eq!(
                    Json::Object(object).dedup(),
                    Json::borrow(&value).dedup()
                ),
                (Err(_), Err(_)) => {}
                (Err(_), Ok(value)) => proptest::prop_assert!(!value.is_object(), "{}", text),
                (Ok(_), Err(err)) => proptest::prop_assert!(false, "{}: {}", text, err),
            }
        }
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[a-c\"\\\\é]{0,3}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any payload serde_json writes (escapes, unicode, every number kind, nesting) reads back
        /// as the same tree, a repeated name included.
        #[test]
        fn reads_back_any_object(value in any_value(), dup in any_value()) {
            let mut object = Map::new();
            object.insert("v".into(), value);
            let text = serde_json::to_string(&object).unwrap();
            let twice = format!("{{\"v\":{},{}", dup, &text[1..]);
            for text in [text, twice] {
                let parsed = Object::parse(&text).unwrap();
                let reference: Value = serde_json::from_str(&text).unwrap();
                proptest::prop_assert_eq!(
                    Json::Object(parsed).dedup(),
                    Json::borrow(&reference).dedup()
                );
            }
        }
    }

    impl<'a> Json<'a> {
        /// An owned map keeps a repeated name once, with its last value, sorted by name.
        fn dedup(self) -> Json<'a> {
            match self {
                Json::Object(Object(members)) => {
                    let mut out: Vec<(Cow<'a, str>, Json<'a>)> = Vec::new();
                    for (name, value) in members {
                        out.retain(|(n, _)| *n != name);
                        out.push((name, value.dedup()));
                    }
                    out.sort_by(|a, b| a.0.cmp(&b.0));
                    Json::Object(Object(out))
                }
                Json::Array(items) => Json::Array(items.into_iter().map(Json::dedup).collect()),
                other => other,
            }
        }
    }
}
