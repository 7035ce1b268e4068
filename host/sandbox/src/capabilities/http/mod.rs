//! The `http` capability: outbound requests through reqwest, within the intersection of what the
//! plugin requested and what the operator granted, under the connection's limits.
//!
//! Order of checks for every request: URL and headers are well-formed; the origin is one the
//! plugin requested *and* the operator granted; an IP-literal host that is not public must be
//! named explicitly in the grant (names are checked after DNS resolution by [`PolicyResolver`]);
//! the rate limit has budget within the call's deadline; then the request goes out with connect
//! and total timeouts, and the response body is read up to the size cap. Requests safe to resend
//! (idempotent methods, or marked `retryable` by the guest) answered 429 or 503 are retried after
//! `Retry-After` (bounded); anything else goes back to the guest as a response.
//!
//! A [`FaultPlan`] lets the conformance suite answer a connection's next requests with a
//! synthetic fault (a status, a timeout, a truncated or oversized body) instead of the server's
//! answer, so a connector's error handling is checked against any PSA. Only Rust code holding
//! the connection can set it: neither the configuration nor a guest can reach it.
//!
//! The client ignores `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY`: through a proxy, the target's
//! name would be resolved by the proxy, never by [`PolicyResolver`].

mod address;
mod limiter;
mod origin;
mod tls;

pub use address::{PolicyResolver, PrivateAddressDenied, is_public};
pub use limiter::{
    DEFAULT_MAX_ENDPOINT_SCOPES, Limiter, MAX_ENDPOINT_LABEL, Rate, Refusal, ScopeLimits,
};
pub use origin::{OriginPattern, expand, origin_of};

use crate::bindings::psa::connector::http::{Host, HttpError, Method, Request, Response};
use crate::capabilities::log::LogTag;
use crate::runtime::CallState;
use crate::text::one_line;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// What the operator allows a connection to reach.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Origins the operator granted explicitly.
    pub origins: Vec<OriginPattern>,
    /// Also grant every origin the plugin requested (the operator wrote `requested`). An IP
    /// literal granted this way must still be public unless private networks are allowed.
    pub all_requested: bool,
    /// Whether names may resolve to (and URLs may name) private, loopback or link-local addresses.
    pub allow_private_networks: bool,
}

/// Timeouts, caps and retry bounds of a connection's requests.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one request, from sending to the last byte of the body.
    pub request_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: u64,
    /// Retries of a request safe to resend, answered 429 or 503.
    pub max_retries: u32,
    /// Longest single wait before such a retry; a longer `Retry-After` goes back to the guest.
    pub max_retry_wait: Duration,
    /// Longest wait for rate-limit budget inside one call; beyond it the guest gets
    /// `rate-limited` and the sync suspends instead of holding a sandbox.
    pub max_queue_wait: Duration,
    /// The operator's limits for the whole connection.
    pub connection: ScopeLimits,
    /// Most per-endpoint rate-limit scopes the connection keeps (labels come from the guest).
    pub max_endpoint_scopes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_response_bytes: 32 * 1024 * 1024,
            max_retries: 3,
            max_retry_wait: Duration::from_secs(30),
            max_queue_wait: Duration::from_secs(10),
            connection: ScopeLimits::default(),
            max_endpoint_scopes: DEFAULT_MAX_ENDPOINT_SCOPES,
        }
    }
}

/// Counters of a connection's outbound traffic.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests sent (each retry counts).
    pub requests: AtomicU64,
    /// Responses by status class: 1xx..5xx at index 1..5.
    pub responses_by_class: [AtomicU64; 6],
    /// Requests refused by the grant.
    pub denied: AtomicU64,
    /// Requests that waited for, or were refused by, the rate limit.
    pub rate_limited: AtomicU64,
    /// Retries after 429/503.
    pub retries: AtomicU64,
    /// Bytes of response bodies received.
    pub bytes_received: AtomicU64,
    /// Endpoint labels that got no rate-limit scope of their own (too long, or too many).
    pub rejected_endpoint_labels: AtomicU64,
}

