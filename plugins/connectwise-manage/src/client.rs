//! The ConnectWise REST client: the origin from the `site` setting, codebase discovery and its
//! cache, the auth headers, request and paging helpers, and the mapping of error answers.
//!
//! Everything that does not touch a host capability (settings validation, the company-info
//! answer, error mapping, the secrets to redact) is a plain function with unit tests; [`Client`]
//! glues them to the host's `http`, `kv` and `settings`. Origin parsing, redaction and excerpts
//! of answers are the SDK's (`psa_sdk::origin`, `psa_sdk::message`).

use crate::paging::{MAX_PAGE_SIZE, PageState};
use psa_sdk::http::{Method, Request, Response, encode_component};
use psa_sdk::status::{self, ErrorMap};
use psa_sdk::{Error, Result, kv, origin, settings};
use serde_json::Value;

/// The API version pinned in the `Accept` header when the operator sets none.
pub const DEFAULT_API_VERSION: &str = "2026.4";

/// The most pages one "read everything" loop follows (1000 records each): a guard against a
/// server that keeps answering `rel="next"`.
const MAX_PAGES: u32 = 10_000;

/// The connection's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `scheme://host[:port]` of the ConnectWise site, without a trailing slash.
    pub origin: String,
    /// The company id typed on the login screen.
    pub company_id: String,
    /// The API key's public half.
    pub public_key: String,
    /// The API key's private half. Never logged, never put in a message.
    pub private_key: String,
    /// The integration's clientId.
    pub client_id: String,
    /// The API version for the `Accept` header.
    pub api_version: String,
}

impl Settings {
    /// Reads and validates the connection's settings.
    pub fn load() -> Result<Self> {
        let api_version = settings::get("api-version");
        Settings::from_values(
            &settings::require("site")?,
            &settings::require("company-id")?,
            &settings::require("public-key")?,
            &settings::require("private-key")?,
            &settings::require("client-id")?,
            api_version.as_deref(),
        )
    }

    /// Validates setting values (pure; `load` feeds it the host's settings).
    pub fn from_values(
        site: &str,
        company_id: &str,
        public_key: &str,
        private_key: &str,
        client_id: &str,
        api_version: Option<&str>,
    ) -> Result<Self> {
        let origin = origin_from_site(site)?;
        let company_id = company_id.trim().to_string();
        if company_id.is_empty() || company_id.contains(['/', '?', '#', '+', ':']) {
            return Err(Error::invalid(
                "company-id",
                "the company id is the short name typed in the Company field of the ConnectWise login screen (letters, digits, `_`, `-`)",
            ));
        }
        let public_key = public_key.trim().to_string();
        if public_key.contains(':') || public_key.is_empty() {
            return Err(Error::invalid(
                "public-key",
                "the public key of the API member's API key is required and cannot contain `:`",
            ));
        }
        let private_key = private_key.trim().to_string();
        if private_key.is_empty() {
            return Err(Error::invalid("private-key", "the private key is required"));
        }
        let client_id = client_id.trim().to_string();
        if client_id.is_empty() || client_id.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(
                "client-id",
                "the clientId from developer.connectwise.com is required",
            ));
        }
        let api_version = api_version
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_API_VERSION)
            .to_string();
        if !api_version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::invalid(
                "api-version",
                format!(
                    "`{api_version}` is not an API version such as {DEFAULT_API_VERSION}: digits separated by dots"
                ),
            ));
        }
        Ok(Settings {
            origin,
            company_id,
            public_key,
            private_key,
            client_id,
            api_version,
        })
    }

    /// The user part of the Basic credentials: `{companyId}+{publicKey}`.
    pub fn basic_user(&self) -> String {
        format!("{}+{}", self.company_id, self.public_key)
    }

    /// The `Accept` header value.
    pub fn accept(&self) -> String {
        format!(
            "application/vnd.connectwise.com+json; version={}",
            self.api_version
        )
    }

    /// The kv key of the cached codebase: one per site and company.
    pub fn codebase_key(&self) -> String {
        format!(
            "codebase/{}/{}",
            self.origin,
            self.company_id.to_ascii_lowercase()
        )
    }

    /// The URL of the codebase discovery endpoint.
    pub fn company_info_url(&self) -> String {
        format!(
            "{}/login/companyinfo/{}",
            self.origin,
            encode_component(&self.company_id)
        )
    }

    /// The secrets to redact from a text that goes into an error or a log line.
    pub fn secrets(&self) -> [&str; 1] {
        [&self.private_key]
    }
}

