//! An in-process fake of the host, for a connector's native unit tests (`cargo test`).
//!
//! In a native build the host's imports do not exist; the SDK's wrappers ([`crate::http`],
//! [`crate::kv`], [`crate::log`], [`crate::settings`] and the clock of [`crate::time`]) then go
//! to the [`FakeHost`] of the current thread instead: scripted HTTP answers matched by method
//! and URL pattern, the connection's settings, an in-memory kv, captured log lines and the
//! requests the connector sent, for assertions. Each test creates its own (tests run on
//! separate threads); a host call without one panics and says so.
//!
//! Only in native builds: a wasm component always talks to the real host.
//!
//! ```
//! use psa_sdk::fake::FakeHost;
//! use psa_sdk::http::{Method, Request};
//! use psa_sdk::status::ErrorMap;
//! use psa_sdk::{Error, kv, settings};
//!
//! let host = FakeHost::new();
//! host.setting("site", "api.acme.example");
//! host.on(Method::Get, "https://api.acme.example/v1/companies?page=1*")
//!     .header("content-type", "application/json")
//!     .reply(200, r#"[{"id": 1}]"#);
//! host.on(Method::Get, "*/v1/companies?page=2*")
//!     .header("retry-after", "30")
//!     .reply(429, "slow down");
//!
//! // What the connector does:
//! let site = settings::require("site")?;
//! let errors = ErrorMap::new("Acme", "api-key");
//! let page = |n: u32| {
//!     Request::get(format!("https://{site}/v1/companies"))
//!         .query("page", n.to_string())
//!         .bearer_auth("k3y")
//!         .send()?
//!         .check(&errors)
//! };
//! assert_eq!(page(1)?.body, br#"[{"id": 1}]"#);
//! assert_eq!(page(2).unwrap_err(), Error::rate_limited(Some(30_000), "Acme rate limit: slow down"));
//! kv::set_string("token", "t")?;
//!
//! // What the test checks:
//! let sent = host.requests();
//! assert_eq!(sent.len(), 2);
//! assert_eq!(sent[1].query("page").as_deref(), Some("2"));
//! assert_eq!(sent[0].header("authorization"), Some("Bearer k3y"));
//! assert_eq!(host.kv("token").as_deref(), Some(&b"t"[..]));
//! # Ok::<(), psa_sdk::Error>(())
//! ```

use crate::bindings::psa::connector::http as wit;
use crate::bindings::psa::connector::kv::KvError;
use crate::http::Method;
use crate::log::Level;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

pub use crate::bindings::psa::connector::http::HttpError;

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

/// The fake's state, shared by the [`FakeHost`] handle and the SDK's host calls.
#[derive(Default)]
struct State {
    settings: BTreeMap<String, String>,
    kv: BTreeMap<String, Vec<u8>>,
    rules: Vec<Rule>,
    requests: Vec<SentRequest>,
    unmatched: Vec<SentRequest>,
    logs: Vec<(Level, String)>,
    clock: Option<u64>,
    kv_error: Option<KvError>,
}

/// One scripted answer.
struct Rule {
    method: Option<Method>,
    pattern: String,
    answer: Result<wit::Response, HttpError>,
    /// How many more requests it answers (`None`: any number).
    remaining: Option<usize>,
}

/// A request the connector sent, as the host received it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL with its query.
    pub url: String,
    /// The headers, as the connector set them.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The rate-limit budget the connector named, if any.
    pub endpoint: Option<String>,
    /// Whether the connector marked it retryable, if it said.
    pub retryable: Option<bool>,
}

impl SentRequest {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        crate::http::query_param(&self.url, name)
    }

    /// The body as text (invalid UTF-8 replaced); empty without a body.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(self.body.as_deref().unwrap_or_default()).into_owned()
    }

    /// The body parsed as JSON (`Null` without a body or when it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default()
    }
}

/// The fake host of the current thread: script it, run the connector's code, then look at what
/// it sent, stored and logged. Dropping it removes it.
pub struct FakeHost {
    state: Rc<RefCell<State>>,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost::new()
    }
}

impl FakeHost {
    /// A fresh fake (no settings, empty kv, no scripted answer) installed for the current
    /// thread, replacing any earlier one.
    pub fn new() -> Self {
        let state = Rc::new(RefCell::new(State::default()));
        CURRENT.with(|c| *c.borrow_mut() = Some(state.clone()));
        FakeHost { state }
    }

