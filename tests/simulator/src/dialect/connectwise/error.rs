//! ConnectWise's error body: `{"code","message","errors"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::dialect::http::{json_response, with_retry_after};

/// One entry of `errors`: which field of which resource is wrong.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) resource: &'static str,
    pub(crate) field: String,
}

impl FieldError {
    /// A required field is missing or null.
    pub(crate) fn required(resource: &'static str, field: &str) -> FieldError {
        FieldError {
            code: "NullValue",
            message: format!("The {field} field is required."),
            resource,
            field: field.to_string(),
        }
    }

    /// A field has a bad value.
    pub(crate) fn invalid(resource: &'static str, field: &str, message: String) -> FieldError {
        FieldError {
            code: "InvalidField",
            message,
            resource,
            field: field.to_string(),
        }
    }
}

/// How `errors` is rendered: absent, `null`, or a list.
#[derive(Clone, Debug, PartialEq)]
enum Errors {
    Absent,
    Null,
    List(Vec<FieldError>),
}

/// An error answer of the ConnectWise API.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CwError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    errors: Errors,
    retry_after: Option<u64>,
}

impl CwError {
    fn new(status: StatusCode, code: &'static str, message: String, errors: Errors) -> CwError {
        CwError {
            status,
            code,
            message,
            errors,
            retry_after: None,
        }
    }

    /// 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> CwError {
        CwError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            message.into(),
            Errors::Absent,
        )
    }

    /// 403.
    pub(crate) fn forbidden(message: impl Into<String>) -> CwError {
        CwError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            message.into(),
            Errors::Absent,
        )
    }

    /// 404 for a missing record: "Ticket with id 99 was not found."
    pub(crate) fn record_not_found(noun: &str, id: impl std::fmt::Display) -> CwError {
        CwError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{noun} with id {id} was not found."),
            Errors::Null,
        )
    }

    /// 404 for anything else (unknown path, unknown company at discovery).
    pub(crate) fn not_found(message: impl Into<String>) -> CwError {
        CwError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            message.into(),
            Errors::Absent,
        )
    }

    /// 405.
    pub(crate) fn method_not_allowed(method: &str) -> CwError {
        CwError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
            Errors::Absent,
        )
    }

    /// 400 InvalidObject with field errors.
    pub(crate) fn invalid_object(message: impl Into<String>, errors: Vec<FieldError>) -> CwError {
        CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            message.into(),
            Errors::List(errors),
        )
    }

    /// 400 for a bad query parameter or header: the message starts with its name.
    pub(crate) fn bad_param(param: &str, problem: impl std::fmt::Display) -> CwError {
        let message = format!("{param}: {problem}");
        let errors = vec![FieldError::invalid("query", param, message.clone())];
        CwError::invalid_object(message, errors)
    }

    /// 429 with `Retry-After`.
    pub(crate) fn too_many_requests(retry_after_secs: u64) -> CwError {
        CwError {
            retry_after: Some(retry_after_secs),
            ..CwError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Request rate limit exceeded".into(),
                Errors::Absent,
            )
        }
    }

    /// 500 for a bug of the simulator.
    pub(crate) fn internal(message: impl Into<String>) -> CwError {
        CwError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message.into(),
            Errors::Absent,
        )
    }

    /// An injected 5xx.
    pub(crate) fn server_error(status: u16) -> CwError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
            (
                "ServiceUnavailable",
                "The service is temporarily unavailable; try again later",
            )
        } else {
            (
                "InternalServerError",
                "An unexpected error occurred; try again later",
            )
        };
        CwError::new(status, code, message.into(), Errors::Absent)
    }

    fn body(&self) -> Value {
        let mut body = json!({"code": self.code, "message": self.message});
        match &self.errors {
            Errors::Absent => {}
            Errors::Null => body["errors"] = Value::Null,
            Errors::List(list) => {
                body["errors"] = list
                    .iter()
                    .map(|e| json!({"code": e.code, "message": e.message, "resource": e.resource, "field": e.field}))
                    .collect();
            }
        }
        body
    }
}

impl IntoResponse for CwError {
    fn into_response(self) -> Response {
        let response = json_response(self.status, &self.body());
        with_retry_after(response, self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_dialect() {
        assert_eq!(
            CwError::record_not_found("Ticket", 99).body(),
            json!({"code":"NotFound","message":"Ticket with id 99 was not found.","errors":null})
        );
        assert_eq!(
            CwError::unauthorized("x").body(),
            json!({"code":"Unauthorized","message":"x"})
        );
        assert_eq!(
            CwError::invalid_object(
                "Ticket object is invalid",
                vec![FieldError::required("ticket", "summary")]
            )
            .body(),
            json!({"code":"InvalidObject","message":"Ticket object is invalid","errors":[
                {"code":"NullValue","message":"The summary field is required.","resource":"ticket","field":"summary"}]})
        );
        assert_eq!(
            CwError::server_error(500).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(CwError::server_error(503).code, "ServiceUnavailable");
    }
}
