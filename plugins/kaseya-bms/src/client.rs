//! The Kaseya BMS REST client: the origin from the `server` setting, signing in and the token
//! cache, Bearer requests with one renewal on 401, the `{"result": ...}` envelope, paging helpers,
//! and the mapping of error answers.
//!
//! Everything that does not touch a host capability (settings validation, envelopes, error
//! mapping, the secrets to redact) is a plain function with unit tests; [`Client`] glues them to
//! the host's `http`, `kv` and `settings`. Origin parsing, redaction and excerpts of answers are
//! the SDK's (`psa_sdk::origin`, `psa_sdk::message`).

use crate::auth::{self, LoginInfo};
use crate::paging::{self, MAX_PAGE_SIZE, PageState};
use psa_sdk::http::{Method, Request, Response};
use psa_sdk::json::Envelope;
use psa_sdk::oauth2::{Token, TokenCache};
use psa_sdk::paging::PageNumber;
use psa_sdk::status::{self, ErrorMap};
use psa_sdk::{Error, Result, message, origin, settings, time};
use serde_json::Value;

/// The most pages one "read everything" loop follows (100 records each): a guard against a
/// server whose `totalRecords` never runs out.
const MAX_PAGES: u32 = 10_000;

/// The connection's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// `scheme://host[:port]` of the BMS server, without a trailing slash.
    pub origin: String,
    /// The BMS user name.
    pub username: String,
    /// The tenant (company) name shown on the BMS login page.
    pub tenant: String,
    /// The user's password. Never logged, never put in a message.
    pub password: String,
}

impl core::fmt::Debug for Settings {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Settings")
            .field("origin", &self.origin)
            .field("username", &self.username)
            .field("tenant", &self.tenant)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl Settings {
    /// Reads and validates the connection's settings.
    pub fn load() -> Result<Self> {
        // `settings::require` treats a blank value as absent; the password is used untrimmed.
        Settings::from_values(
            &settings::require("server")?,
            &settings::require("username")?,
            &settings::require("tenant")?,
            &settings::require("password")?,
        )
    }

    /// Validates setting values (pure; `load` feeds it the host's settings).
    pub fn from_values(server: &str, username: &str, tenant: &str, password: &str) -> Result<Self> {
        let origin = origin_from_server(server)?;
        let username = username.trim().to_string();
        if username.is_empty() || username.chars().any(char::is_control) {
            return Err(Error::invalid(
                "username",
                "the BMS user name is required (the name you sign in to Kaseya BMS with)",
            ));
        }
        let tenant = tenant.trim().to_string();
        if tenant.is_empty() || tenant.chars().any(char::is_control) {
            return Err(Error::invalid(
                "tenant",
                "the tenant is required: the company name shown on the BMS login page (also under My Settings)",
            ));
        }
        if password.is_empty() {
            return Err(Error::invalid("password", "the password is required"));
        }
        Ok(Settings {
            origin,
            username,
            tenant,
            password: password.to_string(),
        })
    }

    /// `{origin}/api/{path}`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/api/{}", self.origin, path.trim_start_matches('/'))
    }

    /// The URL of the V2 login.
    pub fn login_url(&self) -> String {
        self.api_url("v2/security/authenticate")
    }

    /// The kv cache of the token: one per server, tenant, user and password (a fingerprint:
    /// the key reveals none of them).
    pub fn token_cache(&self) -> TokenCache {
        TokenCache::new(
            "token",
            &[
                &self.origin,
                &self.tenant.to_lowercase(),
                &self.username.to_lowercase(),
                &self.password,
            ],
        )
    }