    /// Sets a setting of the connection.
    pub fn setting(&self, name: &str, value: &str) -> &Self {
        self.state
            .borrow_mut()
            .settings
            .insert(name.to_string(), value.to_string());
        self
    }

    /// Scripts the answer to the requests with `method` whose URL (query included) matches
    /// `url_pattern`, where `*` stands for any run of characters (`*/companies?*page=2*`).
    /// Scripted answers are tried in the order they were given; each answers any number of
    /// requests unless [`Script::times`] says otherwise.
    pub fn on(&self, method: Method, url_pattern: &str) -> Script<'_> {
        Script {
            host: self,
            method: Some(method),
            pattern: url_pattern.to_string(),
            headers: Vec::new(),
            times: None,
        }
    }

    /// Like [`FakeHost::on`], for any method.
    pub fn on_any(&self, url_pattern: &str) -> Script<'_> {
        Script {
            method: None,
            ..self.on(Method::Get, url_pattern)
        }
    }

    /// Every request the connector sent, in order (those that matched no script included).
    pub fn requests(&self) -> Vec<SentRequest> {
        self.state.borrow().requests.clone()
    }

    /// The requests that matched no scripted answer (the connector got a `connection` error
    /// for each).
    pub fn unmatched(&self) -> Vec<SentRequest> {
        self.state.borrow().unmatched.clone()
    }

    /// Forgets the requests sent so far (the scripts stay).
    pub fn clear_requests(&self) {
        let mut s = self.state.borrow_mut();
        s.requests.clear();
        s.unmatched.clear();
    }

    /// The log lines, in order.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.state.borrow().logs.clone()
    }

    /// Whether a log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.state
            .borrow()
            .logs
            .iter()
            .any(|(_, m)| m.contains(text))
    }

    /// The value stored under `key`.
    pub fn kv(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().kv.get(key).cloned()
    }

    /// Stores a value, as an earlier call of the connector would have.
    pub fn set_kv(&self, key: &str, value: &[u8]) -> &Self {
        self.state
            .borrow_mut()
            .kv
            .insert(key.to_string(), value.to_vec());
        self
    }

    /// Every key and value stored.
    pub fn kv_entries(&self) -> BTreeMap<String, Vec<u8>> {
        self.state.borrow().kv.clone()
    }

    /// Makes every kv operation fail with `error` (`None`: work again), to test that a
    /// connector survives a full quota or a storage failure.
    pub fn fail_kv(&self, error: Option<KvError>) -> &Self {
        self.state.borrow_mut().kv_error = error;
        self
    }

    /// Sets the clock [`crate::time::now_unix`] reads (seconds since the Unix epoch); without
    /// it the real clock is used.
    pub fn set_clock(&self, unix: u64) -> &Self {
        self.state.borrow_mut().clock = Some(unix);
        self
    }

    /// Moves the clock forward by `seconds` (from the real time when it was not set).
    pub fn advance_clock(&self, seconds: u64) -> &Self {
        let now = crate::time::now_unix();
        self.state.borrow_mut().clock = Some(now.saturating_add(seconds));
        self
    }
}

impl Drop for FakeHost {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            if current.as_ref().is_some_and(|s| Rc::ptr_eq(s, &self.state)) {
                *current = None;
            }
        });
    }
}

/// A scripted answer under construction; [`Script::reply`], [`Script::reply_json`] or
/// [`Script::fail`] adds it.
#[must_use = "a script is added by reply, reply_json or fail"]
pub struct Script<'a> {
    host: &'a FakeHost,
    method: Option<Method>,
    pattern: String,
    headers: Vec<(String, String)>,
    times: Option<usize>,
}

