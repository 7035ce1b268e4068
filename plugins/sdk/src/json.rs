//! Reading a PSA's JSON records leniently.
//!
//! PSA answers are loose: a field may be missing or `null`, a name may be `""` or padded with
//! blanks, an id or a postal code may come as a number or as a string, a flag as `true` or `1`.
//! These accessors read a field the same way whatever of those forms it takes, so a mapping
//! function reads as a list of fields. Money and quantities are [`crate::decimal`]'s, times
//! [`crate::time`]'s.
//!
//! ```
//! use psa_sdk::json;
//! use serde_json::json;
//!
//! let v = json!({"id": 19, "name": " Acme ", "zip": 33602, "phone": "", "inactiveFlag": 0});
//! assert_eq!(json::id(&v["id"]).as_deref(), Some("19"));
//! assert_eq!(json::text(&v, "name").as_deref(), Some("Acme"));
//! assert_eq!(json::text(&v, "zip").as_deref(), Some("33602"));
//! assert_eq!(json::text(&v, "phone"), None);
//! assert!(!json::flag(&v, "inactiveFlag", true));
//! assert!(json::flag(&v, "activeFlag", true));
//! ```
//!
//! # Typed records
//!
//! Reading a list answer into a `Vec<Value>` builds a tree per record (a map and an allocation
//! per key, a string per value) only to read a few fields from it. For lists, the same rules are
//! available as field types of a typed, borrowing struct: [`Scalar`] (read with
//! [`Scalar::text`], [`Scalar::flag`], [`Scalar::decimal`], ...), [`Object`] and [`List`]. Each
//! accepts any JSON value, so a field of an unexpected type reads as absent instead of failing
//! the record, exactly as the accessors above read a `Value`. [`records`] splits a list answer
//! into each record's own text (`&RawValue`, borrowing the body: the record's `raw` as the PSA
//! sent it) and [`typed`] reads one record into such a struct; [`map_records`] does both for a
//! whole list answer in one pass:
//!
//! ```
//! use psa_sdk::json::{self, Object, Scalar};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, Default)]
//! #[serde(default, rename_all = "camelCase")]
//! struct Wire<'a> {
//!     #[serde(borrow)]
//!     id: Scalar<'a>,
//!     #[serde(borrow)]
//!     name: Scalar<'a>,
//!     inactive_flag: Scalar<'a>,
//!     #[serde(borrow)]
//!     company: Object<Ref<'a>>,
//! }
//!
//! #[derive(Deserialize, Default)]
//! #[serde(default)]
//! struct Ref<'a> {
//!     #[serde(borrow)]
//!     id: Scalar<'a>,
//! }
//!
//! let body = br#"[{"id": 19, "name": " Acme ", "inactiveFlag": 0, "company": {"id": "7"}, "other": [1]}]"#;
//! let records = json::records(body).unwrap();
//! let w: Wire = json::typed(records[0].get()).unwrap();
//! assert_eq!(w.id.id().as_deref(), Some("19"));
//! assert_eq!(w.name.text().as_deref(), Some("Acme"));
//! assert!(!w.inactive_flag.flag(true));
//! assert_eq!(w.company.get().and_then(|c| c.id.id()).as_deref(), Some("7"));
//! assert!(records[0].get().starts_with(r#"{"id": 19"#), "the record's own text");
//!
//! let names = json::map_records(body, |w: Wire, raw| Ok((w.name.text(), raw.len()))).unwrap();
//! assert_eq!(names, [(Some("Acme".to_string()), records[0].get().len())]);
//! ```

use crate::decimal;
use crate::error::{Error, Result};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// How many characters of a record [`excerpt`] keeps.
pub const EXCERPT_CHARS: usize = 200;

/// The object's field `key`, if present and not null.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// Field `key` as text: a string, trimmed, or a number as written; `None` when it is absent,
/// null, blank or of another type.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match field(v, key)? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Field `key` as a boolean: `true`/`false`, or a number (0 is false, any other whole number
/// true); `default` when it is absent, null or of another type.
pub fn flag(v: &Value, key: &str, default: bool) -> bool {
    match field(v, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().map_or(default, |i| i != 0),
        _ => default,
    }
}

