//! A PSA's error answer (any status but 2xx) mapped to the contract's error.
//!
//! The mapping every connector needs, with the connector's own hook for what only its PSA says:
//!
//! | status | error |
//! |---|---|
//! | 401 | `unauthorized`, naming the setting that holds the credential |
//! | 403 | `forbidden`, the permission as precisely as the answer says it |
//! | 404 | `not-found`, naming the record asked for when there was one |
//! | 429 | `rate-limited`, with `Retry-After` in seconds or as an HTTP date |
//! | 5xx | `unavailable` (retry later) |
//! | anything else | `remote`, with the PSA's code and a short excerpt of its message |
//!
//! A 429 is never `remote`: the host suspends the sync and resumes it later only for
//! `rate-limited`. The answer's message is read from the common JSON error shapes (`message`,
//! `error.message`, `errors[]`, OAuth's `error_description`, ...) or is an excerpt of the body;
//! the secrets given with [`ErrorMap::secret`] are redacted from every text of the error.
//!
//! ```
//! use psa_sdk::http::Response;
//! use psa_sdk::status::ErrorMap;
//! use psa_sdk::Error;
//!
//! let answer = |status: u16, headers: &[(&str, &str)], body: &str| Response {
//!     status,
//!     headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
//!     body: body.as_bytes().to_vec(),
//! };
//! let errors = ErrorMap::new("Acme PSA", "api-key").subject("company 42");
//!
//! let e = errors.map(&answer(429, &[("retry-after", "30")], r#"{"message": "slow down"}"#));
//! assert_eq!(e, Error::rate_limited(Some(30_000), "Acme PSA rate limit: slow down"));
//! assert_eq!(errors.map(&answer(404, &[], "")), Error::not_found("company 42 was not found in Acme PSA"));
//! assert_eq!(errors.map(&answer(401, &[], "")).kind(), "unauthorized");
//! assert_eq!(errors.map(&answer(502, &[], "<html>Bad Gateway</html>")).kind(), "unavailable");
//!
//! // The connector's hook sees the answer first; `None` leaves it to the common mapping.
//! let errors = errors.hook(|response, text| {
//!     (response.status == 400).then(|| Error::invalid("name", text.message.clone()))
//! });
//! assert_eq!(
//!     errors.map(&answer(400, &[], r#"{"error": {"code": "E1", "message": "name is too long"}}"#)),
//!     Error::invalid("name", "name is too long")
//! );
//! // A 2xx answer passes through `check`.
//! assert!(errors.check(answer(200, &[], "[]")).is_ok());
//! ```

use crate::error::{Error, Result};
use crate::http::Response;
use crate::message;
use serde_json::{Map, Value};

/// What a PSA said in an error answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorText {
    /// The PSA's own error code (`InvalidObject`, OAuth's `invalid_client`), when it has one.
    pub code: Option<String>,
    /// The PSA's message, or an excerpt of the body when it is not a JSON error; empty for an
    /// empty body.
    pub message: String,
}