impl Script<'_> {
    /// Adds a header to the answer (names are lowercased, as the host gives them).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Answers only the next `n` matching requests; later ones go to the next script.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Answers with `status` and `body`.
    pub fn reply(self, status: u16, body: impl Into<Vec<u8>>) {
        let response = wit::Response {
            status,
            headers: self.headers.clone(),
            body: body.into(),
        };
        self.add(Ok(response));
    }

    /// Answers with `status` and `body` as JSON (`content-type: application/json`).
    pub fn reply_json(self, status: u16, body: &serde_json::Value) {
        self.header("content-type", "application/json")
            .reply(status, body.to_string())
    }

    /// Fails the request as the host would (a timeout, a denied origin, a response too large).
    pub fn fail(self, error: HttpError) {
        self.add(Err(error));
    }

    fn add(self, answer: Result<wit::Response, HttpError>) {
        self.host.state.borrow_mut().rules.push(Rule {
            method: self.method,
            pattern: self.pattern,
            answer,
            remaining: self.times,
        });
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (none
/// included) and everything else for itself.
///
/// ```
/// use psa_sdk::fake::matches;
/// assert!(matches("*/companies?*page=2*", "https://h/v1/companies?size=5&page=2"));
/// assert!(!matches("*/companies?*page=2*", "https://h/v1/companies?page=1"));
/// assert!(matches("https://h/x", "https://h/x"));
/// assert!(!matches("https://h/x", "https://h/x?y"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The method as HTTP writes it.
fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// The host calls of a native build (see `crate::host`).
pub(crate) mod host {
    use super::*;
    use crate::bindings::psa::connector::http::{Request, Response};

    fn with<T>(call: &str, f: impl FnOnce(&mut State) -> T) -> T {
        let state = CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
            panic!(
                "psa_sdk: host call `{call}` in a native build without a fake host: create `psa_sdk::fake::FakeHost::new()` at the start of the test (in the same thread)"
            )
        });
        let mut state = state.borrow_mut();
        f(&mut state)
    }

    pub fn send(request: &Request) -> Result<Response, HttpError> {
        with("http.send", |s| {
            let sent = SentRequest {
                method: request.method,
                url: request.url.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
                endpoint: request.endpoint.clone(),
                retryable: request.retryable,
            };
            s.requests.push(sent.clone());
            let rule = s.rules.iter_mut().find(|r| {
                r.remaining != Some(0)
                    && r.method.is_none_or(|m| m == request.method)
                    && matches(&r.pattern, &request.url)
            });
            match rule {
                Some(rule) => {
                    if let Some(n) = rule.remaining.as_mut() {
                        *n -= 1;
                    }
                    rule.answer.clone()
                }
                None => {
                    s.unmatched.push(sent);
                    Err(HttpError::Connection(format!(
                        "fake host: no scripted answer for {} {}",
                        method_name(request.method),
                        request.url
                    )))
                }
            }
        })
    }

    fn kv<T>(
        call: &str,
        f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> T,
    ) -> Result<T, KvError> {
        with(call, |s| match &s.kv_error {
            Some(e) => Err(e.clone()),
            None => Ok(f(&mut s.kv)),
        })
    }

    pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
        kv("kv.get", |kv| kv.get(key).cloned())
    }

    pub fn kv_set(key: &str, value: &[u8]) -> Result<(), KvError> {
        kv("kv.set", |kv| {
            kv.insert(key.to_string(), value.to_vec());
        })
    }

    pub fn kv_delete(key: &str) -> Result<(), KvError> {
        kv("kv.delete", |kv| {
            kv.remove(key);
        })
    }

    pub fn kv_list_keys(prefix: &str) -> Result<Vec<String>, KvError> {
        kv("kv.list-keys", |kv| {
            kv.keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        })
    }

    pub fn log(level: Level, message: &str) {
        with("log.log", |s| s.logs.push((level, message.to_string())));
    }

    pub fn setting(name: &str) -> Option<String> {
        with("settings.get", |s| s.settings.get(name).cloned())
    }

    /// The fake's clock, when a fake with a set clock is installed (no panic without a fake:
    /// pure code reads the clock too).
    pub fn clock() -> Option<u64> {
        CURRENT.with(|c| c.borrow().as_ref().and_then(|s| s.borrow().clock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, kv, settings};

    #[test]
    fn patterns() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "abbc", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("x", "xx", false),
            ("https://h/*?page=2", "https://h/a?page=2", true),
            ("https://h/*?page=2", "https://h/a?page=22", false),
        ] {
            assert_eq!(matches(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn scripts_in_order_with_counts_and_failures() {
        let host = FakeHost::new();
        host.on(Method::Get, "https://h/x")
            .times(1)
            .reply(503, "busy");
        host.on(Method::Get, "https://h/x").reply(200, "ok");
        host.on(Method::Post, "https://h/t")
            .fail(HttpError::Timeout("30 s".into()));
        host.on_any("https://h/any").reply(204, "");
        let get = || crate::http::Request::get("https://h/x").send().unwrap();
        assert_eq!(get().status, 503);
        assert_eq!(get().status, 200);
        assert_eq!(get().status, 200);
        assert_eq!(
            crate::http::Request::post("https://h/t")
                .send()
                .unwrap_err()
                .kind(),
            "unavailable"
        );
        assert_eq!(
            crate::http::Request::delete("https://h/any")
                .send()
                .unwrap()
                .status,
            204
        );
        // No script: a connection error, recorded.
        assert_eq!(
            crate::http::Request::get("https://h/none")
                .send()
                .unwrap_err(),
            Error::unavailable(
                "connection failed: fake host: no scripted answer for GET https://h/none"
            )
        );
        assert_eq!(host.requests().len(), 6);
        assert_eq!(host.unmatched().len(), 1);
        assert_eq!(host.unmatched()[0].url, "https://h/none");
        host.clear_requests();
        assert!(host.requests().is_empty());
    }

    #[test]
    fn records_what_was_sent() {
        let host = FakeHost::new();
        host.on(Method::Post, "*")
            .reply_json(201, &serde_json::json!({"id": 1}));
        let response = crate::http::Request::post("https://h/items")
            .query("a b", "c&d")
            .header("X-Key", "v")
            .json(&serde_json::json!({"name": "n"}))
            .unwrap()
            .endpoint("Items")
            .retryable(true)
            .send()
            .unwrap();
        assert_eq!(response.header("content-type"), Some("application/json"));
        let sent = &host.requests()[0];
        assert_eq!(sent.url, "https://h/items?a%20b=c%26d");
        assert_eq!(sent.query("a b").as_deref(), Some("c&d"));
        assert_eq!(sent.header("x-key"), Some("v"));
        assert_eq!(sent.body_json()["name"], "n");
        assert_eq!(sent.body_text(), r#"{"name":"n"}"#);
        assert_eq!(
            (sent.endpoint.as_deref(), sent.retryable),
            (Some("Items"), Some(true))
        );
    }

    #[test]
    fn settings_kv_logs_and_clock() {
        let host = FakeHost::new();
        host.setting("site", "h").setting("blank", "  ");
        assert_eq!(settings::get("site").as_deref(), Some("h"));
        assert_eq!(settings::get("blank"), None);
        assert!(settings::require("missing").is_err());
        kv::set_string("a/1", "x").unwrap();
        kv::set_json("a/2", &[1, 2]).unwrap();
        host.set_kv("b", b"y");
        assert_eq!(kv::list_keys("a/").unwrap(), ["a/1", "a/2"]);
        assert_eq!(kv::get_json::<Vec<u8>>("a/2").unwrap(), Some(vec![1, 2]));
        kv::delete("a/1").unwrap();
        assert_eq!(kv::get("a/1").unwrap(), None);
        assert_eq!(host.kv("b").as_deref(), Some(&b"y"[..]));
        assert_eq!(host.kv_entries().len(), 2);
        host.fail_kv(Some(KvError::QuotaExceeded(10)));
        assert_eq!(kv::set("c", b"z").unwrap_err().kind(), "unavailable");
        host.fail_kv(None);
        kv::set("c", b"z").unwrap();
        crate::info!("read {} companies", 3);
        crate::warn!("careful");
        assert_eq!(
            host.logs()[0],
            (Level::Info, "read 3 companies".to_string())
        );
        assert!(host.logged("careful"));
        assert!(!host.logged("nothing"));
        host.set_clock(1_000);
        assert_eq!(crate::time::now_unix(), 1_000);
        host.advance_clock(60);
        assert_eq!(crate::time::now_unix(), 1_060);
    }

    #[test]
    fn a_host_call_without_a_fake_says_what_to_do() {
        let outcome = std::thread::spawn(|| settings::get("site"))
            .join()
            .unwrap_err();
        let message = outcome
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("FakeHost::new()"), "{message}");
        // The clock needs no fake.
        assert!(crate::time::now_unix() > 1_700_000_000);
    }

    #[test]
    fn dropping_the_fake_removes_it() {
        let first = FakeHost::new();
        first.setting("k", "1");
        {
            let second = FakeHost::new();
            second.setting("k", "2");
            assert_eq!(settings::get("k").as_deref(), Some("2"));
        }
        // The second was the current one; the first was replaced and is not restored.
        assert!(std::panic::catch_unwind(|| settings::get("k")).is_err());
        drop(first);
    }
}