/// An id given as a number or a string (trimmed, not blank).
pub fn id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        _ => None,
    }
}

/// The start of a record, at most [`EXCERPT_CHARS`] characters, to quote in a malformed-answer
/// error.
pub fn excerpt(v: &Value) -> String {
    crate::message::excerpt(&v.to_string(), EXCERPT_CHARS)
}

// ---------------------------------------------------------------------------------------------
// Typed records

/// The records of a list answer (a JSON array), each as its own text: slices of `body`, without
/// copying or parsing them into values. A body that is not a JSON array is a malformed answer.
pub fn records(body: &[u8]) -> Result<Vec<&RawValue>> {
    serde_json::from_slice(body).map_err(not_expected)
}

/// The JSON text of an answer that holds one record (surrounding blanks left out). A body that
/// is not JSON is a malformed answer.
pub fn record(body: &[u8]) -> Result<&RawValue> {
    serde_json::from_slice(body).map_err(not_expected)
}

/// Maps every record of a list answer (a JSON array) with `f`, which gets the record read into a
/// typed struct as by [`typed`] and the record's own text (a slice of `body`), in one pass over
/// the body.
///
/// The result is that of reading [`records`] and then calling `f(typed(raw)?, raw)` for each
/// (same records, same texts, same errors: a body that is not a well-formed JSON array is
/// malformed; otherwise the first error of [`typed`] or `f`, in order), without skimming every
/// record a second time: a record is parsed once, straight into `T`, and its text is the span
/// the parser covered. `f` is called in order as records are read, and no more after its first
/// error; when the body turns out to be malformed after some records, `f` has seen those (this
/// matters only to an `f` with side effects).
pub fn map_records<'a, T: Deserialize<'a> + Default, U>(
    body: &'a [u8],
    mut f: impl FnMut(T, &'a str) -> Result<U>,
) -> Result<Vec<U>> {
    let mut out = Vec::new();
    let mut failed = None;
    let well_formed = for_each_record(body, |record: Result<(T, &'a str)>| {
        if failed.is_none() {
            match record.and_then(|(t, raw)| f(t, raw)) {
                Ok(u) => out.push(u),
                Err(e) => failed = Some(e),
            }
        }
    });
    if !well_formed {
        // The error of the two-pass reading.
        return Err(records(body).err().unwrap_or_else(|| {
            Error::malformed("the PSA answered a list that is not a well-formed JSON array")
        }));
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// An answer whose records are wrapped in an object (an *envelope*): `{"record_count": 2,
/// "clients": [...]}`, `{"result": [...], "totalRecords": 7}`, `{"item": {...}}`. Its fields are
/// kept as their own text (slices of the body), so each record read from it keeps the text the
/// PSA sent for its `raw`, and the records are mapped as by [`map_records`].
///
/// ```
/// use psa_sdk::json::{Envelope, Scalar};
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Default)]
/// #[serde(default)]
/// struct Client<'a> {
///     #[serde(borrow)]
///     id: Scalar<'a>,
///     #[serde(borrow)]
///     name: Scalar<'a>,
/// }
///
/// let body = br#"{"record_count": 2, "clients": [{"id": 1, "name": "Acme"}, {"id": 2,"name":"Beta" }]}"#;
/// let page = Envelope::parse(body)?;
/// assert_eq!(page.count("record_count"), Some(2));
/// let clients = page.map_records("clients", |c: Client, raw| Ok((c.name.text(), raw.to_string())))?;
/// assert_eq!(clients[1], (Some("Beta".to_string()), r#"{"id": 2,"name":"Beta" }"#.to_string()));
///
/// // A single record: `None` when the PSA answers `null`.
/// let one = Envelope::parse(br#"{"item": {"id": 7}}"#)?;
/// assert_eq!(one.record("item")?.map(|r| r.get()), Some(r#"{"id": 7}"#));
/// assert!(Envelope::parse(b"[1]").is_err());
/// # Ok::<(), psa_sdk::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    fields: Vec<(String, &'a RawValue)>,
}