/// `scheme://host[:port]` for the `site` setting: a bare host (`api-na.myconnectwise.net`,
/// `cw.example.com:8443`) means https; a full origin (`http://127.0.0.1:41234`) is used as given.
/// A path (someone pasted the browser's address) is dropped.
pub fn origin_from_site(site: &str) -> Result<String> {
    origin::parse(site).map_err(|why| {
        Error::invalid(
            "site",
            format!(
                "`{site}` is not a ConnectWise site ({why}): use the API host, e.g. api-na.myconnectwise.net, or a full origin such as https://cw.example.com"
            ),
        )
    })
}

/// What `login/companyinfo/{companyId}` says about the company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyInfo {
    /// The codebase prefix of the API, normalised to end with `/` (`v4_6_release/`).
    pub codebase: String,
    /// The company's display name.
    pub company_name: Option<String>,
    /// `VersionCode` (`v2026.4`).
    pub version_code: Option<String>,
    /// Whether it is a ConnectWise cloud site.
    pub is_cloud: Option<bool>,
}

/// Reads the answer of the codebase discovery endpoint.
pub fn parse_company_info(body: &[u8]) -> Result<CompanyInfo> {
    let not_cw = || {
        Error::invalid(
            "site",
            "the site answered the codebase discovery (login/companyinfo) without a ConnectWise `Codebase`: check that `site` is the ConnectWise API host",
        )
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| not_cw())?;
    let codebase = v
        .get("Codebase")
        .and_then(Value::as_str)
        .and_then(normalize_codebase)
        .ok_or_else(not_cw)?;
    Ok(CompanyInfo {
        codebase,
        company_name: v
            .get("CompanyName")
            .and_then(Value::as_str)
            .map(str::to_string),
        version_code: v
            .get("VersionCode")
            .and_then(Value::as_str)
            .map(str::to_string),
        is_cloud: v.get("IsCloud").and_then(Value::as_bool),
    })
}

/// `v4_6_release/` from `v4_6_release`, `/v4_6_release/` and the like; `None` for anything that
/// is not a plain path segment (so a hostile answer cannot redirect requests elsewhere).
pub fn normalize_codebase(codebase: &str) -> Option<String> {
    let trimmed = codebase.trim().trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed != "."
        && trimmed != ".."
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    ok.then(|| format!("{trimmed}/"))
}

/// What an error answer is about, to phrase the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext<'a> {
    /// The record the request was about (`company 42`), for not-found.
    pub subject: Option<&'a str>,
    /// The public key, to name it in a refused key pair message.
    pub public_key: &'a str,
}

/// The ConnectWise error body `{code, message, errors[{code, message, resource, field}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CwError {
    /// `InvalidObject`, `Unauthorized`, ...
    pub code: Option<String>,
    /// The top-level message.
    pub message: String,
    /// The first entry of `errors`: (field, message).
    pub first_field: Option<(String, Option<String>)>,
}

/// Reads an error body: code and message as the SDK reads them
/// ([`psa_sdk::status::read_error_body`]), and the first field ConnectWise names in `errors`.
pub fn parse_error_body(body: &[u8]) -> CwError {
    let text = status::read_error_body(body);
    let first_field = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let s = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        v.get("errors")?
            .as_array()?
            .iter()
            .find_map(|e| s(e, "field").map(|f| (f, s(e, "message"))))
    });
    CwError {
        code: text.code,
        message: text.message,
        first_field,
    }
}

/// The settings a 401 about the API key pair names, the likeliest first.
const KEY_PAIR: &[&str] = &["private-key", "public-key"];

/// Maps a non-2xx ConnectWise answer to the contract's error: the SDK's mapping
/// ([`psa_sdk::status`]) with ConnectWise's validation errors, 401s and conflicts as a hook.
pub fn map_error(response: &Response, ctx: &ErrorContext<'_>) -> Error {
    ErrorMap::new("ConnectWise", "private-key")
        .credentials(KEY_PAIR)
        .subject(ctx.subject)
        .hook(|r, _| specific_error(r.status, &parse_error_body(&r.body), ctx))
        .map(response)
}