    /// The secrets to redact from a text that goes into an error or a log line: the password,
    /// and `token` when given.
    pub fn secrets<'a>(&'a self, token: Option<&'a str>) -> Vec<&'a str> {
        [Some(self.password.as_str()), token]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// `scheme://host[:port]` for the `server` setting: a bare host (`bms.kaseya.com`,
/// `bms.example.com:8443`) means https; a full origin (`http://127.0.0.1:41234`) is used as
/// given. A path (someone pasted the browser's address) is dropped.
pub fn origin_from_server(server: &str) -> Result<String> {
    origin::parse(server).map_err(|why| {
        Error::invalid(
            "server",
            format!(
                "`{server}` is not a Kaseya BMS server ({why}): use the server name, e.g. bms.kaseya.com or bmsemea.kaseya.com, or a full origin such as https://bms.example.com"
            ),
        )
    })
}

/// The BMS error `{"error": {"code", "message", "validationErrors": [{"field", "message"}]}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BmsError {
    /// `ValidationError`, `TokenExpired`, `NotFound`, ...
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// The `validationErrors`: (field, message).
    pub validation: Vec<(String, String)>,
}

/// Reads an error body: code and message as the SDK reads them
/// ([`psa_sdk::status::read_error_body`]: `{"error": {"code", "message"}}` or flat), and the
/// `validationErrors`.
pub fn parse_error_body(body: &[u8]) -> BmsError {
    let text = status::read_error_body(body);
    let validation = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            // The error object; some answers put code and message at the top level.
            let e = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
            let s = |v: &Value, k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let list = e.get("validationErrors")?.as_array()?;
            Some(
                list.iter()
                    .filter_map(|x| Some((s(x, "field")?, s(x, "message").unwrap_or_default())))
                    .collect(),
            )
        })
        .unwrap_or_default();
    BmsError {
        code: text.code,
        message: text.message,
        validation,
    }
}

/// What an error answer is about, to phrase the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext<'a> {
    /// The record the request was about (`ticket 42`), for not-found.
    pub subject: Option<&'a str>,
    /// The request's path, for a not-found without a subject.
    pub path: &'a str,
    /// BMS body property names -> the contract's names (`title` -> `summary`), for
    /// invalid-input.
    pub fields: &'a [(&'a str, &'a str)],
    /// The signed-in user, for a refused token.
    pub username: &'a str,
}

/// The contract's name of a query parameter the connector sends.
fn query_field(name: &str) -> Option<&'static str> {
    match name {
        "modifiedSince" => Some("updated-since"),
        "idGreaterThan" | "pageNumber" => Some("cursor"),
        "pageSize" => Some("page-size"),
        _ => None,
    }
}

/// Maps a non-2xx BMS answer (other than the login's) to the contract's error: the SDK's mapping
/// ([`psa_sdk::status`]) with BMS's validation errors, refused tokens, not-found paths and rate
/// limit as a hook.
pub fn map_error(response: &Response, ctx: &ErrorContext<'_>) -> Error {
    ErrorMap::new("Kaseya BMS", "password")
        .subject(ctx.subject)
        .hook(|r, _| specific_error(r, &parse_error_body(&r.body), ctx))
        .map(response)
}

/// What only BMS says, or what the connector says better about it.
fn specific_error(response: &Response, e: &BmsError, ctx: &ErrorContext<'_>) -> Option<Error> {
    let status = response.status;
    Some(match status {
        400 | 409 | 422 => match e.validation.first() {
            Some((field, message)) => {
                let message = if message.is_empty() {
                    &e.message
                } else {
                    message
                };
                let known = ctx
                    .fields
                    .iter()
                    .find(|(bms, _)| bms.eq_ignore_ascii_case(field))
                    .map(|(_, ours)| *ours)
                    .or_else(|| query_field(field));
                match known {
                    Some(ours) => Error::invalid(ours, format!("{message} (BMS field `{field}`)")),
                    None => Error::invalid(field.clone(), message.clone()),
                }
            }
            None if status == 409 => Error::remote(
                409,
                e.code.clone().or(Some("Conflict".into())),
                e.message.clone(),
            ),
            None => Error::invalid("request", e.message.clone()),
        },
        401 => Error::unauthorized(
            "password",
            format!(
                "Kaseya BMS refused the access token it had just issued to user `{}` ({}): {}",
                ctx.username,
                e.code.as_deref().unwrap_or("401"),
                e.message
            ),
        ),
        404 if ctx.subject.is_none() => Error::not_found(format!(
            "Kaseya BMS answered 404 on {}: {} (check `server`)",
            ctx.path, e.message
        )),
        429 => Error::rate_limited(
            response.retry_after_ms(),
            format!(
                "Kaseya BMS rate limit (1,500 calls per hour per endpoint): {}",
                e.message
            ),
        ),
        _ => return None,
    })
}