impl<'a> Envelope<'a> {
    /// Reads an answer that is a JSON object; anything else is a malformed answer. Of a
    /// repeated key the last occurrence counts, as in a `Value`.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        let trimmed = std::str::from_utf8(body)
            .map(str::trim_start)
            .unwrap_or_default();
        if !trimmed.starts_with('{') {
            return Err(Error::malformed(format!(
                "the PSA answered {} where an object wrapping the records was expected",
                crate::message::body_excerpt(body)
            )));
        }
        let fields: Vec<(String, &'a RawValue)> =
            serde_json::from_slice::<EnvelopeFields<'a>>(body)
                .map_err(not_expected)?
                .0;
        Ok(Envelope { fields })
    }

    /// The text of field `key` (the last occurrence), if present (`null` included).
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// Field `key` read as [`Scalar`] (absent when missing, null or not a scalar).
    pub fn scalar(&self, key: &str) -> Scalar<'a> {
        self.get(key)
            .and_then(|raw| serde_json::from_str::<Scalar<'a>>(raw.get()).ok())
            .unwrap_or_default()
    }

    /// Field `key` as a count: a whole number, or a string holding one (`"record_count": "12"`).
    pub fn count(&self, key: &str) -> Option<u64> {
        match self.scalar(key) {
            Scalar::Number(n) => n.as_u64(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The records of the list in field `key`, each as its own text. A missing field, `null` or
    /// anything but an array is a malformed answer naming `key`.
    pub fn records(&self, key: &str) -> Result<Vec<&'a RawValue>> {
        records(self.list(key)?.get().as_bytes())
    }

    /// Maps every record of the list in field `key` as [`map_records`] does (`f` gets the
    /// typed record and its own text).
    pub fn map_records<T: Deserialize<'a> + Default, U>(
        &self,
        key: &str,
        f: impl FnMut(T, &'a str) -> Result<U>,
    ) -> Result<Vec<U>> {
        map_records(self.list(key)?.get().as_bytes(), f)
    }

    /// The single record in field `key` (`{"item": {...}}`): `None` when it is missing or
    /// `null` (the PSA's way to say not found), its text when it is an object; anything else is
    /// a malformed answer naming `key`.
    pub fn record(&self, key: &str) -> Result<Option<&'a RawValue>> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) if raw.get().starts_with('{') => Ok(Some(raw)),
            Some(raw) => Err(Error::malformed(format!(
                "the PSA's `{key}` is not a record: {}",
                crate::message::excerpt(raw.get(), EXCERPT_CHARS)
            ))),
        }
    }

    fn list(&self, key: &str) -> Result<&'a RawValue> {
        match self.get(key) {
            Some(raw) if raw.get().starts_with('[') => Ok(raw),
            Some(raw) => Err(Error::malformed(format!(
                "the PSA's `{key}` is not a list of records: {}",
                crate::message::excerpt(raw.get(), EXCERPT_CHARS)
            ))),
            None => Err(Error::malformed(format!(
                "the PSA answered without the list of records `{key}`"
            ))),
        }
    }
}

