//! Bearer-token authentication of the API.
//!
//! Every route but `/health` and `/ready` needs `Authorization: Bearer <token>` with the token
//! of `[api] token`. A missing or wrong token gets `401` with a JSON error body and
//! `WWW-Authenticate: Bearer`. Tokens are compared through their SHA-256 digests with a
//! comparison whose time does not depend on where they differ (nor on the candidate's length).

use super::ApiError;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The expected token, kept as its digest.
pub struct TokenCheck {
    digest: [u8; 32],
}

impl TokenCheck {
    /// A check for `token`.
    pub fn new(token: &str) -> TokenCheck {
        TokenCheck {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether `candidate` is the token, in time independent of their contents.
    pub fn matches(&self, candidate: &str) -> bool {
        let other: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        let diff = self
            .digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

/// The bearer token of a request's `Authorization` header (scheme case-insensitive).
fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The middleware: lets the request through only with the right token.
pub async fn require_token(
    State(check): State<Arc<TokenCheck>>,
    request: Request,
    next: Next,
) -> Response {
    let error = match bearer(&request) {
        Some(token) if check.matches(token) => return next.run(request).await,
        Some(_) => ApiError::unauthorized("the bearer token is wrong"),
        None => ApiError::unauthorized(
            "this route needs the API token: send `Authorization: Bearer <token>` ([api] token of the configuration)",
        ),
    };
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, "Bearer".parse().expect("a valid header"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_tokens() {
        let check = TokenCheck::new("0123456789abcdef");
        assert!(check.matches("0123456789abcdef"));
        assert!(!check.matches("0123456789abcdeF"));
        assert!(!check.matches(""));
        assert!(!check.matches("0123456789abcdef0"));
    }
}