/// A 2xx answer's envelope (`{"result": ..., "totalRecords": n, "success": true}`), read by the
/// SDK's [`Envelope`]. `success: false` is BMS's error even with a 2xx status; a body that is
/// not a JSON object is a malformed answer.
fn read_envelope(status: u16, body: &[u8]) -> Result<Envelope<'_>> {
    let e = Envelope::parse(body).map_err(|_| {
        Error::malformed(format!(
            "Kaseya BMS answered {status} with a body that is not the {{\"result\": ...}} envelope: {}",
            message::body_excerpt(body)
        ))
    })?;
    if e.scalar("success").as_bool() == Some(false) {
        let error = parse_error_body(body);
        return Err(Error::remote(status, error.code, error.message));
    }
    Ok(e)
}

/// A record of an answer: its value (for the mapping) and its own text, as BMS sent it (for
/// `raw`).
pub type Record = (Value, String);

fn record_of(raw: &serde_json::value::RawValue) -> Result<Record> {
    Ok((serde_json::from_str(raw.get())?, raw.get().to_string()))
}

/// The `result` of a 2xx answer's envelope with its own text; a missing or null `result` is a
/// malformed answer.
pub fn record_envelope(status: u16, body: &[u8]) -> Result<Record> {
    let e = read_envelope(status, body)?;
    match e.get("result").filter(|r| r.get() != "null") {
        Some(result) => record_of(result),
        None => Err(Error::malformed(format!(
            "Kaseya BMS answered {status} without a `result`"
        ))),
    }
}

/// The `result` of a 2xx answer's envelope; a missing or null `result` is a malformed answer.
pub fn envelope(status: u16, body: &[u8]) -> Result<Value> {
    Ok(record_envelope(status, body)?.0)
}

/// The records (each with its own text) and `totalRecords` of a list answer.
pub fn list_records(status: u16, body: &[u8]) -> Result<(Vec<Record>, Option<u64>)> {
    let e = read_envelope(status, body)?;
    let items = e
        .records("result")?
        .into_iter()
        .map(record_of)
        .collect::<Result<Vec<_>>>()?;
    Ok((items, e.count("totalRecords")))
}

/// The records and `totalRecords` of a list answer.
pub fn list_envelope(status: u16, body: &[u8]) -> Result<(Vec<Value>, Option<u64>)> {
    let (records, total) = list_records(status, body)?;
    Ok((records.into_iter().map(|(v, _)| v).collect(), total))
}

/// A transport failure, phrased with the server it was for.
fn unreachable(e: Error, settings: &Settings) -> Error {
    match e {
        Error::Unavailable(m) => Error::unavailable(format!(
            "cannot reach the Kaseya BMS server {} (check the `server` setting): {m}",
            settings.origin
        )),
        other => other,
    }
}

/// A signed-in client: validated settings and an access token.
pub struct Client {
    settings: Settings,
    token: Token,
    /// The token was issued during this call (a 401 then is not an expired cache).
    fresh: bool,
}

impl Client {
    /// Loads the settings and a token (from the kv cache while it is usable, else by signing in).
    pub fn connect() -> Result<Self> {
        let settings = Settings::load()?;
        match settings.token_cache().load(time::now_unix()) {
            Some(token) => Ok(Client {
                settings,
                token,
                fresh: false,
            }),
            None => {
                let (token, _) = Self::login(&settings)?;
                Ok(Client {
                    settings,
                    token,
                    fresh: true,
                })
            }
        }
    }

