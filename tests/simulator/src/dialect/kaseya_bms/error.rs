//! The Kaseya BMS envelope: `{"result": ..., "totalRecords": n, "success": true, "error": null}`
//! and its error form.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::dialect::http::{json_response, with_retry_after};

/// A list answer: the records of the page and the number matching every filter.
pub(crate) fn list(records: Vec<Value>, total: usize) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"result": records, "totalRecords": total, "success": true, "error": null}),
    )
}

/// A one-record answer.
pub(crate) fn one(status: StatusCode, record: Value) -> Response {
    json_response(
        status,
        &json!({"result": record, "success": true, "error": null}),
    )
}

/// One entry of `validationErrors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// An error answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BmsError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) validation: Vec<FieldError>,
    retry_after: Option<u64>,
    bearer_challenge: bool,
}

impl BmsError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> BmsError {
        BmsError {
            status,
            code,
            message: message.into(),
            validation: Vec::new(),
            retry_after: None,
            bearer_challenge: false,
        }
    }

    /// 400 `ValidationError` with one entry per problem.
    pub(crate) fn validation(message: &str, errors: Vec<FieldError>) -> BmsError {
        BmsError {
            validation: errors,
            ..BmsError::new(StatusCode::BAD_REQUEST, "ValidationError", message)
        }
    }

    /// 401 on a request with a missing, unknown or expired token (with `WWW-Authenticate`).
    pub(crate) fn token(code: &'static str, message: &str) -> BmsError {
        BmsError {
            bearer_challenge: true,
            ..BmsError::new(StatusCode::UNAUTHORIZED, code, message)
        }
    }

    /// 403 for a user whose role lacks `permission`.
    pub(crate) fn forbidden(permission: &str) -> BmsError {
        BmsError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "You do not have permission to perform this action: the user's role lacks {permission}"
            ),
        )
    }

    /// 404 for an unknown record: "Ticket 99 was not found."
    pub(crate) fn record(noun: &str, id: impl std::fmt::Display) -> BmsError {
        BmsError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{noun} {id} was not found."),
        )
    }

    /// 404 for an unknown path.
    pub(crate) fn no_endpoint(method: &str, path: &str) -> BmsError {
        BmsError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No endpoint matches {method} {path}."),
        )
    }

    /// 405 on a known path.
    pub(crate) fn method_not_allowed(method: &str, path: &str) -> BmsError {
        BmsError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{method} is not allowed on {path}."),
        )
    }

    /// 429 with `Retry-After`: the hourly calls of `endpoint` are spent.
    pub(crate) fn quota(limit: u64, endpoint: &str, retry_after_secs: u64) -> BmsError {
        BmsError {
            retry_after: Some(retry_after_secs),
            ..BmsError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!(
                    "API calls quota exceeded: at most {limit} calls per hour on {endpoint}. Retry in {retry_after_secs} seconds."
                ),
            )
        }
    }

    /// An injected server error: 503 `ServiceUnavailable`, any other 5xx `InternalServerError`.
    pub(crate) fn server(status: u16) -> BmsError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            BmsError::new(
                status,
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            )
        } else {
            BmsError::new(
                status,
                "InternalServerError",
                "An unexpected error occurred.",
            )
        }
    }

    fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if !self.validation.is_empty() {
            error["validationErrors"] = self
                .validation
                .iter()
                .map(|e| json!({"field": e.field, "message": e.message}))
                .collect();
        }
        json!({"result": null, "success": false, "error": error})
    }
}

impl IntoResponse for BmsError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        if self.bearer_challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        with_retry_after(response, self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_the_envelope() {
        assert_eq!(
            BmsError::validation(
                "The ticket is invalid.",
                vec![FieldError::new("title", "Title is required.")]
            )
            .body(),
            json!({"result": null, "success": false, "error": {"code": "ValidationError",
                "message": "The ticket is invalid.",
                "validationErrors": [{"field": "title", "message": "Title is required."}]}})
        );
        assert_eq!(
            BmsError::record("Ticket", 99).body(),
            json!({"result": null, "success": false, "error": {"code": "NotFound", "message": "Ticket 99 was not found."}})
        );
        let r = BmsError::quota(1500, "v2/crm/accounts", 42).into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "42");
        let r = BmsError::token("TokenExpired", "The access token has expired.").into_response();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_eq!(BmsError::server(500).code, "InternalServerError");
        assert_eq!(BmsError::server(503).code, "ServiceUnavailable");
    }
}