/// Reads the common JSON error shapes: `{"message"}`, `{"Message"}`, `{"error": {"code",
/// "message"}}`, `{"errors": ["...", {"message"}]}` (joined with blanks), `{"title"}`,
/// `{"detail"}` and OAuth's `{"error": "code", "error_description"}`. Any other body gives its
/// excerpt (at most [`message::BODY_EXCERPT_CHARS`] characters) as the message.
///
/// ```
/// use psa_sdk::status::read_error_body;
///
/// let t = read_error_body(br#"{"error": "invalid_client", "error_description": "bad secret"}"#);
/// assert_eq!((t.code.as_deref(), t.message.as_str()), (Some("invalid_client"), "bad secret"));
/// assert_eq!(read_error_body(b"<html>down</html>").message, "<html>down</html>");
/// ```
pub fn read_error_body(body: &[u8]) -> ErrorText {
    let excerpt = || message::body_excerpt(body);
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return ErrorText {
            code: None,
            message: excerpt(),
        };
    };
    let inner = match top.get("error") {
        Some(Value::Object(e)) => e,
        _ => &top,
    };
    let text = |m: &Map<String, Value>, k: &str| -> Option<String> {
        match m.get(k)? {
            Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let listed = || {
        let errors = inner
            .get("errors")
            .or_else(|| top.get("errors"))?
            .as_array()?;
        let all: Vec<String> = errors
            .iter()
            .filter_map(|e| match e {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Object(o) => text(o, "message").or_else(|| text(o, "Message")),
                _ => None,
            })
            .filter(|m| !m.is_empty())
            .collect();
        (!all.is_empty()).then(|| all.join(" "))
    };
    let message = ["message", "Message", "error_description", "detail", "title"]
        .iter()
        .find_map(|k| text(inner, k))
        .or_else(listed)
        .map(|m| message::excerpt(&m, message::BODY_EXCERPT_CHARS))
        .unwrap_or_else(excerpt);
    let code = ["code", "Code"]
        .iter()
        .find_map(|k| text(inner, k))
        .or_else(|| text(&top, "error"));
    ErrorText { code, message }
}

/// `Retry-After` in milliseconds: delay seconds (`120`) or an HTTP date (RFC 9110), which is
/// counted from `now_unix` (a date in the past is 0). `None` for anything else.
///
/// ```
/// use psa_sdk::status::retry_after_ms;
///
/// assert_eq!(retry_after_ms("120", 0), Some(120_000));
/// assert_eq!(retry_after_ms("Thu, 01 Jan 1970 00:01:00 GMT", 45), Some(15_000));
/// assert_eq!(retry_after_ms("soon", 0), None);
/// ```
pub fn retry_after_ms(value: &str, now_unix: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = crate::time::parse_http_date(value)?;
    let now = i64::try_from(now_unix).unwrap_or(i64::MAX);
    Some(
        u64::try_from(at.saturating_sub(now))
            .unwrap_or(0)
            .saturating_mul(1000),
    )
}

/// The connector's hook: the answer and its text read by [`read_error_body`]; `Some` is the
/// error, `None` leaves the answer to the common mapping.
type Hook<'a> = Box<dyn Fn(&Response, &ErrorText) -> Option<Error> + 'a>;

/// How a connector phrases a PSA's error answers. Build one per request (it borrows what the
/// request is about) and call [`ErrorMap::check`] on the response.
pub struct ErrorMap<'a> {
    psa: &'a str,
    /// The settings a 401 names, the likeliest first; never empty.
    credentials: Vec<&'a str>,
    subject: Option<&'a str>,
    secrets: Vec<&'a str>,
    hook: Option<Hook<'a>>,
}

impl<'a> ErrorMap<'a> {
    /// The mapping for answers of `psa` (the PSA's name in messages: `Acme PSA`), whose 401
    /// names the setting `credential` (the one the operator must fix: `api-key`).
    pub fn new(psa: &'a str, credential: &'a str) -> Self {
        ErrorMap {
            psa,
            credentials: vec![credential],
            subject: None,
            secrets: Vec::new(),
            hook: None,
        }
    }

