//! A small typed HTTP client over the host's `http` capability.
//!
//! ```
//! use psa_sdk::http::Request;
//! use psa_sdk::status::ErrorMap;
//! # let host = psa_sdk::fake::FakeHost::new();
//! # host.on(psa_sdk::http::Method::Get, "https://api.example.com/v1/companies?page=1")
//! #     .reply(200, r#"[{"id": 1}]"#);
//! # fn demo() -> psa_sdk::Result<()> {
//! // Any status is a response; `check` turns all but 2xx into the contract's error.
//! let response = Request::get("https://api.example.com/v1/companies")
//!     .query("page", "1")
//!     .header("accept", "application/json")
//!     .send()?
//!     .check(&ErrorMap::new("Example PSA", "api-key"))?;
//! let companies: Vec<serde_json::Value> = response.json()?;
//! # assert_eq!(companies.len(), 1);
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use crate::bindings::psa::connector::http as wit;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use wit::Method;

/// A request under construction.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    endpoint: Option<String>,
    retryable: Option<bool>,
}

impl Request {
    /// A request with `method` to `url` (which may already hold a query string).
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            endpoint: None,
            retryable: None,
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A PATCH request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A PUT request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A DELETE request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Appends a query parameter; name and value are percent-encoded.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets a header, replacing an earlier one of the same name.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// Sets `authorization: Basic base64(user:password)`.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let token = base64_encode(format!("{user}:{password}").as_bytes());
        self.header("authorization", format!("Basic {token}"))
    }

    /// Sets `authorization: Bearer token`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid("body", format!("cannot encode the body as JSON: {e}")))?;
        Ok(self.header("content-type", "application/json").body(bytes))
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body.into_bytes())
    }

    /// Names the budget this request counts against for per-endpoint rate limits (for example
    /// the Autotask entity, `Tickets`). By default the host uses the path with ids folded.
    pub fn endpoint(mut self, name: impl Into<String>) -> Self {
        self.endpoint = Some(name.into());
        self
    }

    /// Says whether the host may resend the request after a 429 or 503. By default only GET,
    /// HEAD, PUT and DELETE are resent; mark reads sent as POST (query endpoints) retryable.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = Some(retryable);
        self
    }

    /// Sets a raw body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// The full URL with the query parameters appended.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            return self.url.clone();
        }
        let query = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}{query}", self.url)
    }

    /// Sends the request through the host. Any HTTP status is a [`Response`]; only a transport
    /// failure or a host denial is an error.
    pub fn send(self) -> Result<Response> {
        let request = wit::Request {
            method: self.method,
            url: self.url(),
            headers: self.headers,
            body: self.body,
            endpoint: self.endpoint,
            retryable: self.retryable,
        };
        let response = crate::host::send(&request)?;
        Ok(Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::malformed(format!(
                "the PSA answered {} with a body that is not the expected JSON: {e}",
                self.status
            ))
        })
    }

    /// `Retry-After` in milliseconds, as seconds or as an HTTP date (counted from the sandbox's
    /// clock); see [`crate::status::retry_after_ms`].
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|v| crate::status::retry_after_ms(v, crate::time::now_unix()))
    }

    /// The response when it is 2xx, else the contract's error for it as `errors` maps it (see
    /// [`crate::status`]).
    pub fn check(self, errors: &crate::status::ErrorMap<'_>) -> Result<Response> {
        errors.check(self)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as space) of a query component.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The value of query parameter `name` in `url`, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_component(k) == name).then(|| decode_component(v))
    })
}

/// The URL of the `rel="next"` entry of an RFC 8288 `Link` header.
pub fn link_next(link_header: &str) -> Option<String> {
    link_header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| target.to_string())
    })
}

fn base64_encode(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            TABLE[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            TABLE[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(
            encode_component("lastUpdated > [2026-01-01T00:00:00Z]"),
            "lastUpdated%20%3E%20%5B2026-01-01T00%3A00%3A00Z%5D"
        );
        assert_eq!(encode_component("a\"b'c"), "a%22b%27c");
        assert_eq!(decode_component("a%20b+c%22"), "a b c\"");
        assert_eq!(decode_component("100%"), "100%");
    }

    #[test]
    fn builds_urls_with_query() {
        let r = Request::get("https://h/x?a=1").query("b", "x y");
        assert_eq!(r.url(), "https://h/x?a=1&b=x%20y");
        assert_eq!(query_param(&r.url(), "b").as_deref(), Some("x y"));
        assert_eq!(query_param(&r.url(), "c"), None);
    }

    #[test]
    fn parses_link_next() {
        let h = r#"<https://h/x?page=1>; rel="first", <https://h/x?page=3>; rel="next", <https://h/x?page=9>; rel="last""#;
        assert_eq!(link_next(h).as_deref(), Some("https://h/x?page=3"));
        assert_eq!(link_next(r#"<https://h/x?page=1>; rel="first""#), None);
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"acme+pub:priv"), "YWNtZStwdWI6cHJpdg==");
    }
}