    /// Signs in afresh whatever the cache holds (the connection test does, so it checks the
    /// credentials as they are now), caches the token, and returns who signed in.
    pub fn connect_fresh() -> Result<(Self, LoginInfo)> {
        let settings = Settings::load()?;
        let (token, info) = Self::login(&settings)?;
        Ok((
            Client {
                settings,
                token,
                fresh: true,
            },
            info,
        ))
    }

    /// `POST {origin}/api/v2/security/authenticate`; caches the token.
    pub fn login(settings: &Settings) -> Result<(Token, LoginInfo)> {
        let url = settings.login_url();
        psa_sdk::debug!(
            "signing in to Kaseya BMS as {} in tenant {}: POST {url}",
            settings.username,
            settings.tenant
        );
        let response = Request::post(&url)
            .header("accept", "application/json")
            .form(&auth::login_form(settings))
            .send()
            .map_err(|e| unreachable(e, settings))?;
        if !response.is_success() {
            let error = auth::map_login_error(
                response.status,
                response.retry_after_ms(),
                &response.body,
                settings,
            );
            psa_sdk::debug!("login: {} {}", response.status, error.kind());
            return Err(error.redact(&settings.secrets(None)));
        }
        let (token, info) = auth::parse_login(&response.body, time::now_unix())
            .map_err(|e| e.redact(&settings.secrets(None)))?;
        settings.token_cache().store(&token);
        Ok((token, info))
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends one API request (`path` under `{origin}/api/`) and returns the 2xx response; any
    /// other status becomes the contract's error. A 401 with a cached token signs in again once
    /// and repeats the request.
    pub fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        ctx: ErrorContext<'_>,
    ) -> Result<Response> {
        loop {
            let mut request = Request::new(method, self.settings.api_url(path));
            for (k, v) in query {
                request = request.query(k.as_str(), v.as_str());
            }
            request = request
                .header("accept", "application/json")
                .bearer_auth(&self.token.access_token);
            if let Some(body) = body {
                request = request.json(body)?;
            }
            psa_sdk::debug!("{method:?} {}", request.url());
            let response = request.send().map_err(|e| unreachable(e, &self.settings))?;
            if response.is_success() {
                return Ok(response);
            }
            if response.status == 401 && !self.fresh {
                psa_sdk::info!(
                    "Kaseya BMS refused the cached access token ({}); signing in again",
                    parse_error_body(&response.body)
                        .code
                        .as_deref()
                        .unwrap_or("401")
                );
                self.settings.token_cache().forget();
                let (token, _) = Self::login(&self.settings)?;
                self.token = token;
                self.fresh = true;
                continue;
            }
            let ctx = ErrorContext {
                path,
                username: &self.settings.username,
                ..ctx
            };
            let error = map_error(&response, &ctx);
            psa_sdk::debug!("{method:?} {path}: {} {}", response.status, error.kind());
            return Err(error.redact(&self.settings.secrets(Some(&self.token.access_token))));
        }
    }

    /// `GET path`: the envelope's `result`.
    pub fn get(&mut self, path: &str, subject: Option<&str>) -> Result<Value> {
        let ctx = ErrorContext {
            subject,
            ..ErrorContext::default()
        };
        let response = self.send(Method::Get, path, &[], None, ctx)?;
        envelope(response.status, &response.body)
    }

    /// `GET path`: the envelope's `result` with its own text.
    pub fn get_record(&mut self, path: &str, subject: Option<&str>) -> Result<Record> {
        let ctx = ErrorContext {
            subject,
            ..ErrorContext::default()
        };
        let response = self.send(Method::Get, path, &[], None, ctx)?;
        record_envelope(response.status, &response.body)
    }

