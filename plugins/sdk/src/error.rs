//! The contract's error type with constructors that read well at the call site, redaction of
//! secrets from its messages, and conversions from the host capabilities' errors.

use crate::bindings::psa::connector::http::HttpError;
use crate::bindings::psa::connector::kv::KvError;
pub use crate::bindings::psa::connector::types::{
    CredentialProblem, Error, FieldProblem, PermissionProblem, RemoteProblem, RetryHint,
};

/// The result of every connector operation.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The credential held in setting `setting` was refused.
    pub fn unauthorized(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Unauthorized(CredentialProblem {
            settings: vec![setting.into()],
            message: message.into(),
        })
    }

    /// A credential was refused and the PSA does not say which: `settings` names every setting
    /// it may be about, the likeliest first (an OAuth `invalid_client`: `["client-id",
    /// "client-secret"]`). An empty list (the contract's `settings` is never empty) names
    /// nothing the operator could fix, so it is a programming error: it panics in debug builds
    /// and names `credentials` otherwise.
    pub fn unauthorized_any<S: Into<String>>(
        settings: impl IntoIterator<Item = S>,
        message: impl Into<String>,
    ) -> Self {
        let mut settings: Vec<String> = settings.into_iter().map(Into::into).collect();
        debug_assert!(!settings.is_empty(), "unauthorized_any needs a setting");
        if settings.is_empty() {
            settings.push("credentials".into());
        }
        Error::Unauthorized(CredentialProblem {
            settings,
            message: message.into(),
        })
    }

    /// The credentials lack `permission`.
    pub fn forbidden(permission: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Forbidden(PermissionProblem {
            permission: permission.into(),
            message: message.into(),
        })
    }

    /// `what` does not exist.
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }

    /// The input `field` (a setting, an argument or a record field) is invalid.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput(FieldProblem {
            field: field.into(),
            message: message.into(),
        })
    }

    /// The PSA asked to slow down.
    pub fn rate_limited(retry_after_ms: Option<u64>, message: impl Into<String>) -> Self {
        Error::RateLimited(RetryHint {
            retry_after_ms,
            message: message.into(),
        })
    }

    /// The PSA is unreachable or failing; retry later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable(message.into())
    }

    /// The connector does not support this.
    pub fn unsupported(what: impl Into<String>) -> Self {
        Error::Unsupported(what.into())
    }

    /// Any other PSA answer.
    pub fn remote(status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        Error::Remote(RemoteProblem {
            status,
            code,
            message: message.into(),
        })
    }

    /// The PSA answered with something the connector cannot read (malformed JSON, a missing field).
    pub fn malformed(what: impl core::fmt::Display) -> Self {
        Error::remote(0, Some("malformed-response".into()), what.to_string())
    }

    /// The error with `f` applied to every text meant for people: the messages, a permission's
    /// description and what was not found. The names a program reads (the setting, the field,
    /// the code, the status, the retry hint) are left alone.
    pub fn map_text(self, mut f: impl FnMut(String) -> String) -> Self {
        match self {
            Error::Unauthorized(mut p) => {
                p.message = f(p.message);
                Error::Unauthorized(p)
            }
            Error::Forbidden(mut p) => {
                p.permission = f(p.permission);
                p.message = f(p.message);
                Error::Forbidden(p)
            }
            Error::NotFound(m) => Error::NotFound(f(m)),
            Error::InvalidInput(mut p) => {
                p.message = f(p.message);
                Error::InvalidInput(p)
            }
            Error::RateLimited(mut p) => {
                p.message = f(p.message);
                Error::RateLimited(p)
            }
            Error::Unavailable(m) => Error::Unavailable(f(m)),
            Error::Unsupported(m) => Error::Unsupported(f(m)),
            Error::Remote(mut p) => {
                p.message = f(p.message);
                Error::Remote(p)
            }
        }
    }

    /// The error with every secret replaced by `[redacted]` in its texts (see
    /// [`crate::message::redact`]): for errors that quote a PSA answer which may echo a
    /// credential, or a token the host does not know is secret.
    pub fn redact(self, secrets: &[&str]) -> Self {
        self.map_text(|text| crate::message::redact(&text, secrets))
    }

    /// A short stable name of the variant (`unauthorized`, `rate-limited`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not-found",
            Error::InvalidInput(_) => "invalid-input",
            Error::RateLimited(_) => "rate-limited",
            Error::Unavailable(_) => "unavailable",
            Error::Unsupported(_) => "unsupported",
            Error::Remote(_) => "remote",
        }
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Denied(reason) => Error::forbidden(
                "outbound access granted by the psahost operator",
                format!("the host denied the request: {reason}"),
            ),
            HttpError::InvalidRequest(m) => Error::invalid("url", m),
            HttpError::Timeout(m) => Error::unavailable(format!("request timed out: {m}")),
            HttpError::ResponseTooLarge(cap) => Error::remote(
                0,
                Some("response-too-large".into()),
                format!("the response exceeded the host's size cap of {cap} bytes"),
            ),
            HttpError::RateLimited(ms) => Error::rate_limited(
                Some(ms),
                "the host's rate limit for this connection has no budget left",
            ),
            HttpError::Connection(m) => Error::unavailable(format!("connection failed: {m}")),
        }
    }
}

impl From<KvError> for Error {
    fn from(e: KvError) -> Self {
        let message = match e {
            KvError::KeyTooLarge(cap) => {
                format!("kv key larger than the host's cap of {cap} bytes")
            }
            KvError::ValueTooLarge(cap) => {
                format!("kv value larger than the host's cap of {cap} bytes")
            }
            KvError::QuotaExceeded(q) => {
                format!("kv quota of {q} bytes for this connection exceeded")
            }
            KvError::Storage(m) => format!("kv storage failed: {m}"),
        };
        Error::unavailable(message)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::malformed(format!("invalid JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_names_one_setting_or_several() {
        match Error::unauthorized("api-key", "refused") {
            Error::Unauthorized(p) => assert_eq!(p.settings, ["api-key"]),
            other => panic!("{other:?}"),
        }
        match Error::unauthorized_any(["client-id", "client-secret"], "refused") {
            Error::Unauthorized(p) => {
                assert_eq!(p.settings, ["client-id", "client-secret"]);
                assert_eq!(p.message, "refused");
            }
            other => panic!("{other:?}"),
        }
    }
}