/// A fault the host answers one request with in place of the server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A synthetic answer with this status, headers and body; the request is not sent.
    Answer {
        /// The status code.
        status: u16,
        /// Headers, names in lowercase as the host hands them to guests.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// The request times out (not sent): the guest gets `timeout`, as after the request timeout.
    Timeout,
    /// The request is sent, and the guest gets the first half of the answer's body.
    TruncatedBody,
    /// The request is not sent: the guest gets `response-too-large`, as for an answer beyond
    /// the connection's size cap.
    OversizedBody,
}

/// The faults a connection's next requests get, one each, in order; requests after them go out
/// as usual. Empty unless a test or the conformance suite fills it.
#[derive(Debug, Default)]
pub struct FaultPlan {
    queue: Mutex<VecDeque<Fault>>,
}

impl FaultPlan {
    /// Queues `faults` for the next requests, after those already queued.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().extend(faults);
    }

    /// Drops the faults no request has taken; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut queue = self.lock();
        let left = queue.len();
        queue.clear();
        left
    }

    fn take(&self) -> Option<Fault> {
        self.lock().pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        // The queue holds plain values: a panic elsewhere leaves it consistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connection's outbound HTTP.
pub struct HttpCapability {
    client: reqwest::Client,
    requested: Vec<OriginPattern>,
    grant: Grant,
    limits: HttpLimits,
    limiter: Limiter,
    /// Traffic counters.
    pub stats: Arc<HttpStats>,
    /// Faults for the next requests (conformance checks and tests only).
    pub faults: FaultPlan,
}

impl HttpCapability {
    /// A capability for the plugin's requested origins (already expanded), the operator's grant,
    /// the connection's limits and the plugin's rate-limit hints (connection and endpoint scope).
    pub fn new(
        requested: Vec<OriginPattern>,
        grant: Grant,
        limits: HttpLimits,
        hints: (ScopeLimits, ScopeLimits),
        user_agent: &str,
    ) -> anyhow::Result<Self> {
        // No proxy, whatever the environment says: a proxy resolves the target itself, past
        // the policy resolver, so the private-address check would only see the proxy.
        let client = reqwest::Client::builder()
            .no_proxy()
            .user_agent(user_agent)
            .connect_timeout(limits.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(tls::connection_config()?)
            .dns_resolver(Arc::new(PolicyResolver {
                allow_private: grant.allow_private_networks,
            }))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        let limiter = Limiter::with_max_scopes(
            limits.connection.stricter(hints.0),
            hints.1,
            limits.max_endpoint_scopes,
        );
        Ok(HttpCapability {
            client,
            requested,
            grant,
            limits,
            limiter,
            stats: Arc::default(),
            faults: FaultPlan::default(),
        })
    }

    /// Whether `url` may be requested at all; the message names the origin and what to do.
    pub fn authorize(&self, url: &Url) -> Result<(), String> {
        let origin = origin_of(url);
        if !self.requested.iter().any(|p| p.matches(url)) {
            return Err(format!(
                "{origin} is not among the hosts the plugin requested in `describe`"
            ));
        }
        let explicit = self.grant.origins.iter().any(|p| p.matches(url));
        if !explicit && !self.grant.all_requested {
            return Err(format!(
                "{origin} is not in the operator's grant for this connection: add it to the grant"
            ));
        }
        // An explicit grant can only match an IP literal by naming it, which is the operator's
        // consent to reach it even when it is private.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !explicit
            && !is_public(ip)
            && !self.grant.allow_private_networks
        {
            return Err(format!(
                "{origin} is a private, loopback or link-local address: grant it by its address \
                 (for example `{origin}`) or allow private networks"
            ));
        }
        Ok(())
    }

    /// Sends `request` on behalf of the guest, before `deadline`.
    pub async fn send(
        &self,
        request: Request,
        deadline: Instant,
        tag: &LogTag,
    ) -> Result<Response, HttpError> {
        let redacted_url = tag.redactor.redact(&request.url).into_owned();
        let url = Url::parse(&request.url).map_err(|e| {
            HttpError::InvalidRequest(format!("`{redacted_url}` is not a valid URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpError::InvalidRequest(format!(
                "scheme `{}` is not supported: use http or https",
                url.scheme()
            )));
        }
        if let Err(reason) = self.authorize(&url) {
            self.stats.denied.fetch_add(1, Ordering::Relaxed);
            // A guest can cause this at will: it counts against the connection's log budget.
            if tag.admit() {
                tracing::warn!(
                    target: "psahost::http",
                    plugin = &*tag.plugin, connection = &*tag.connection,
                    url = %one_line(&redacted_url), "request denied: {}",
                    one_line(&reason)
                );
            }
            return Err(HttpError::Denied(reason));
        }
        let headers = header_map(&request.headers)?;
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let retryable = request.retryable.unwrap_or(matches!(
            request.method,
            Method::Get | Method::Head | Method::Put | Method::Delete
        ));
        let endpoint = match &request.endpoint {
            Some(name) => format!("name:{name}"),
            None => endpoint_key(url.path()),
        };

        let mut attempt = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HttpError::Timeout("the call's deadline passed".into()));
            }
            let acquired = self
                .limiter
                .acquire(&endpoint, remaining.min(self.limits.max_queue_wait))
                .await;
            self.stats
                .rejected_endpoint_labels
                .store(self.limiter.rejected_labels(), Ordering::Relaxed);
            let _permit = match acquired {
                Ok(p) => {
                    if !p.waited.is_zero() {
                        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    }
                    p
                }
                Err(Refusal::RateLimited(wait)) => {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        target: "psahost::http",
                        plugin = &*tag.plugin, connection = &*tag.connection,
                        wait_ms = wait.as_millis() as u64, "rate limit has no budget left"
                    );
                    return Err(HttpError::RateLimited(wait.as_millis() as u64));
                }
                Err(Refusal::Busy) => {
                    return Err(HttpError::Timeout(
                        "no request slot of this connection freed up within the deadline".into(),
                    ));
                }
            };

            let started = Instant::now();
            let timeout = self
                .limits
                .request_timeout
                .min(deadline.saturating_duration_since(started));
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = match self.faults.take() {
                None => tokio::time::timeout(timeout, self.exchange(builder)).await,
                Some(fault) => self.fake(fault, builder, timeout).await,
            };
            let response = match result {
                Err(_) => {
                    tracing::warn!(
                        target: "psahost::http",
                        plugin = &*tag.plugin, connection = &*tag.connection,
                        method = %method, url = %redacted_url, "request timed out"
                    );
                    return Err(HttpError::Timeout(format!(
                        "no complete answer from {} within {} ms",
                        origin_of(&url),
                        timeout.as_millis()
                    )));
                }
                Ok(Err(e)) => {
                    if matches!(e, HttpError::Denied(_)) {
                        self.stats.denied.fetch_add(1, Ordering::Relaxed);
                    }
                    if tag.admit() {
                        tracing::warn!(
                            target: "psahost::http",
                            plugin = &*tag.plugin, connection = &*tag.connection,
                            method = %method, url = %one_line(&redacted_url),
                            "request failed: {}",
                            tag.redactor.redact(&format!("{e:?}"))
                        );
                    }
                    return Err(e);
                }
                Ok(Ok(r)) => r,
            };
            let class = (response.status / 100).min(5) as usize;
            self.stats.responses_by_class[class].fetch_add(1, Ordering::Relaxed);
            self.stats
                .bytes_received
                .fetch_add(response.body.len() as u64, Ordering::Relaxed);
            tracing::debug!(
                target: "psahost::http",
                plugin = &*tag.plugin, connection = &*tag.connection,
                method = %method, url = %redacted_url, status = response.status,
                bytes = response.body.len(), elapsed_ms = started.elapsed().as_millis() as u64,
                "response"
            );

            if retryable
                && matches!(response.status, 429 | 503)
                && attempt < self.limits.max_retries
            {
                let wait = retry_after(&response.headers)
                    .unwrap_or_else(|| Duration::from_millis(500 << attempt));
                let fits = Instant::now() + wait < deadline;
                if wait <= self.limits.max_retry_wait && fits {
                    attempt += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        target: "psahost::http",
                        plugin = &*tag.plugin, connection = &*tag.connection,
                        status = response.status, wait_ms = wait.as_millis() as u64, attempt,
                        "retrying after the PSA asked to wait"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// The outcome of a request under `fault`, shaped as the real exchange's.
    async fn fake(
        &self,
        fault: Fault,
        builder: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<Result<Response, HttpError>, tokio::time::error::Elapsed> {
        match fault {
            Fault::Answer {
                status,
                headers,
                body,
            } => Ok(Ok(Response {
                status,
                headers,
                body,
            })),
            // An already elapsed timer: the same error path as a real timeout.
            Fault::Timeout => tokio::time::timeout(Duration::ZERO, std::future::pending()).await,
            Fault::TruncatedBody => {
                let result = tokio::time::timeout(timeout, self.exchange(builder)).await;
                Ok(result?.map(|mut response| {
                    response.body.truncate(response.body.len() / 2);
                    response
                }))
            }
            Fault::OversizedBody => Ok(Err(HttpError::ResponseTooLarge(
                self.limits.max_response_bytes,
            ))),
        }
    }

    async fn exchange(&self, builder: reqwest::RequestBuilder) -> Result<Response, HttpError> {
        let mut response = builder.send().await.map_err(transport_error)?;
        let cap = self.limits.max_response_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(HttpError::ResponseTooLarge(cap));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(HttpError::ResponseTooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The endpoint a per-endpoint limit counts against: the path with record ids folded, so that
/// `/tickets/9001` and `/tickets/9002` share one budget, as PSAs count them.
fn endpoint_key(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
            let guid = segment.len() >= 16
                && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
                && segment.bytes().any(|b| b.is_ascii_digit());
            if digits || guid { "{id}" } else { segment }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, HttpError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            HttpError::InvalidRequest(format!("`{name}` is not a valid header name"))
        })?;
        if header == reqwest::header::HOST {
            return Err(HttpError::InvalidRequest(
                "the `host` header is set by the host from the URL".into(),
            ));
        }
        // Never echo a value: headers carry credentials.
        let value = HeaderValue::from_str(value).map_err(|_| {
            HttpError::InvalidRequest(format!("the value of header `{name}` is not valid"))
        })?;
        map.append(header, value);
    }
    Ok(map)
}

fn transport_error(e: reqwest::Error) -> HttpError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if let Some(denied) = err.downcast_ref::<PrivateAddressDenied>() {
            return HttpError::Denied(denied.to_string());
        }
        source = err.source();
    }
    if e.is_timeout() {
        return HttpError::Timeout(e.to_string());
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(err) = source {
        message.push_str(": ");
        message.push_str(&err.to_string());
        source = err.source();
    }
    HttpError::Connection(message)
}

/// `Retry-After` as a delay: seconds, or an HTTP date.
fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let value = headers
        .iter()
        .find(|(n, _)| n == "retry-after")
        .map(|(_, v)| v.trim())?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

impl Host for CallState {
    async fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let deadline = self.deadline();
        let tag = self.tag().clone();
        match self.connection() {
            Some(c) => c.http.send(request, deadline, &tag).await,
            None => Err(HttpError::Denied(
                "outbound HTTP is only available to a connection's calls".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capability(requested: &[&str], granted: &[&str], allow_private: bool) -> HttpCapability {
        capability_with(requested, granted, false, allow_private)
    }

    fn capability_with(
        requested: &[&str],
        granted: &[&str],
        all_requested: bool,
        allow_private: bool,
    ) -> HttpCapability {
        HttpCapability::new(
            requested
                .iter()
                .map(|p| OriginPattern::parse(p).unwrap())
                .collect(),
            Grant {
                origins: granted
                    .iter()
                    .map(|p| OriginPattern::parse(p).unwrap())
                    .collect(),
                all_requested,
                allow_private_networks: allow_private,
            },
            HttpLimits::default(),
            (ScopeLimits::default(), ScopeLimits::default()),
            "test",
        )
        .unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn intersection_of_request_and_grant() {
        let c = capability(
            &["https://*.myconnectwise.net"],
            &["https://api-na.myconnectwise.net"],
            false,
        );
        assert!(
            c.authorize(&url("https://api-na.myconnectwise.net/x"))
                .is_ok()
        );
        let e = c
            .authorize(&url("https://api-eu.myconnectwise.net/x"))
            .unwrap_err();
        assert!(e.contains("operator's grant"), "{e}");
        let e = c.authorize(&url("https://evil.com/x")).unwrap_err();
        assert!(e.contains("plugin requested"), "{e}");
    }

    #[test]
    fn private_literals_need_an_explicit_grant() {
        let c = capability(&["http://127.0.0.1:*"], &["http://127.0.0.1:8000"], false);
        assert!(c.authorize(&url("http://127.0.0.1:8000/")).is_ok());
        assert!(c.authorize(&url("http://127.0.0.1:8001/")).is_err());
        let c = capability(&["http://10.0.0.1"], &["http://10.0.0.1:*"], false);
        assert!(
            c.authorize(&url("http://10.0.0.1/")).is_ok(),
            "a literal grant with any port is explicit"
        );
        // Granting "what the plugin requested" does not extend to private addresses...
        let c = capability_with(
            &["http://169.254.169.254", "https://8.8.8.8"],
            &[],
            true,
            false,
        );
        let e = c.authorize(&url("http://169.254.169.254/")).unwrap_err();
        assert!(e.contains("private"), "{e}");
        assert!(c.authorize(&url("https://8.8.8.8/")).is_ok());
        // ...unless private networks are allowed.
        let c = capability_with(&["http://169.254.169.254"], &[], true, true);
        assert!(c.authorize(&url("http://169.254.169.254/")).is_ok());
    }

    #[test]
    fn endpoints_fold_record_ids() {
        assert_eq!(
            endpoint_key("/api/v2/servicedesk/tickets/9001/notes"),
            "/api/v2/servicedesk/tickets/{id}/notes"
        );
        assert_eq!(
            endpoint_key("/V1.0/Companies/query"),
            "/V1.0/Companies/query"
        );
        assert_eq!(
            endpoint_key("/x/3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            "/x/{id}"
        );
        assert_eq!(
            endpoint_key("/v4_6_release/apis/3.0/company/companies"),
            "/v4_6_release/apis/3.0/company/companies"
        );
    }

    #[test]
    fn parses_retry_after() {
        let h = |v: &str| vec![("retry-after".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("7")), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h("soon")), None);
        assert_eq!(retry_after(&[]), None);
    }

    fn tag() -> LogTag {
        use crate::capabilities::log::{CallLog, LogBudget, LogLimits};
        LogTag {
            plugin: "p".into(),
            connection: "c".into(),
            redactor: Default::default(),
            log: Arc::new(CallLog::new(Arc::new(LogBudget::new(LogLimits::default())))),
        }
    }

    /// Queued faults answer the next requests in order, without sending them (the origin below
    /// has no server), and are not retried away; then requests go out again.
    #[tokio::test]
    async fn faults_answer_the_next_requests_in_order() {
        // A port that was just free: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let origin = format!("http://127.0.0.1:{port}");
        let c = capability(&[&origin], &[&origin], false);
        c.faults.push([
            Fault::Answer {
                status: 429,
                headers: vec![("retry-after".into(), "1".into())],
                body: b"slow down".to_vec(),
            },
            Fault::Timeout,
            Fault::OversizedBody,
        ]);
        let request = || Request {
            method: Method::Get,
            url: format!("{origin}/x"),
            headers: vec![],
            body: None,
            endpoint: None,
            retryable: Some(false),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let answer = c.send(request(), deadline, &tag()).await.unwrap();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (429, &b"slow down"[..])
        );
        let e = c.send(request(), deadline, &tag()).await.unwrap_err();
        assert!(matches!(e, HttpError::Timeout(_)), "{e:?}");
        let e = c.send(request(), deadline, &tag()).await.unwrap_err();
        assert!(matches!(e, HttpError::ResponseTooLarge(_)), "{e:?}");
        // The plan is spent: this one is sent, and nothing listens there.
        let e = c.send(request(), deadline, &tag()).await.unwrap_err();
        assert!(matches!(e, HttpError::Connection(_)), "{e:?}");
        c.faults.push([Fault::Timeout, Fault::Timeout]);
        assert_eq!(c.faults.clear(), 2);
    }

    #[test]
    fn header_values_are_never_echoed() {
        let err = header_map(&[("authorization".into(), "Basic se\ncret".into())]).unwrap_err();
        assert!(!format!("{err:?}").contains("se"), "{err:?}");
        assert!(header_map(&[("host".into(), "x".into())]).is_err());
    }
}