/// What only ConnectWise says: a validation error names a field, a 401 is about the clientId,
/// the company id or the key pair, a conflict names a field.
fn specific_error(status: u16, e: &CwError, ctx: &ErrorContext<'_>) -> Option<Error> {
    let lower = e.message.to_ascii_lowercase();
    Some(match status {
        400 | 422 => match &e.first_field {
            Some((field, msg)) => Error::invalid(
                field.clone(),
                match msg {
                    Some(m) if *m != e.message => format!("{m} ({})", e.message),
                    Some(m) => m.clone(),
                    None => e.message.clone(),
                },
            ),
            None => {
                // `conditions: unknown field x` names the parameter before the colon.
                let field = e
                    .message
                    .split_once(':')
                    .map(|(f, _)| f.trim())
                    .filter(|f| !f.is_empty() && !f.contains(' '))
                    .unwrap_or("request");
                Error::invalid(field, e.message.clone())
            }
        },
        401 if lower.contains("clientid") || lower.contains("client id") => Error::unauthorized(
            "client-id",
            format!(
                "ConnectWise refused the clientId: {} (create one at developer.connectwise.com > Client ID)",
                e.message
            ),
        ),
        401 if lower.contains("company") => Error::unauthorized(
            "company-id",
            format!(
                "ConnectWise refused the company id: {} (use the Company field of the login screen)",
                e.message
            ),
        ),
        // A refused key pair does not say which half is wrong: name both, the private key
        // (the half operators mistype or rotate) first.
        401 => Error::unauthorized_any(
            KEY_PAIR.iter().copied(),
            format!(
                "ConnectWise refused the API key pair with public key `{}`: {} (check that `public-key` and `private-key` are the two halves of the same API key of the API member)",
                ctx.public_key, e.message
            ),
        ),
        409 => match &e.first_field {
            Some((field, msg)) => Error::invalid(
                field.clone(),
                format!("conflict: {}", msg.as_deref().unwrap_or(&e.message)),
            ),
            None => Error::remote(
                409,
                e.code.clone().or(Some("Conflict".into())),
                e.message.clone(),
            ),
        },
        _ => return None,
    })
}

/// Stores the codebase in kv. The cache only saves a discovery request per call, so a kv
/// failure (quota, storage) is logged and otherwise ignored.
fn cache_codebase(settings: &Settings, codebase: &str) {
    if let Err(e) = kv::set_string(&settings.codebase_key(), codebase) {
        psa_sdk::warn!("cannot cache the ConnectWise codebase: {e:?}");
    }
}

/// A connected client: validated settings and the API codebase.
pub struct Client {
    settings: Settings,
    codebase: String,
    /// The codebase was discovered during this call (a 404 then is a real 404).
    fresh: bool,
}

impl Client {
    /// Loads the settings and the codebase (from the kv cache, else by discovery).
    pub fn connect() -> Result<Self> {
        let settings = Settings::load()?;
        let cached = match kv::get_string(&settings.codebase_key()) {
            Ok(value) => value.and_then(|c| normalize_codebase(&c)),
            Err(e) => {
                psa_sdk::warn!("cannot read the cached ConnectWise codebase: {e:?}");
                None
            }
        };
        let (codebase, fresh) = match cached {
            Some(c) => (c, false),
            None => {
                let info = Self::discover(&settings)?;
                cache_codebase(&settings, &info.codebase);
                (info.codebase, true)
            }
        };
        Ok(Client {
            settings,
            codebase,
            fresh,
        })
    }

