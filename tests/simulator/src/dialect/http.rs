//! HTTP plumbing shared by the dialects: JSON responses, request counting, reading bodies,
//! query strings, and injecting the fault knobs into an answer.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::faults::{Fault, Faults, truncate_body};
use crate::state::Shared;

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// A response with a JSON body already serialised.
pub(crate) fn bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    bytes_response(status, serde_json::to_vec(body).unwrap_or_default())
}

/// Adds `Retry-After: secs` when there is one.
pub(crate) fn with_retry_after(mut response: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A router sending every request to `handler` (dialects whose paths ignore case route
/// themselves), counting each request.
pub(crate) fn catch_all<H, T>(shared: Arc<Shared>, handler: H) -> Router
where
    H: Handler<T, Arc<Shared>>,
    T: 'static,
{
    Router::new()
        .fallback(handler)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            count_requests,
        ))
        .with_state(shared)
}

/// Middleware counting every HTTP request ([`crate::SimState::requests_served`]).
pub(crate) async fn count_requests(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    shared.count_request();
    next.run(request).await
}

/// Reads a request body of at most [`MAX_BODY`] bytes; `None` when it is larger (or broken).
pub(crate) async fn read_body(body: Body) -> Option<Bytes> {
    to_bytes(body, MAX_BODY).await.ok()
}

/// A header as text ("" when absent or not text).
pub(crate) fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// An error answer a fault knob injects instead of the real one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    /// 429 with this `Retry-After`, in seconds.
    TooManyRequests(u64),
    /// This 5xx status.
    ServerError(u16),
}

/// `http://host[:port]` of the request: its Host header when that is sane, else `fallback`
/// (the simulator's own origin). Links and zone URLs point where the client connected.
pub(crate) fn request_origin(headers: &HeaderMap, fallback: &str) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map_or_else(|| fallback.to_string(), |h| format!("http://{h}"))
}

/// Counts one API request against the fault knobs and answers accordingly: waits the delay,
/// then answers a 429 or 5xx with `answer`, or runs `handle` (its body cut in half when the
/// malformed knob fires: status, headers and side effects stay real).
pub(crate) async fn with_faults(
    faults: &Faults,
    answer: impl FnOnce(Injected) -> Response,
    handle: impl Future<Output = Response>,
) -> Response {
    let plan = faults.next();
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    match plan.fault {
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            answer(Injected::TooManyRequests(retry_after_secs))
        }
        Some(Fault::ServerError { status }) => answer(Injected::ServerError(status)),
        Some(Fault::Malformed) => {
            let (head, body) = handle.await.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let mut response = Response::from_parts(head, Body::from(truncate_body(&bytes)));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
        None => {
            let response = handle.await;
            if !plan.answer_delay.is_zero() {
                tokio::time::sleep(plan.answer_delay).await;
            }
            response
        }
    }
}

/// One `key=value` of a query string.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pair {
    /// As sent, so paging links can repeat it verbatim.
    pub(crate) raw: String,
    /// Decoded and lower-cased (parameter names ignore case).
    pub(crate) key: String,
    /// Decoded.
    pub(crate) value: String,
}

/// Splits a raw query string into pairs.
pub(crate) fn pairs(query: Option<&str>) -> Vec<Pair> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let (key, value) = url::form_urlencoded::parse(raw.as_bytes())
                .next()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .unwrap_or_default();
            Pair {
                raw: raw.to_string(),
                key: key.to_ascii_lowercase(),
                value,
            }
        })
        .collect()
}

/// The last value of parameter `name` (lower-case).
pub(crate) fn param<'a>(pairs: &'a [Pair], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|p| p.key == name)
        .map(|p| p.value.as_str())
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode_and_keep_the_raw_text() {
        let p = pairs(Some("orderBy=id%20asc&PageSize=5&&x"));
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].key.as_str(), p[0].value.as_str()),
            ("orderby", "id asc")
        );
        assert_eq!(p[0].raw, "orderBy=id%20asc");
        assert_eq!(param(&p, "pagesize"), Some("5"));
        assert_eq!(param(&p, "x"), Some(""));
        assert_eq!(param(&p, "nope"), None);
        assert_eq!(encode("a b&c"), "a+b%26c");
    }

    #[tokio::test]
    async fn faults_shape_the_answer() {
        let faults = Faults::default();
        let ok = || async { json_response(StatusCode::OK, &serde_json::json!({"a": [1, 2]})) };
        let answer = |_| StatusCode::IM_A_TEAPOT.into_response();
        assert_eq!(with_faults(&faults, answer, ok()).await.status(), 200);
        faults.set_server_errors(1, 500);
        assert_eq!(with_faults(&faults, answer, ok()).await.status(), 418);
        faults.clear();
        faults.set_malformed_every(1);
        let r = with_faults(&faults, answer, ok()).await;
        let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], b"{\"a\":");
    }
}