/// The fields of a JSON object in order, values as their text.
struct EnvelopeFields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for EnvelopeFields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = EnvelopeFields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> core::result::Result<EnvelopeFields<'a>, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    fields.push((k.into_owned(), v));
                }
                Ok(EnvelopeFields(fields))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Calls `each` with every record of a list answer in order (read as by [`typed`], or its
/// error), in one pass; `false` when the body is not a well-formed JSON array of JSON values in
/// UTF-8 (then [`records`] fails on it too).
fn for_each_record<'a, T: Deserialize<'a> + Default>(
    body: &'a [u8],
    mut each: impl FnMut(Result<(T, &'a str)>),
) -> bool {
    // Validated once: the parser then takes the strings it borrows as they are.
    let Ok(body) = std::str::from_utf8(body) else {
        return false;
    };
    let bytes = body.as_bytes();
    let mut pos = skip_blanks(bytes, 0);
    if bytes.get(pos) != Some(&b'[') {
        return false;
    }
    pos = skip_blanks(bytes, pos + 1);
    if bytes.get(pos) == Some(&b']') {
        return skip_blanks(bytes, pos + 1) == bytes.len();
    }
    loop {
        // `pos` is at an ASCII byte (a value starts there), so on a character boundary.
        let Some(rest) = body.get(pos..) else {
            return false;
        };
        let parsed = if rest.starts_with('{') {
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
            match stream.next() {
                Some(Ok(t)) => Some((t, stream.byte_offset())),
                _ => None,
            }
        } else {
            None
        };
        let (record, len) = match parsed {
            Some((t, len)) => (Ok(t), len),
            None => {
                // Not an object, or one `T` refuses: its extent, then the rules of `typed`.
                let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<IgnoredAny>();
                if !matches!(stream.next(), Some(Ok(_))) {
                    return false;
                }
                let len = stream.byte_offset();
                let Some(raw) = rest.get(..len) else {
                    return false;
                };
                (typed(raw), len)
            }
        };
        // A complete JSON value ends on a character boundary.
        let Some(raw) = rest.get(..len) else {
            return false;
        };
        each(record.map(|t| (t, raw)));
        pos = skip_blanks(bytes, pos + len);
        match bytes.get(pos) {
            Some(b',') => pos = skip_blanks(bytes, pos + 1),
            Some(b']') => return skip_blanks(bytes, pos + 1) == bytes.len(),
            _ => return false,
        }
    }
}

/// The position of the first byte at or after `pos` that is not JSON whitespace.
fn skip_blanks(body: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = body.get(pos) {
        pos += 1;
    }
    pos
}

fn not_expected(e: serde_json::Error) -> Error {
    Error::malformed(format!(
        "the PSA answered a body that is not the expected JSON: {e}"
    ))
}

/// Reads a record's JSON text into a typed struct whose fields are [`Scalar`], [`Object`] and
/// [`List`] (`#[serde(default)]`, unknown fields skipped), borrowing strings from `raw`.
///
/// Like the accessors on a `Value`: a record that is not a JSON object reads as `T::default()`
/// (every field absent); an object with a repeated key, which a derived struct refuses, is read
/// through a `Value`, where the last occurrence wins. Text that is not JSON is malformed.
pub fn typed<'a, T: Deserialize<'a> + Default>(raw: &'a str) -> Result<T> {
    if !raw.trim_start().starts_with('{') {
        // Still refuse text that is not JSON at all.
        serde_json::from_str::<IgnoredAny>(raw).map_err(not_expected)?;
        return Ok(T::default());
    }
    match serde_json::from_str::<T>(raw) {
        Ok(t) => Ok(t),
        Err(first) => {
            let value: Value = serde_json::from_str(raw).map_err(|_| not_expected(first))?;
            T::deserialize(value).map_err(not_expected)
        }
    }
}

/// [`typed`] for a record already parsed into a `Value` (strings borrowed from it).
pub fn typed_value<'a, T: Deserialize<'a> + Default>(v: &'a Value) -> Result<T> {
    if !v.is_object() {
        return Ok(T::default());
    }
    T::deserialize(v).map_err(not_expected)
}

/// A field of a typed record read as a scalar: a string (borrowed from the answer when it has no
/// escapes), a number or a boolean. A missing or null field, an array and an object are
/// [`Scalar::Absent`]: like [`text`], [`flag`] and [`decimal::from_json`], the readers of a
/// scalar see nothing in them. Deserialising it never fails, whatever the JSON value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar<'a> {
    /// Missing, null, an array or an object.
    #[default]
    Absent,
    /// A string, as sent (not trimmed).
    Str(Cow<'a, str>),
    /// A number.
    Number(Number),
    /// A boolean.
    Bool(bool),
}

impl Scalar<'_> {
    /// As [`text`]: a string, trimmed, or a number as written; `None` when absent, blank or a
    /// boolean.
    pub fn text(&self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
            Scalar::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// As [`id`]: a number, or a string trimmed and not blank.
    pub fn id(&self) -> Option<String> {
        self.text()
    }

    /// As [`flag`]: a boolean, or a whole number (0 is false); `default` otherwise.
    pub fn flag(&self, default: bool) -> bool {
        match self {
            Scalar::Bool(b) => *b,
            Scalar::Number(n) => n.as_i64().map_or(default, |i| i != 0),
            _ => default,
        }
    }

    /// As `Value::as_bool`: a JSON boolean only.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// As `Value::as_str`: a string as sent, not trimmed.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// As [`decimal::from_json`]: a number, or a string holding a decimal number.
    pub fn decimal(&self) -> Option<String> {
        match self {
            Scalar::Number(n) => decimal::from_number(n),
            Scalar::Str(s) => decimal::normalize(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor(PhantomData))
    }
}

struct ScalarVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Number(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> core::result::Result<Scalar<'a>, E> {
        // As a `Value`: a number that is not finite is null.
        Ok(Number::from_f64(f).map_or(Scalar::Absent, Scalar::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Absent)
    }
    fn visit_none<E: de::Error>(self) -> core::result::Result<Scalar<'a>, E> {
        Ok(Scalar::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Scalar<'a>, D::Error> {
        Scalar::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> core::result::Result<Scalar<'a>, A::Error> {
        drain_seq(seq)?;
        Ok(Scalar::Absent)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> core::result::Result<Scalar<'a>, A::Error> {
        drain_map(map)?;
        Ok(Scalar::Absent)
    }
}

/// A field of a typed record that is an object (`"company": {"id": 2, ...}`), read into `T` (a
/// struct of [`Scalar`], [`Object`] and [`List`] fields). Any other JSON value is accepted and
/// kept apart: [`Object::Absent`] for a missing or null field, [`Object::NotObject`] for a
/// string, number, boolean or array (some rules tell "present" from "absent").
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Object<T> {
    /// Missing or null.
    #[default]
    Absent,
    /// Present, but not an object.
    NotObject,
    /// An object.
    Object(T),
}

impl<T> Object<T> {
    /// The object, when the field is one.
    pub fn get(&self) -> Option<&T> {
        match self {
            Object::Object(t) => Some(t),
            _ => None,
        }
    }

    /// The object, when the field is one.
    pub fn into_option(self) -> Option<T> {
        match self {
            Object::Object(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the field is present and not null (as [`field`] sees it), object or not.
    pub fn is_present(&self) -> bool {
        !matches!(self, Object::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> core::result::Result<Object<T>, E> {
        Ok(Object::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> core::result::Result<Object<T>, E> {
        Ok(Object::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> core::result::Result<Object<T>, E> {
        Ok(Object::NotObject)
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> core::result::Result<Object<T>, E> {
        // As a `Value`: a number that is not finite is null.
        Ok(if f.is_finite() {
            Object::NotObject
        } else {
            Object::Absent
        })
    }
    fn visit_str<E: de::Error>(self, _: &str) -> core::result::Result<Object<T>, E> {
        Ok(Object::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> core::result::Result<Object<T>, E> {
        Ok(Object::Absent)
    }
    fn visit_none<E: de::Error>(self) -> core::result::Result<Object<T>, E> {
        Ok(Object::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Object<T>, D::Error> {
        Object::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> core::result::Result<Object<T>, A::Error> {
        drain_seq(seq)?;
        Ok(Object::NotObject)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> core::result::Result<Object<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object::Object)
    }
}

/// A field of a typed record that is an array, its elements read as `T` (which should accept
/// any JSON value: [`Scalar`], [`Object`]). Anything but an array reads as an empty list, as
/// `field(v, key).and_then(Value::as_array)` sees nothing in it.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_unit<E: de::Error>(self) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_none<E: de::Error>(self) -> core::result::Result<List<T>, E> {
        Ok(List::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> core::result::Result<List<T>, D::Error> {
        List::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<List<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> core::result::Result<List<T>, A::Error> {
        drain_map(map)?;
        Ok(List::default())
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> core::result::Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> core::result::Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_texts() {
        let v = json!({
            "name": "  Acme Dental ",
            "blank": "   ",
            "nothing": null,
            "zip": 33602,
            "ratio": 1.5,
            "flagged": true,
            "list": ["a"],
        });
        assert_eq!(field(&v, "nothing"), None);
        assert_eq!(field(&v, "missing"), None);
        assert_eq!(field(&v, "zip"), Some(&json!(33602)));
        assert_eq!(text(&v, "name").as_deref(), Some("Acme Dental"));
        assert_eq!(text(&v, "zip").as_deref(), Some("33602"));
        assert_eq!(text(&v, "ratio").as_deref(), Some("1.5"));
        for absent in ["blank", "nothing", "missing", "flagged", "list"] {
            assert_eq!(text(&v, absent), None, "{absent}");
        }
        // Not an object: every field is absent.
        assert_eq!(text(&json!("name"), "name"), None);
        assert_eq!(field(&json!([1]), "0"), None);
    }

    #[test]
    fn flags() {
        let v = json!({"t": true, "f": false, "one": 1, "zero": 0, "two": 2, "s": "true", "x": 1.5, "n": null});
        assert!(flag(&v, "t", false));
        assert!(!flag(&v, "f", true));
        assert!(flag(&v, "one", false));
        assert!(!flag(&v, "zero", true));
        assert!(flag(&v, "two", false));
        for default in [true, false] {
            for other in ["s", "x", "n", "missing"] {
                assert_eq!(flag(&v, other, default), default, "{other}");
            }
        }
    }

    #[test]
    fn ids_and_excerpts() {
        assert_eq!(id(&json!(42)).as_deref(), Some("42"));
        assert_eq!(
            id(&json!(18446744073709551615u64)).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(id(&json!(" T-42 ")).as_deref(), Some("T-42"));
        for bad in [
            json!(""),
            json!("  "),
            json!(null),
            json!(true),
            json!({"id": 1}),
        ] {
            assert_eq!(id(&bad), None, "{bad}");
        }
        assert_eq!(excerpt(&json!({"id": 1})), r#"{"id":1}"#);
        let long = json!({"text": "x".repeat(500)});
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
    }

    #[derive(serde::Deserialize, Default, Debug)]
    #[serde(default)]
    struct S<'a> {
        #[serde(borrow)]
        f: Scalar<'a>,
    }

    #[derive(serde::Deserialize, Default, Debug)]
    #[serde(default)]
    struct O<'a> {
        #[serde(borrow)]
        f: Object<Inner<'a>>,
        #[serde(borrow)]
        g: Object<Inner<'a>>,
    }

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Inner<'a> {
        #[serde(borrow)]
        id: Scalar<'a>,
        #[serde(borrow)]
        tags: List<Scalar<'a>>,
    }

    /// Every field type reads any JSON value the way the accessors read the same `Value`.
    #[test]
    fn typed_fields_read_like_the_accessors() {
        let values = [
            "null",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "2",
            "18446744073709551615",
            "-9223372036854775808",
            "1.5",
            "1.0",
            "-0.0",
            "10000.0",
            "0.30000000000000004",
            "1e21",
            "1.5e-10",
            "123456789012345678901234567890",
            r#""""#,
            r#""   ""#,
            r#"" Acme ""#,
            r#""T-42""#,
            r#""12.50""#,
            r#""1e3""#,
            r#""line\nbreak \u00e9 \"q\"""#,
            r#"" \t 33602 ""#,
            "[]",
            "[1, 2]",
            "{}",
            r#"{"id": 7, "tags": ["a", 1, null, {"x": 1}], "more": {"deep": [1, {"a": 2}]}}"#,
            r#"{"id": " ", "tags": "not a list"}"#,
        ];
        for value in values {
            let text = format!(r#"{{"f": {value}, "other": [{value}]}}"#);
            let v: Value = serde_json::from_str(&text).unwrap();
            let s1: S = typed(&text).unwrap();
            let s2: S = typed_value(&v).unwrap();
            for f in [&s1.f, &s2.f] {
                assert_eq!(f.text(), super::text(&v, "f"), "{value}");
                assert_eq!(f.id(), field(&v, "f").and_then(id), "{value}");
                for default in [true, false] {
                    assert_eq!(f.flag(default), flag(&v, "f", default), "{value}");
                }
                assert_eq!(f.as_bool(), v["f"].as_bool(), "{value}");
                assert_eq!(f.as_str(), v["f"].as_str(), "{value}");
                assert_eq!(
                    f.decimal(),
                    field(&v, "f").and_then(decimal::from_json),
                    "{value}"
                );
            }
            let o1: O = typed(&text).unwrap();
            let o2: O = typed_value(&v).unwrap();
            for o in [&o1, &o2] {
                assert!(!o.g.is_present());
                assert_eq!(o.f.is_present(), field(&v, "f").is_some(), "{value}");
                assert_eq!(o.f.get().is_some(), v["f"].is_object(), "{value}");
                if let Some(inner) = o.f.get() {
                    assert_eq!(inner.id.id(), field(&v["f"], "id").and_then(id));
                    let tags: Vec<Option<String>> = v["f"]["tags"]
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .map(|x| super::text(&json!({"x": x}), "x"))
                                .collect()
                        })
                        .unwrap_or_default();
                    let read: Vec<Option<String>> = inner.tags.0.iter().map(Scalar::text).collect();
                    assert_eq!(read, tags, "{value}");
                }
            }
        }
    }

    #[test]
    fn typed_records_borrow_and_fall_back() {
        let body =
            br#" [ {"id": 1, "name": "plain"} , {"id": "2", "name": "esc\u00e9"}, 7, null ] "#;
        let items = records(body).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].get(), r#"{"id": 1, "name": "plain"}"#);
        let first: S = typed(items[0].get()).unwrap();
        assert!(matches!(first.f, Scalar::Absent));
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Named<'a> {
            #[serde(borrow)]
            name: Scalar<'a>,
        }
        let n: Named = typed(items[0].get()).unwrap();
        assert!(matches!(n.name, Scalar::Str(Cow::Borrowed("plain"))));
        let n: Named = typed(items[1].get()).unwrap();
        assert_eq!(n.name.as_str(), Some("escé"));
        // Not objects: every field absent.
        for other in [items[2].get(), items[3].get()] {
            let n: Named = typed(other).unwrap();
            assert!(matches!(n.name, Scalar::Absent));
        }
        // A repeated key: the last wins, as in a `Value`.
        let n: Named = typed(r#"{"name": "first", "name": "last"}"#).unwrap();
        assert_eq!(n.name.text().as_deref(), Some("last"));
        // Not JSON, not an array: malformed.
        for bad in [&br#"{"a": 1}"#[..], b"<html>", b"[1,"] {
            assert!(matches!(records(bad), Err(Error::Remote(_))), "{bad:?}");
        }
        assert!(matches!(typed::<Named>("{nope"), Err(Error::Remote(_))));
        assert!(matches!(typed::<Named>("nope"), Err(Error::Remote(_))));
        assert_eq!(record(b" {\"id\": 1}\n").unwrap().get(), r#"{"id": 1}"#);
        assert!(record(b"{\"id\": 1} x").is_err());
    }

    #[test]
    fn envelopes_keep_each_records_text() {
        #[derive(serde::Deserialize, Default, Debug, PartialEq)]
        #[serde(default)]
        struct R<'a> {
            #[serde(borrow)]
            id: Scalar<'a>,
        }
        let body = br#" {"record_count": "3", "page": 1, "clients": [ {"id": 1,  "b": 2, "a": 1}, {"id": "x\u00e9"} ], "next": null, "item": 7} "#;
        let e = Envelope::parse(body).unwrap();
        assert_eq!(e.count("record_count"), Some(3));
        assert_eq!(e.count("page"), Some(1));
        assert_eq!(e.count("clients"), None);
        assert_eq!(e.count("missing"), None);
        assert_eq!(e.get("next").map(RawValue::get), Some("null"));
        let raws: Vec<&str> = e
            .records("clients")
            .unwrap()
            .iter()
            .map(|r| r.get())
            .collect();
        // The PSA's own text, key order and blanks included (a `Value` would sort the keys).
        assert_eq!(
            raws,
            [r#"{"id": 1,  "b": 2, "a": 1}"#, r#"{"id": "x\u00e9"}"#]
        );
        let mapped = e
            .map_records("clients", |r: R, raw| Ok((r.id.id(), raw)))
            .unwrap();
        assert_eq!(mapped[1].0.as_deref(), Some("xé"));
        assert_eq!(mapped[0].1, raws[0]);
        for key in ["missing", "next", "record_count"] {
            match e.records(key) {
                Err(Error::Remote(p)) => assert!(p.message.contains(key), "{}", p.message),
                other => panic!("{key}: {other:?}"),
            }
        }
        assert!(e.record("next").unwrap().is_none());
        assert!(e.record("missing").unwrap().is_none());
        assert!(e.record("item").is_err());
        assert!(e.record("clients").is_err());
        // The last of a repeated key, as in a `Value`.
        let twice = Envelope::parse(br#"{"n": 1, "n": 2}"#).unwrap();
        assert_eq!(twice.count("n"), Some(2));
        for bad in [
            &b"[1]"[..],
            b"",
            b"null",
            b"{\"a\": 1",
            b"<html>",
            b"{\"a\": 1} x",
        ] {
            assert!(
                matches!(Envelope::parse(bad), Err(Error::Remote(_))),
                "{bad:?}"
            );
        }
    }

    /// The one-pass reading gives what `records` then `typed` give, errors included.
    #[test]
    fn map_records_reads_like_records_then_typed() {
        #[derive(serde::Deserialize, Default, Debug, PartialEq)]
        #[serde(default)]
        struct R<'a> {
            #[serde(borrow)]
            id: Scalar<'a>,
            #[serde(borrow)]
            o: Object<Inner<'a>>,
        }
        fn two_pass(body: &[u8]) -> Result<Vec<(R<'_>, &str)>> {
            records(body)?
                .into_iter()
                .map(|r| Ok((typed(r.get())?, r.get())))
                .collect()
        }
        let bodies: &[&[u8]] = &[
            b"[]",
            b" \n[ ] \r\n",
            br#"[{"id": 1}]"#,
            br#"[{"id":1,"o":{"id":"x","tags":[1,"a"]}},{"id":2}]"#,
            b"\t[ {\"id\" : 1 } ,\n {\"id\":\"2\", \"x\": [1, {\"y\": null}]}\n ]\n",
            br#"[{"id": 1}, 7, "s", null, [1, 2], {"id": 3}]"#,
            br#"[{"id": 1, "id": 2}, {"id": 3}]"#,
            br#"[{"id": "\u00e9\n"}, {"o": {"id": 1, "id": 2}}]"#,
            br#"[{"id": 1}"#,
            br#"[{"id": 1},]"#,
            br#"[{"id": 1}] x"#,
            br#"[{"id": 1}{"id": 2}]"#,
            br#"[{"id": 1} {"id": 2}]"#,
            br#"[{"id": tru}]"#,
            br#"{"id": 1}"#,
            b"",
            b"   ",
            b"[1,2,]",
            b"[\"\xff\"]",
            b"[{\"x\": \"\xff\"}]",
            b"[{\"id\": 1}, {\"id\": \"\\ud800\"}]",
        ];
        for body in bodies {
            let fast = map_records(body, |r: R, raw| Ok((r, raw)));
            let slow = two_pass(body);
            match (&fast, &slow) {
                (Ok(f), Ok(s)) => assert_eq!(f, s, "{}", String::from_utf8_lossy(body)),
                (Err(f), Err(s)) => assert_eq!(f, s, "{}", String::from_utf8_lossy(body)),
                _ => panic!("{}: {fast:?} vs {slow:?}", String::from_utf8_lossy(body)),
            }
        }
        // `f`'s first error, and `f` not called after it; a malformed body wins.
        let mut seen = Vec::new();
        let mut f = |r: R, _: &str| {
            let id = r.id.id().unwrap_or_default();
            seen.push(id.clone());
            if id == "2" {
                Err(Error::malformed(format!("bad {id}")))
            } else {
                Ok(id)
            }
        };
        let read = map_records(br#"[{"id": 1}, {"id": 2}, {"id": 3}]"#, &mut f);
        assert_eq!(read, Err(Error::malformed("bad 2")));
        assert_eq!(seen, ["1", "2"]);
        let read = map_records(br#"[{"id": 1}, {"id": 2}, {"id": 3}"#, |r: R, _| {
            match r.id.id().as_deref() {
                Some("2") => Err(Error::malformed("bad 2")),
                _ => Ok(()),
            }
        });
        assert_eq!(
            read,
            Err(records(br#"[{"id": 1}, {"id": 2}, {"id": 3}"#).unwrap_err())
        );
        let read = map_records(br#"[{"id": 1, "id": 2}, 7]"#, |r: R, raw| Ok((r, raw))).unwrap();
        assert_eq!(read[0].0.id.id().as_deref(), Some("2"));
        assert_eq!(read[0].1, r#"{"id": 1, "id": 2}"#);
        assert_eq!((read[1].0.id.id(), read[1].1), (None, "7"));
    }
}