    /// `GET path?query` of a list: its records and `totalRecords`.
    pub fn get_list(
        &mut self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(Vec<Value>, Option<u64>)> {
        let response = self.send(Method::Get, path, query, None, ErrorContext::default())?;
        list_envelope(response.status, &response.body)
    }

    /// `GET path?query` of a list: its records, each with its own text, and `totalRecords`.
    pub fn get_list_records(
        &mut self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(Vec<Record>, Option<u64>)> {
        let response = self.send(Method::Get, path, query, None, ErrorContext::default())?;
        list_records(response.status, &response.body)
    }

    /// Sends a JSON body (POST or PATCH) and returns the envelope's `result`.
    pub fn send_json(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
        ctx: ErrorContext<'_>,
    ) -> Result<Value> {
        let response = self.send(method, path, &[], Some(body), ctx)?;
        envelope(response.status, &response.body)
    }

    /// One keyset page of a list (`extra` adds entity filters): its records (each with its own
    /// text), the state of the next page (`None` on the last) and `totalRecords` (the records
    /// left from this page on: on the first page, the sweep's total).
    pub fn get_page(
        &mut self,
        path: &str,
        state: &PageState,
        extra: &[(String, String)],
    ) -> Result<(Vec<Record>, Option<PageState>, Option<u64>)> {
        let mut query = paging::query(state);
        query.extend(extra.iter().cloned());
        let (items, total) = self.get_list_records(path, &query)?;
        let ids = items
            .iter()
            .map(|(v, _)| {
                v.get("id").and_then(crate::map::id_u64).ok_or_else(|| {
                    Error::malformed(format!(
                        "a Kaseya BMS record of {path} without a numeric id"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = state.next(&ids, state.more(ids.len(), total))?;
        Ok((items, next, total))
    }

    /// Every record of a list (picklists, contract services), page by page (`pageNumber`,
    /// 100 records each, fewer if BMS caps them) until `totalRecords` are read or a page comes
    /// back empty.
    pub fn get_all(&mut self, path: &str) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut page = PageNumber::first(path, MAX_PAGE_SIZE, None);
        for _ in 0..MAX_PAGES {
            let (items, total) = self.get_list(path, &paging::number_query(&page))?;
            let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
            all.extend(items);
            match page.next(count, total) {
                Some(next) => page = next,
                None => return Ok(all),
            }
        }
        Err(Error::remote(
            0,
            Some("too-many-pages".into()),
            format!("{path} kept announcing more records after {MAX_PAGES} pages"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::map_error`] of an answer with `status`, `Retry-After` (whole seconds) and `body`.
    fn map_error(
        status: u16,
        retry_after_ms: Option<u64>,
        body: &[u8],
        ctx: &ErrorContext<'_>,
    ) -> Error {
        let headers = retry_after_ms
            .map(|ms| vec![("retry-after".to_string(), (ms / 1000).to_string())])
            .unwrap_or_default();
        let response = Response {
            status,
            headers,
            body: body.to_vec(),
        };
        super::map_error(&response, ctx)
    }

    fn settings() -> Settings {
        Settings::from_values(
            "bms.kaseya.com",
            " api.psahost ",
            " Psahost Demo ",
            " pw SECRET ",
        )
        .unwrap()
    }

    fn field_of(e: &Error) -> String {
        match e {
            Error::InvalidInput(p) => p.field.clone(),
            Error::Unauthorized(p) => p.settings.join(","),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settings_validation() {
        let s = settings();
        assert_eq!(s.username, "api.psahost");
        assert_eq!(s.tenant, "Psahost Demo");
        assert_eq!(s.password, " pw SECRET ", "the password is used as typed");
        assert_eq!(
            s.login_url(),
            "https://bms.kaseya.com/api/v2/security/authenticate"
        );
        assert_eq!(
            s.api_url("/v2/crm/accounts"),
            "https://bms.kaseya.com/api/v2/crm/accounts"
        );
        let key = s.token_cache().key().to_string();
        assert!(
            key.starts_with("token/") && !key.contains("SECRET"),
            "{key}"
        );
        // The same user in another case shares the token; another password does not.
        let upper = Settings::from_values(
            "bms.kaseya.com",
            "API.psahost",
            "PSAHOST DEMO",
            " pw SECRET ",
        )
        .unwrap();
        assert_eq!(upper.token_cache(), s.token_cache());
        let other =
            Settings::from_values("bms.kaseya.com", "api.psahost", "Psahost Demo", "new pw")
                .unwrap();
        assert_ne!(other.token_cache(), s.token_cache());
        assert!(!format!("{s:?}").contains("SECRET"));
        // A pasted browser address: the server's origin (psa_sdk::origin parses it).
        let pasted = Settings::from_values("https://BMSEMEA.kaseya.com/MySettings", "u", "t", "p");
        assert_eq!(pasted.unwrap().origin, "https://bmsemea.kaseya.com");
        let e = origin_from_server("ftp://x").unwrap_err();
        assert!(format!("{e:?}").contains("e.g. bms.kaseya.com"), "{e:?}");
        for ((server, user, tenant, pw), field) in [
            (("", "u", "t", "p"), "server"),
            (("h:99999", "u", "t", "p"), "server"),
            (("h", " ", "t", "p"), "username"),
            (("h", "u\u{7}x", "t", "p"), "username"),
            (("h", "u", "", "p"), "tenant"),
            (("h", "u", "t", ""), "password"),
        ] {
            let e = Settings::from_values(server, user, tenant, pw).unwrap_err();
            assert_eq!(field_of(&e), field);
        }
    }

    #[test]
    fn redaction() {
        let s = settings();
        assert_eq!(
            message::redact(
                "echo  pw SECRET  and tok3n-abc",
                &s.secrets(Some("tok3n-abc"))
            ),
            "echo [redacted] and [redacted]"
        );
        let e = Error::remote(500, None, "tok3n-abc").redact(&s.secrets(Some("tok3n-abc")));
        assert_eq!(e, Error::remote(500, None, "[redacted]"));
        // Short secrets are not redacted (every "a" would vanish).
        assert_eq!(message::redact("a b", &s.secrets(Some("a"))), "a b");
    }

    #[test]
    fn error_bodies() {
        let e = parse_error_body(
            br#"{"result":null,"success":false,"error":{"code":"ValidationError","message":"The ticket is invalid.","validationErrors":[{"field":"title","message":"Title is required."},{"field":"queueId","message":"Queue 77 does not exist."}]}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("ValidationError"));
        assert_eq!(e.message, "The ticket is invalid.");
        assert_eq!(
            e.validation,
            vec![
                ("title".to_string(), "Title is required.".to_string()),
                (
                    "queueId".to_string(),
                    "Queue 77 does not exist.".to_string()
                ),
            ]
        );
        let top = parse_error_body(br#"{"code":"X","message":"flat"}"#);
        assert_eq!(
            (top.code.as_deref(), top.message.as_str()),
            (Some("X"), "flat")
        );
        let html = parse_error_body(b"<html>502 Bad Gateway</html>");
        assert_eq!(html.message, "<html>502 Bad Gateway</html>");
        assert_eq!(
            parse_error_body("x".repeat(1000).as_bytes())
                .message
                .chars()
                .count(),
            301
        );
    }

    const TICKET_FIELDS: &[(&str, &str)] = &[("title", "summary"), ("queueId", "queue-id")];

    fn ctx() -> ErrorContext<'static> {
        ErrorContext {
            subject: Some("ticket 99"),
            path: "v2/servicedesk/tickets/99",
            fields: TICKET_FIELDS,
            username: "api.psahost",
        }
    }

    #[test]
    fn maps_validation_errors_to_contract_fields() {
        let body = br#"{"result":null,"success":false,"error":{"code":"ValidationError","message":"The ticket is invalid.","validationErrors":[{"field":"Title","message":"Title is required."}]}}"#;
        match map_error(400, None, body, &ctx()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "summary");
                assert_eq!(p.message, "Title is required. (BMS field `Title`)");
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"error":{"code":"ValidationError","message":"The request is invalid.","validationErrors":[{"field":"modifiedSince","message":"'x' is not an ISO 8601 UTC time."}]}}"#;
        assert_eq!(
            field_of(&map_error(400, None, body, &ctx())),
            "updated-since"
        );
        let body = br#"{"error":{"code":"ValidationError","message":"m","validationErrors":[{"field":"locationId","message":""}]}}"#;
        match map_error(400, None, body, &ctx()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "locationId");
                assert_eq!(p.message, "m");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(field_of(&map_error(400, None, b"bad", &ctx())), "request");
        assert_eq!(map_error(409, None, b"{}", &ctx()).kind(), "remote");
    }

    #[test]
    fn maps_other_statuses() {
        match map_error(
            401,
            None,
            br#"{"error":{"code":"TokenExpired","message":"The access token has expired."}}"#,
            &ctx(),
        ) {
            Error::Unauthorized(p) => {
                assert_eq!(p.settings, ["password"]);
                assert!(p.message.contains("TokenExpired"));
                assert!(p.message.contains("api.psahost"));
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"result":null,"success":false,"error":{"code":"Forbidden","message":"You do not have permission to perform this action: the user's role lacks Service Desk > Tickets (Add)"}}"#;
        match map_error(403, None, body, &ctx()) {
            Error::Forbidden(p) => {
                assert_eq!(p.permission, "Service Desk > Tickets (Add)");
                assert!(p.message.starts_with("You do not have permission"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            map_error(
                404,
                None,
                br#"{"error":{"code":"NotFound","message":"Ticket 99 was not found."}}"#,
                &ctx()
            ),
            Error::not_found("ticket 99 was not found in Kaseya BMS")
        );
        let no_subject = ErrorContext {
            subject: None,
            ..ctx()
        };
        match map_error(404, None, b"nope", &no_subject) {
            Error::NotFound(m) => assert!(
                m.contains("v2/servicedesk/tickets/99") && m.contains("`server`"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        let body = br#"{"result":null,"success":false,"error":{"code":"TooManyRequests","message":"API calls quota exceeded: at most 1500 calls per hour on v2/crm/accounts. Retry in 42 seconds."}}"#;
        match map_error(429, Some(42_000), body, &ctx()) {
            Error::RateLimited(h) => {
                assert_eq!(h.retry_after_ms, Some(42_000));
                assert!(h.message.contains("quota exceeded"));
            }
            other => panic!("{other:?}"),
        }
        for status in [500, 502, 503] {
            assert_eq!(
                map_error(status, None, b"down", &ctx()).kind(),
                "unavailable"
            );
        }
        match map_error(
            405,
            None,
            br#"{"error":{"code":"MethodNotAllowed","message":"no"}}"#,
            &ctx(),
        ) {
            Error::Remote(p) => {
                assert_eq!(p.status, 405);
                assert_eq!(p.code.as_deref(), Some("MethodNotAllowed"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn envelopes() {
        assert_eq!(
            envelope(200, br#"{"result":{"id":1},"success":true,"error":null}"#).unwrap(),
            serde_json::json!({"id": 1})
        );
        let (items, total) = list_envelope(
            200,
            br#"{"result":[{"id":1},{"id":2}],"totalRecords":7,"success":true}"#,
        )
        .unwrap();
        assert_eq!((items.len(), total), (2, Some(7)));
        let (_, total) = list_envelope(200, br#"{"result":[]}"#).unwrap();
        assert_eq!(total, None);
        for bad in [
            &br#"{"result":[{"id":1}"#[..],
            b"[]",
            br#"{"success":true}"#,
            br#"{"result":null}"#,
        ] {
            match envelope(200, bad) {
                Err(Error::Remote(p)) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
                other => panic!("{other:?}"),
            }
        }
        match list_envelope(200, br#"{"result":{"id":1}}"#) {
            Err(Error::Remote(p)) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
            other => panic!("{other:?}"),
        }
        match envelope(
            200,
            br#"{"result":null,"success":false,"error":{"code":"Oops","message":"m"}}"#,
        ) {
            Err(Error::Remote(p)) => {
                assert_eq!(p.status, 200);
                assert_eq!(p.code.as_deref(), Some("Oops"));
            }
            other => panic!("{other:?}"),
        }
    }
}