    /// The settings a 401 names when the PSA does not say which credential it refused
    /// (ConnectWise: `public-key` and `private-key`), the likeliest first; they replace the one
    /// given to [`ErrorMap::new`]. An empty list keeps it.
    pub fn credentials(mut self, settings: &[&'a str]) -> Self {
        if !settings.is_empty() {
            self.credentials = settings.to_vec();
        }
        self
    }

    /// The record the request is about (`company 42`): a 404 then says it was not found.
    pub fn subject(mut self, subject: impl Into<Option<&'a str>>) -> Self {
        self.subject = subject.into();
        self
    }

    /// A secret (a token the connector obtained, a credential the PSA may echo) redacted from
    /// every text of the error; see [`crate::message::redact`].
    pub fn secret(mut self, secret: &'a str) -> Self {
        self.secrets.push(secret);
        self
    }

    /// The connector's hook for what only its PSA says (a validation error naming a field, a
    /// 401 that is about another setting, a throttling message under another status). It runs
    /// first; `None` leaves the answer to the common mapping. Its error is redacted too.
    pub fn hook(mut self, hook: impl Fn(&Response, &ErrorText) -> Option<Error> + 'a) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// The response when it is 2xx, else its error (see [`ErrorMap::map`]).
    pub fn check(&self, response: Response) -> Result<Response> {
        if response.is_success() {
            Ok(response)
        } else {
            Err(self.map(&response))
        }
    }

    /// The contract's error for an answer that is not 2xx (see the [module](self) table),
    /// `Retry-After` read against the sandbox's clock.
    pub fn map(&self, response: &Response) -> Error {
        self.map_at(response, crate::time::now_unix())
    }

    /// [`ErrorMap::map`] at `now_unix` (for an HTTP-date `Retry-After`).
    pub fn map_at(&self, response: &Response, now_unix: u64) -> Error {
        let text = read_error_body(&response.body);
        let error = self
            .hook
            .as_ref()
            .and_then(|hook| hook(response, &text))
            .unwrap_or_else(|| {
                let retry = response
                    .header("retry-after")
                    .and_then(|v| retry_after_ms(v, now_unix));
                self.common(response.status, retry, text)
            });
        error.redact(&self.secrets)
    }

    fn common(&self, status: u16, retry_after_ms: Option<u64>, text: ErrorText) -> Error {
        let psa = self.psa;
        let message = if text.message.is_empty() {
            format!("HTTP {status} without a message")
        } else {
            text.message
        };
        match status {
            401 => Error::unauthorized_any(
                self.credentials.iter().copied(),
                format!(
                    "{psa} refused the credentials (401): {message} (check {})",
                    message::quoted_list(&self.credentials)
                ),
            ),
            403 => {
                // "... the security role lacks Service Desk > Tickets (Add)."
                let permission = message
                    .split_once(" lacks ")
                    .map(|(_, p)| p.trim().trim_end_matches('.').to_string())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| message.clone());
                Error::forbidden(permission, message)
            }
            404 => match self.subject {
                Some(subject) => Error::not_found(format!("{subject} was not found in {psa}")),
                None => Error::not_found(format!("{psa} answered 404: {message}")),
            },
            429 => Error::rate_limited(retry_after_ms, format!("{psa} rate limit: {message}")),
            500..=599 => Error::unavailable(format!("{psa} answered {status}: {message}")),
            _ => Error::remote(status, text.code, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reads_error_bodies() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                r#"{"code":"InvalidObject","message":" bad "}"#,
                Some("InvalidObject"),
                "bad",
            ),
            (r#"{"Message":"flat"}"#, None, "flat"),
            (
                r#"{"result":null,"error":{"code":"TokenExpired","message":"expired"}}"#,
                Some("TokenExpired"),
                "expired",
            ),
            (r#"{"errors":["a", {"message":"b"}, 3, ""]}"#, None, "a b"),
            (
                r#"{"error":"invalid_grant","error_description":"no"}"#,
                Some("invalid_grant"),
                "no",
            ),
            (r#"{"title":"Not Found","status":404}"#, None, "Not Found"),
            (r#"{"code":42}"#, Some("42"), r#"{"code":42}"#),
            ("[1]", None, "[1]"),
            ("  <html>x</html>\n", None, "<html>x</html>"),
            ("", None, ""),
        ];
        for (body, code, message) in cases {
            let t = read_error_body(body.as_bytes());
            assert_eq!(t.code.as_deref(), *code, "{body}");
            assert_eq!(t.message, *message, "{body}");
        }
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(1000));
        assert_eq!(
            read_error_body(long.as_bytes()).message.chars().count(),
            301
        );
        assert_eq!(read_error_body(&[0xff; 2000]).message.chars().count(), 301);
    }

    #[test]
    fn retry_after_seconds_or_date() {
        assert_eq!(retry_after_ms(" 3 ", 0), Some(3000));
        assert_eq!(retry_after_ms("0", 0), Some(0));
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after_ms(date, 784111777 - 90), Some(90_000));
        assert_eq!(retry_after_ms(date, 784111777 + 90), Some(0));
        for bad in ["", "-1", "1.5", "soon", "1994-11-06T08:49:37Z"] {
            assert_eq!(retry_after_ms(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn a_401_names_several_credentials_when_told() {
        let m = ErrorMap::new("Acme", "api-key").credentials(&["public-key", "private-key"]);
        match m.map(&answer(401, &[], "")) {
            Error::Unauthorized(p) => {
                assert_eq!(p.settings, ["public-key", "private-key"]);
                assert!(
                    p.message
                        .ends_with("(check `public-key` and `private-key`)"),
                    "{}",
                    p.message
                );
            }
            other => panic!("{other:?}"),
        }
        // An empty list keeps the setting given to `new`.
        match ErrorMap::new("Acme", "api-key")
            .credentials(&[])
            .map(&answer(401, &[], ""))
        {
            Error::Unauthorized(p) => assert_eq!(p.settings, ["api-key"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maps_each_status() {
        let m = ErrorMap::new("Acme", "api-key");
        match m.map(&answer(401, &[], r#"{"message":"token refused"}"#)) {
            Error::Unauthorized(p) => {
                assert_eq!(p.settings, ["api-key"]);
                assert_eq!(
                    p.message,
                    "Acme refused the credentials (401): token refused (check `api-key`)"
                );
            }
            other => panic!("{other:?}"),
        }
        let lacks = r#"{"message":"the role lacks Service Desk > Tickets (Add)."}"#;
        match m.map(&answer(403, &[], lacks)) {
            Error::Forbidden(p) => {
                assert_eq!(p.permission, "Service Desk > Tickets (Add)");
                assert_eq!(p.message, "the role lacks Service Desk > Tickets (Add).");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.map(&answer(403, &[], "no")), Error::forbidden("no", "no"));
        assert_eq!(
            m.map(&answer(404, &[], "nope")),
            Error::not_found("Acme answered 404: nope")
        );
        assert_eq!(
            ErrorMap::new("Acme", "k")
                .subject("ticket 9")
                .map(&answer(404, &[], "")),
            Error::not_found("ticket 9 was not found in Acme")
        );
        assert_eq!(
            m.map(&answer(429, &[("Retry-After", "7")], "")),
            Error::rate_limited(Some(7000), "Acme rate limit: HTTP 429 without a message")
        );
        let dated = answer(
            429,
            &[("retry-after", "Thu, 01 Jan 1970 00:00:10 GMT")],
            "x",
        );
        assert_eq!(
            m.map_at(&dated, 4),
            Error::rate_limited(Some(6000), "Acme rate limit: x")
        );
        assert_eq!(
            m.map(&answer(429, &[("retry-after", "later")], "x")),
            Error::rate_limited(None, "Acme rate limit: x")
        );
        for status in [500, 502, 503, 599] {
            assert_eq!(
                m.map(&answer(status, &[], "down")),
                Error::unavailable(format!("Acme answered {status}: down"))
            );
        }
        for status in [300, 400, 409, 418, 422, 600] {
            assert_eq!(
                m.map(&answer(status, &[], r#"{"code":"E","message":"m"}"#)),
                Error::remote(status, Some("E".into()), "m"),
                "{status}"
            );
        }
        let html = format!("<html>{}</html>", "x".repeat(500));
        match m.map(&answer(418, &[], &html)) {
            Error::Remote(p) => {
                assert_eq!(p.code, None);
                assert!(p.message.starts_with("<html>xxx") && p.message.ends_with('…'));
                assert_eq!(p.message.chars().count(), 301);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hook_first_then_common_and_secrets_redacted() {
        let token = "tok3n-SECRET";
        let m = ErrorMap::new("Acme", "client-secret")
            .secret(token)
            .hook(|r, t| match r.status {
                400 => Some(Error::invalid("name", format!("{} ({token})", t.message))),
                // A throttling message under another status.
                503 if t.message.contains("threshold") => {
                    Some(Error::rate_limited(None, t.message.clone()))
                }
                _ => None,
            });
        assert_eq!(
            m.map(&answer(400, &[], r#"{"message":"too long"}"#)),
            Error::invalid("name", "too long ([redacted])")
        );
        assert_eq!(
            m.map(&answer(503, &[], "thread threshold")).kind(),
            "rate-limited"
        );
        assert_eq!(m.map(&answer(503, &[], "down")).kind(), "unavailable");
        match m.map(&answer(401, &[], &format!("bad token {token}"))) {
            Error::Unauthorized(p) => {
                assert_eq!(p.settings, ["client-secret"]);
                assert!(!p.message.contains(token), "{}", p.message);
                assert!(p.message.contains("[redacted]"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.check(answer(204, &[], "")).unwrap().status, 204);
        assert_eq!(
            m.check(answer(404, &[], "")).unwrap_err().kind(),
            "not-found"
        );
    }
}
