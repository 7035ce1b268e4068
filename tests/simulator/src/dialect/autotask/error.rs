//! Autotask's error body, `{"errors": ["..."]}`, and the answers of the dialect.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::dialect::http::{json_response, with_retry_after};

/// An error answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AtError {
    pub(crate) status: StatusCode,
    pub(crate) errors: Vec<String>,
    retry_after: Option<u64>,
}

impl AtError {
    fn new(status: StatusCode, message: impl Into<String>) -> AtError {
        AtError {
            status,
            errors: vec![message.into()],
            retry_after: None,
        }
    }

    /// 500 with every problem found (validation, unknown user, bad integration code...).
    pub(crate) fn server(errors: Vec<String>) -> AtError {
        AtError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            errors,
            retry_after: None,
        }
    }

    /// 500 with one message.
    pub(crate) fn invalid(message: impl Into<String>) -> AtError {
        AtError::server(vec![message.into()])
    }

    /// 401 (a wrong secret, or a zone that no longer holds the tenant).
    pub(crate) fn unauthorized() -> AtError {
        AtError::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 404 for a path the zone does not serve.
    pub(crate) fn not_found() -> AtError {
        AtError::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 405.
    pub(crate) fn method_not_allowed(method: &str) -> AtError {
        AtError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The requested resource does not support http method '{method}'."),
        )
    }

    /// 429: more than the allowed concurrent requests on one entity.
    pub(crate) fn thread_limit(limit: usize, entity: &str) -> AtError {
        AtError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Thread threshold exceeded: the API tracking identifier already has {limit} concurrent requests on the {entity} endpoint. Wait for one to finish and retry."
            ),
        )
    }

    /// 429 with `Retry-After`: the hourly request budget is spent.
    pub(crate) fn request_threshold(limit: u64, retry_after_secs: u64) -> AtError {
        AtError {
            retry_after: Some(retry_after_secs),
            ..AtError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Request threshold exceeded: {limit} requests in the last 60 minutes for this database. Try again later."
                ),
            )
        }
    }

    /// Any other server failure (an injected 5xx).
    pub(crate) fn unexpected(status: u16) -> AtError {
        AtError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "An unexpected error has occurred. Please try again later.",
        )
    }
}

impl IntoResponse for AtError {
    fn into_response(self) -> Response {
        let response = json_response(self.status, &json!({ "errors": self.errors }));
        with_retry_after(response, self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_documented_ones() {
        assert_eq!(
            AtError::thread_limit(3, "Tickets").errors,
            vec![
                "Thread threshold exceeded: the API tracking identifier already has 3 concurrent requests on the Tickets endpoint. Wait for one to finish and retry."
            ]
        );
        assert_eq!(
            AtError::request_threshold(10_000, 5).errors,
            vec![
                "Request threshold exceeded: 10000 requests in the last 60 minutes for this database. Try again later."
            ]
        );
        let r = AtError::request_threshold(10, 42).into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "42");
        assert_eq!(AtError::unexpected(502).status, StatusCode::BAD_GATEWAY);
    }
}