    /// Discovers the codebase afresh (the connection test does), caches it, and returns the
    /// client with what the site said.
    pub fn connect_fresh() -> Result<(Self, CompanyInfo)> {
        let settings = Settings::load()?;
        let info = Self::discover(&settings)?;
        cache_codebase(&settings, &info.codebase);
        let client = Client {
            settings,
            codebase: info.codebase.clone(),
            fresh: true,
        };
        Ok((client, info))
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The API codebase in use (`v4_6_release/`).
    pub fn codebase(&self) -> &str {
        &self.codebase
    }

    /// `GET {origin}/login/companyinfo/{companyId}` (no auth).
    pub fn discover(settings: &Settings) -> Result<CompanyInfo> {
        let url = settings.company_info_url();
        psa_sdk::debug!("discovering the ConnectWise codebase: GET {url}");
        let response = Request::get(&url)
            .header("accept", "application/json")
            .send()
            .map_err(|e| match e {
                Error::Unavailable(m) => Error::unavailable(format!(
                    "cannot reach the ConnectWise site {} (check the `site` setting): {m}",
                    settings.origin
                )),
                other => other,
            })?;
        match response.status {
            200 => parse_company_info(&response.body),
            404 => Err(Error::unauthorized(
                "company-id",
                format!(
                    "the ConnectWise site {} does not know company id `{}`: use the Company field of the login screen",
                    settings.origin, settings.company_id
                ),
            )),
            _ => Err(map_error(
                &response,
                &ErrorContext {
                    subject: None,
                    public_key: &settings.public_key,
                },
            )
            .redact(&settings.secrets())),
        }
    }

    /// `{origin}/{codebase}apis/3.0/{path}`.
    pub fn api_url(&self, path: &str) -> String {
        format!(
            "{}/{}apis/3.0/{}",
            self.settings.origin,
            self.codebase,
            path.trim_start_matches('/')
        )
    }

    fn build(&self, method: Method, path: &str, query: &[(String, String)]) -> Request {
        let mut request = Request::new(method, self.api_url(path));
        for (k, v) in query {
            request = request.query(k.as_str(), v.as_str());
        }
        request
            .basic_auth(&self.settings.basic_user(), &self.settings.private_key)
            .header("clientId", self.settings.client_id.as_str())
            .header("accept", self.settings.accept())
    }

    /// Sends one API request and returns the 2xx response; any other status becomes the
    /// contract's error (`subject` names the record for not-found). A 404 with a codebase from
    /// the cache re-discovers the codebase once and, when it changed, retries.
    pub fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        subject: Option<&str>,
    ) -> Result<Response> {
        loop {
            let mut request = self.build(method, path, query);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_vec());
            }
            psa_sdk::debug!("{method:?} {}", request.url());
            let response = request.send()?;
            if response.is_success() {
                return Ok(response);
            }
            if response.status == 404 && !self.fresh {
                self.fresh = true;
                let info = Self::discover(&self.settings)?;
                cache_codebase(&self.settings, &info.codebase);
                if info.codebase != self.codebase {
                    psa_sdk::info!(
                        "the ConnectWise codebase changed from {} to {}; retrying",
                        self.codebase,
                        info.codebase
                    );
                    self.codebase = info.codebase;
                    continue;
                }
            }
            let ctx = ErrorContext {
                subject,
                public_key: &self.settings.public_key,
            };
            let error = map_error(&response, &ctx);
            psa_sdk::debug!("{method:?} {path}: {} {}", response.status, error.kind());
            return Err(error.redact(&self.settings.secrets()));
        }
    }

    /// `GET path` as JSON.
    pub fn get_json(
        &mut self,
        path: &str,
        query: &[(String, String)],
        subject: Option<&str>,
    ) -> Result<Value> {
        self.send(Method::Get, path, query, &[], None, subject)?
            .json()
    }

    /// Sends a JSON body (POST or PATCH) and reads the JSON answer.
    pub fn send_json(
        &mut self,
        method: Method,
        path: &str,
        body: &[u8],
        subject: Option<&str>,
    ) -> Result<Value> {
        self.send(method, path, &[], &[], Some(body), subject)?
            .json()
    }

    /// One page of a list: the answer (its body is the JSON array of the page's records, read
    /// by `map::*_page`) and the state of the next page (`None` on the last).
    pub fn get_page(
        &mut self,
        path: &str,
        state: &PageState,
        extra: &[(String, String)],
    ) -> Result<(Response, Option<PageState>)> {
        let mut query = state.query();
        query.extend(extra.iter().cloned());
        let headers: &[(&str, &str)] = if state.forward_only() {
            &[("pagination-type", "forward-only")]
        } else {
            &[]
        };
        let response = self.send(Method::Get, path, &query, headers, None, None)?;
        let next = state.next(response.header("link"));
        Ok((response, next))
    }

    /// Every record of a list as a `Value`, following `Link` rel="next" with 1000-record pages.
    pub fn get_all(
        &mut self,
        path: &str,
        conditions: Option<String>,
        extra: &[(String, String)],
    ) -> Result<Vec<Value>> {
        self.get_all_with(path, conditions, extra, |page| page.json())
    }

    /// Every record of a list, following `Link` rel="next" with 1000-record pages; `map` reads
    /// each page's answer into its records.
    pub fn get_all_with<T>(
        &mut self,
        path: &str,
        conditions: Option<String>,
        extra: &[(String, String)],
        mut map: impl FnMut(&Response) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let mut state = PageState::first(path, MAX_PAGE_SIZE, conditions);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let (page, next) = self.get_page(path, &state, extra)?;
            all.extend(map(&page)?);
            match next {
                Some(n) => state = n,
                None => return Ok(all),
            }
        }
        Err(Error::remote(
            0,
            Some("too-many-pages".into()),
            format!("{path} kept announcing a next page after {MAX_PAGES} pages"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psa_sdk::message;

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
            "api-na.myconnectwise.net",
            "acme",
            "pubKEY123",
            "privSECRET456",
            "0d4a4b8e-0000-4000-8000-000000000001",
            None,
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
        assert_eq!(s.basic_user(), "acme+pubKEY123");
        assert_eq!(
            s.accept(),
            "application/vnd.connectwise.com+json; version=2026.4"
        );
        assert_eq!(
            s.codebase_key(),
            "codebase/https://api-na.myconnectwise.net/acme"
        );
        assert_eq!(
            s.company_info_url(),
            "https://api-na.myconnectwise.net/login/companyinfo/acme"
        );
        let pinned = Settings::from_values("h", "Acme", "p", "k", "c", Some(" 2025.1 ")).unwrap();
        assert_eq!(pinned.api_version, "2025.1");
        assert_eq!(pinned.codebase_key(), "codebase/https://h/acme");
        // A pasted browser address: the site's origin (psa_sdk::origin parses it).
        let pasted = "https://NA.myconnectwise.net/v4_6_release/ConnectWise.aspx";
        let s = Settings::from_values(pasted, "a", "p", "k", "c", None).unwrap();
        assert_eq!(s.origin, "https://na.myconnectwise.net");
        let e = origin_from_site("ftp://x").unwrap_err();
        assert!(
            format!("{e:?}").contains("e.g. api-na.myconnectwise.net"),
            "{e:?}"
        );
        let cases = [
            (("", "a", "p", "k", "c", None), "site"),
            (("https://user@h", "a", "p", "k", "c", None), "site"),
            (("h", "", "p", "k", "c", None), "company-id"),
            (("h", "a/b", "p", "k", "c", None), "company-id"),
            (("h", "a", "p:q", "k", "c", None), "public-key"),
            (("h", "a", "p", " ", "c", None), "private-key"),
            (("h", "a", "p", "k", "", None), "client-id"),
            (("h", "a", "p", "k", "c", Some("latest")), "api-version"),
            (
                ("h", "a", "p", "k", "c", Some("2026.4\r\nx: y")),
                "api-version",
            ),
        ];
        for ((site, co, pk, sk, ci, v), field) in cases {
            let e = Settings::from_values(site, co, pk, sk, ci, v).unwrap_err();
            assert_eq!(field_of(&e), field);
        }
    }

    #[test]
    fn company_info() {
        let info = parse_company_info(
            br#"{"CompanyName":"Psahost Demo","Codebase":"v4_6_release/","VersionCode":"v2026.4","VersionNumber":"v4.6.2026","CompanyID":"psahost-demo","IsCloud":true,"SiteUrl":"x"}"#,
        )
        .unwrap();
        assert_eq!(info.codebase, "v4_6_release/");
        assert_eq!(info.company_name.as_deref(), Some("Psahost Demo"));
        assert_eq!(info.version_code.as_deref(), Some("v2026.4"));
        assert_eq!(info.is_cloud, Some(true));
        assert_eq!(
            parse_company_info(br#"{"Codebase":"v2025_1"}"#)
                .unwrap()
                .codebase,
            "v2025_1/"
        );
        for bad in [
            &b"<html>login</html>"[..],
            br#"{"Codebase":""}"#,
            br#"{"Codebase":"../admin/"}"#,
            br#"{"Codebase":"https://evil.example/"}"#,
            br#"{"codebase":"v1/"}"#,
        ] {
            assert_eq!(field_of(&parse_company_info(bad).unwrap_err()), "site");
        }
    }

    #[test]
    fn redaction() {
        let s = settings();
        assert_eq!(
            message::redact("key privSECRET456 leaked: privSECRET456", &s.secrets()),
            "key [redacted] leaked: [redacted]"
        );
        let e = Error::remote(500, None, "echo privSECRET456").redact(&s.secrets());
        assert_eq!(e, Error::remote(500, None, "echo [redacted]"));
    }

    fn ctx() -> ErrorContext<'static> {
        ErrorContext {
            subject: Some("ticket 99"),
            public_key: "pubKEY123",
        }
    }

    #[test]
    fn maps_validation_errors() {
        let body = br#"{"code":"InvalidObject","message":"Ticket object is invalid","errors":[{"code":"NullValue","message":"The summary field is required.","resource":"ticket","field":"summary"}]}"#;
        match map_error(400, None, body, &ctx()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "summary");
                assert!(
                    p.message.contains("The summary field is required."),
                    "{}",
                    p.message
                );
            }
            other => panic!("{other:?}"),
        }
        let body =
            br#"{"code":"InvalidObject","message":"conditions: unexpected token 'x'","errors":[]}"#;
        match map_error(400, None, body, &ctx()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "conditions");
                assert_eq!(p.message, "conditions: unexpected token 'x'");
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"code":"InvalidObject","message":"The configuration type Managed Server cannot be updated through the API","errors":null}"#;
        match map_error(400, None, body, &ctx()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "request");
                assert!(p.message.contains("Managed Server"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maps_unauthorized_to_the_setting() {
        let cases = [
            (
                r#"{"code":"Unauthorized","message":"The clientId header is missing or is not a registered client id"}"#,
                "client-id",
            ),
            (
                r#"{"code":"Unauthorized","message":"Company 'x' is not valid"}"#,
                "company-id",
            ),
            (
                r#"{"code":"Unauthorized","message":"Authentication failed: the API key pair is not valid"}"#,
                "private-key,public-key",
            ),
            ("", "private-key,public-key"),
        ];
        for (body, settings) in cases {
            match map_error(401, None, body.as_bytes(), &ctx()) {
                Error::Unauthorized(p) => {
                    assert_eq!(p.settings.join(","), settings, "{body}");
                    if settings == "private-key,public-key" {
                        assert!(
                            p.message.contains("public key `pubKEY123`"),
                            "{}",
                            p.message
                        );
                        assert!(p.message.contains("public-key"), "{}", p.message);
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn maps_other_statuses() {
        let body = br#"{"code":"Forbidden","message":"You do not have permission to perform this action: the security role lacks Service Desk > Service Tickets (Add)"}"#;
        match map_error(403, None, body, &ctx()) {
            Error::Forbidden(p) => {
                assert_eq!(p.permission, "Service Desk > Service Tickets (Add)");
                assert!(p.message.starts_with("You do not have permission"));
            }
            other => panic!("{other:?}"),
        }
        let body =
            br#"{"code":"NotFound","message":"Ticket with id 99 was not found.","errors":null}"#;
        assert_eq!(
            map_error(404, None, body, &ctx()),
            Error::not_found("ticket 99 was not found in ConnectWise")
        );
        let no_subject = ErrorContext {
            subject: None,
            public_key: "p",
        };
        assert_eq!(
            map_error(404, None, body, &no_subject),
            Error::not_found("ConnectWise answered 404: Ticket with id 99 was not found.")
        );
        let body = br#"{"code":"TooManyRequests","message":"Request rate limit exceeded"}"#;
        match map_error(429, Some(3000), body, &ctx()) {
            Error::RateLimited(h) => {
                assert_eq!(h.retry_after_ms, Some(3000));
                assert!(h.message.contains("Request rate limit exceeded"));
            }
            other => panic!("{other:?}"),
        }
        for status in [500, 502, 503] {
            assert_eq!(
                map_error(
                    status,
                    None,
                    br#"{"code":"ServiceUnavailable","message":"down"}"#,
                    &ctx()
                )
                .kind(),
                "unavailable"
            );
        }
        match map_error(
            409,
            None,
            br#"{"code":"Conflict","message":"record changed"}"#,
            &ctx(),
        ) {
            Error::Remote(p) => {
                assert_eq!(p.status, 409);
                assert_eq!(p.code.as_deref(), Some("Conflict"));
            }
            other => panic!("{other:?}"),
        }
        match map_error(
            409,
            None,
            br#"{"code":"Conflict","message":"duplicate","errors":[{"field":"name","message":"name already used"}]}"#,
            &ctx(),
        ) {
            Error::InvalidInput(p) => assert_eq!(p.field, "name"),
            other => panic!("{other:?}"),
        }
        match map_error(418, None, b"<html>teapot</html>", &ctx()) {
            Error::Remote(p) => {
                assert_eq!(p.status, 418);
                assert_eq!(p.code, None);
                assert_eq!(p.message, "<html>teapot</html>");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_non_json_bodies_are_shortened() {
        let body = "x".repeat(1000);
        let e = parse_error_body(body.as_bytes());
        assert_eq!(e.message.chars().count(), 301);
    }
}
