//! The Autotask REST client: the settings, zone discovery and its kv cache, the auth headers,
//! query and write helpers, and the mapping of error answers.
//!
//! Everything that does not touch a host capability (settings validation, URL handling, the zone
//! answer, error mapping, the secrets to redact) is a plain function with unit tests; [`Client`]
//! glues them to the host's `http`, `kv` and `settings`. Origin parsing, redaction and excerpts
//! of answers are the SDK's (`psa_sdk::origin`, `psa_sdk::message`).

use crate::query::{Filter, MAX_RECORDS, Query};
use psa_sdk::http::{Method, Request, Response, encode_component};
use psa_sdk::json::Envelope;
use psa_sdk::paging::NextUrl;
use psa_sdk::status::ErrorMap;
use psa_sdk::{Error, Result, kv, message, origin, settings};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The origin of Autotask's zone discovery when the operator sets none.
pub const DEFAULT_DISCOVERY_URL: &str = "https://webservices.autotask.net";

/// The most pages one "read everything" loop follows (500 records each): a guard against a
/// server that keeps announcing a next page.
pub const MAX_PAGES: u32 = 200;

/// The connection's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The API user's username (`UserName` header, discovery's `user`).
    pub username: String,
    /// The API user's secret. Never logged, never put in a message.
    pub secret: String,
    /// The API tracking identifier (`ApiIntegrationCode` header). Redacted like the secret.
    pub integration_code: String,
    /// `scheme://host[:port]` of zone discovery.
    pub discovery_origin: String,
    /// The operator's zone URL override (no trailing slash), which skips discovery.
    pub zone_url: Option<String>,
}

impl Settings {
    /// Reads and validates the connection's settings.
    pub fn load() -> Result<Self> {
        Settings::from_values(
            &settings::require("username")?,
            &settings::require("secret")?,
            &settings::require("integration-code")?,
            settings::get("zone-url").as_deref(),
            settings::get("discovery-url").as_deref(),
        )
    }

    /// Validates setting values (pure; `load` feeds it the host's settings).
    pub fn from_values(
        username: &str,
        secret: &str,
        integration_code: &str,
        zone_url: Option<&str>,
        discovery_url: Option<&str>,
    ) -> Result<Self> {
        let header_safe = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_control());
        let username = username.trim().to_string();
        if !header_safe(&username) || username.contains(char::is_whitespace) {
            return Err(Error::invalid(
                "username",
                "the API user's username is required (Autotask generates it when the API user is created; it looks like an e-mail address) and cannot contain spaces",
            ));
        }
        let secret = secret.trim().to_string();
        if !header_safe(&secret) {
            return Err(Error::invalid(
                "secret",
                "the API user's secret is required and cannot contain control characters",
            ));
        }
        let integration_code = integration_code.trim().to_string();
        if !header_safe(&integration_code) || integration_code.contains(char::is_whitespace) {
            return Err(Error::invalid(
                "integration-code",
                "the API tracking identifier is required and cannot contain spaces",
            ));
        }
        let discovery_origin = origin_from(
            "discovery-url",
            discovery_url
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .unwrap_or(DEFAULT_DISCOVERY_URL),
        )?;
        let zone_url = zone_url
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .map(|z| normalize_zone_url("zone-url", z))
            .transpose()?;
        Ok(Settings {
            username,
            secret,
            integration_code,
            discovery_origin,
            zone_url,
        })
    }

    /// The kv key of the cached zone: one per discovery origin and username.
    pub fn zone_key(&self) -> String {
        format!(
            "zone/{}/{}",
            self.discovery_origin,
            self.username.to_ascii_lowercase()
        )
    }

    /// The URL of the zone discovery endpoint for this username.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/atservicesrest/v1.0/zoneInformation?user={}",
            self.discovery_origin,
            encode_component(&self.username)
        )
    }

    /// The secrets (secret and integration code) to redact from a text that goes into an error
    /// or a log line.
    pub fn secrets(&self) -> [&str; 2] {
        [&self.secret, &self.integration_code]
    }
}

/// Splits a URL setting into its origin (`scheme://host[:port]`; a bare host means https) and
/// what follows the host; `field` names the setting in the error.
fn split_url<'a>(field: &str, value: &'a str) -> Result<(String, &'a str)> {
    origin::split(value).map_err(|why| {
        Error::invalid(
            field,
            format!("`{value}` is not a usable URL for `{field}` ({why})"),
        )
    })
}

/// `scheme://host[:port]` of a setting; a bare host means https, a path is dropped.
pub fn origin_from(field: &str, value: &str) -> Result<String> {
    Ok(split_url(field, value)?.0)
}

/// A zone URL in the form the connector appends `/V1.0/...` to: no query, no trailing `/` or
/// `/V1.0`; a URL without a path gets Autotask's `/atservicesrest`.
pub fn normalize_zone_url(field: &str, value: &str) -> Result<String> {
    let (origin, tail) = split_url(field, value)?;
    let path = tail.split(['?', '#']).next().unwrap_or_default();
    let mut path = path.trim_end_matches('/');
    if path.len() >= 5 && path[path.len() - 5..].eq_ignore_ascii_case("/v1.0") {
        path = path[..path.len() - 5].trim_end_matches('/');
    }
    let segments_ok = path.split('/').skip(1).all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    });
    if !segments_ok {
        return Err(Error::invalid(
            field,
            format!(
                "`{value}` is not an Autotask zone URL such as https://webservices2.autotask.net/atservicesrest"
            ),
        ));
    }
    let path = if path.is_empty() {
        "/atservicesrest"
    } else {
        path
    };
    Ok(format!("{origin}{path}"))
}

/// The origin of an absolute URL, lowercased, default ports removed; `None` when it is not an
/// absolute http(s) URL.
pub fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty() && !a.contains('@'))?
        .to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority
        .strip_suffix(default_port)
        .map(str::to_string)
        .unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

/// What Autotask's zone discovery said, as cached in kv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// The zone's REST base URL, normalised (no trailing `/`).
    pub url: String,
    /// `zoneName` (`America East 2`).
    #[serde(default)]
    pub zone_name: Option<String>,
    /// `webUrl`, the zone's web UI.
    #[serde(default)]
    pub web_url: Option<String>,
    /// `ci`, the tenant's database number.
    #[serde(default)]
    pub ci: Option<i64>,
}

impl Zone {
    /// A zone known only by its URL (the `zone-url` override).
    pub fn from_url(url: &str) -> Self {
        Zone {
            url: url.to_string(),
            zone_name: None,
            web_url: None,
            ci: None,
        }
    }

    /// The host of the zone URL (`webservices2.autotask.net`).
    pub fn host(&self) -> &str {
        origin::host(&self.url)
    }
}

/// Reads the answer of `zoneInformation` (`{zoneName, url, webUrl, ci}`).
pub fn parse_zone_info(body: &[u8]) -> Result<Zone> {
    let not_at = || {
        Error::invalid(
            "discovery-url",
            "the discovery endpoint answered without an Autotask zone `url`: check that `discovery-url` is Autotask's web services origin (https://webservices.autotask.net)",
        )
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| not_at())?;
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.contains("://"))
        .ok_or_else(not_at)?;
    let url = normalize_zone_url("discovery-url", url).map_err(|_| not_at())?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(Zone {
        url,
        zone_name: s("zoneName"),
        web_url: s("webUrl"),
        ci: v.get("ci").and_then(Value::as_i64),
    })
}

/// What a request was, to phrase its error.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext<'a> {
    /// A create or update (POST/PATCH that is not a query): an unexplained 500 is a validation
    /// failure rather than an outage.
    pub write: bool,
    /// The field names the request mentions (body keys, filter fields), to recognise the one a
    /// validation message is about.
    pub fields: Vec<String>,
    /// The record the request is about (`ticket 9001`), for not-found.
    pub subject: Option<&'a str>,
    /// A field whose invalid value means that `subject` does not exist (`ticketID` when adding a
    /// note, `id` when patching).
    pub not_found_field: Option<&'a str>,
}

/// Who was asking, to name the right setting.
#[derive(Debug, Clone, Copy)]
pub struct AuthContext<'a> {
    /// The `username` setting.
    pub username: &'a str,
    /// Whether the zone came from the `zone-url` override (no re-discovery happened).
    pub zone_override: bool,
}

/// The messages of an error body: `{"errors": ["...", ...]}` (entries may also be objects with a
/// `message`); another JSON body's `message`/`Message`; else the body's text, shortened.
pub fn parse_errors(body: &[u8]) -> Vec<String> {
    let text = || message::body_excerpt(body);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let t = text();
        return if t.is_empty() { Vec::new() } else { vec![t] };
    };
    let message = |e: &Value| match e {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(_) => ["message", "Message"]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_str))
            .map(|s| s.trim().to_string()),
        _ => None,
    };
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let out: Vec<String> = errors
            .iter()
            .filter_map(message)
            .filter(|m| !m.is_empty())
            .collect();
        if !out.is_empty() {
            return out;
        }
    }
    match message(&v).filter(|m| !m.is_empty()) {
        Some(m) => vec![m],
        None if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) => Vec::new(),
        None => vec![text()],
    }
}

/// The longest of `fields` that `message` names as a whole word (case-insensitive).
pub fn named_field(message: &str, fields: &[String]) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut best: Option<&String> = None;
    for field in fields.iter().filter(|f| !f.is_empty()) {
        let needle = field.to_ascii_lowercase();
        let found = lower.match_indices(&needle).any(|(at, _)| {
            let before = at.checked_sub(1).map(|i| lower.as_bytes()[i]);
            let after = lower.as_bytes().get(at + needle.len()).copied();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        });
        if found && best.is_none_or(|b| field.len() > b.len()) {
            best = Some(field);
        }
    }
    best.cloned()
}

/// The field a message names after the word "field" (`Missing required field: status.`,
/// `Required field(s) 'title' missing`), for fields the request did not send.
pub fn field_after_keyword(message: &str) -> Option<String> {
    const NOT_FIELDS: &[&str] = &[
        "is",
        "was",
        "are",
        "must",
        "cannot",
        "can",
        "the",
        "a",
        "an",
        "of",
        "for",
        "in",
        "value",
        "values",
        "information",
        "name",
        "names",
    ];
    let lower = message.to_ascii_lowercase();
    lower.match_indices("field").find_map(|(at, _)| {
        let rest = &message[at + "field".len()..];
        let rest = rest
            .strip_prefix("(s)")
            .or_else(|| rest.strip_prefix('s'))
            .unwrap_or(rest);
        let rest = rest.trim_start_matches([':', ' ', '\'', '"', '`']);
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let starts_with_letter = token
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        (starts_with_letter && !NOT_FIELDS.contains(&token.to_ascii_lowercase().as_str()))
            .then_some(token)
    })
}

/// Which credential an Autotask message is about, whatever the status (Autotask answers 500 for
/// an unknown user name and a wrong integration code).
pub fn credential_error(message: &str, auth: &AuthContext<'_>) -> Option<Error> {
    let lower = message.to_ascii_lowercase();
    let about_code = ["integrationcode", "integration code", "tracking identifier"]
        .iter()
        .any(|k| lower.contains(k));
    let refused = [
        "invalid",
        "not valid",
        "required",
        "missing",
        "unknown",
        "not found",
    ]
    .iter()
    .any(|k| lower.contains(k));
    if about_code && refused {
        return Some(Error::unauthorized(
            "integration-code",
            format!(
                "Autotask refused the API integration code: {message} (use the tracking identifier of the API user: Admin > Resources/Users > the API user > Security > API Tracking Identifier)"
            ),
        ));
    }
    if lower.contains("api user") || lower.contains("security level") {
        return Some(Error::forbidden(
            "security level \"API User (system)\" on the API user",
            format!(
                "Autotask refused `{}` as an API user: {message} (edit the resource: Security Level must be API User (system))",
                auth.username
            ),
        ));
    }
    let user_unknown = lower.contains("zone information could not be determined")
        || (lower.contains("user")
            && [
                "could not be found",
                "not found",
                "unable to find",
                "does not exist",
                "invalid user",
            ]
            .iter()
            .any(|k| lower.contains(k)));
    user_unknown.then(|| {
        Error::unauthorized(
            "username",
            format!(
                "Autotask does not know the API user `{}`: {message} (use the generated username of the API user, Admin > Resources/Users; a browser may have autofilled another username)",
                auth.username
            ),
        )
    })
}

/// Maps a non-2xx Autotask answer to the contract's error: the SDK's mapping
/// ([`psa_sdk::status`]) with what only Autotask says as a hook (throttling and refused
/// credentials under any status, validation errors as 400, 422 or 500).
pub fn map_error(response: &Response, ctx: &ErrorContext<'_>, auth: &AuthContext<'_>) -> Error {
    ErrorMap::new("Autotask", "secret")
        .credentials(&["secret", "username"])
        .subject(ctx.subject)
        .hook(|r, _| specific_error(r, ctx, auth))
        .map(response)
}

fn specific_error(
    response: &Response,
    ctx: &ErrorContext<'_>,
    auth: &AuthContext<'_>,
) -> Option<Error> {
    let status = response.status;
    let messages = parse_errors(&response.body);
    let message = if messages.is_empty() {
        format!("HTTP {status} without a message")
    } else {
        messages.join(" ")
    };
    let lower = message.to_ascii_lowercase();
    let throttled = lower.contains("thread")
        && (lower.contains("threshold") || lower.contains("limit"))
        || lower.contains("request threshold");
    if throttled {
        return Some(Error::rate_limited(
            response.retry_after_ms(),
            format!("Autotask rate limit: {message}"),
        ));
    }
    if let Some(e) = messages.iter().find_map(|m| credential_error(m, auth)) {
        return Some(e);
    }
    match status {
        401 => {
            let mut text = format!(
                "Autotask refused the secret of API user `{}`: {message} (check `secret`: the secret of that API user, and `username`: the API user's generated username)",
                auth.username
            );
            if auth.zone_override {
                text.push_str("; `zone-url` is set: if the tenant moved to another zone, clear it so the zone is discovered");
            }
            // A bare 401 does not say whether the user or its secret is wrong (an unknown user
            // under a 500 is recognised above): name both, the secret first.
            Some(Error::unauthorized_any(["secret", "username"], text))
        }
        400 | 422 | 500 => Some(
            match named_field(&message, &ctx.fields).or_else(|| field_after_keyword(&message)) {
                Some(field)
                    if Some(field.as_str()) == ctx.not_found_field && ctx.subject.is_some() =>
                {
                    Error::not_found(format!(
                        "{} was not found in Autotask",
                        ctx.subject.unwrap_or_default()
                    ))
                }
                Some(field) => Error::invalid(field, message),
                None if ctx.write || status != 500 => Error::invalid("request", message),
                None => Error::unavailable(format!("Autotask answered {status}: {message}")),
            },
        ),
        _ => None,
    }
}

/// Reads a query answer: the records and `pageDetails.nextPageUrl`.
pub fn parse_page(v: Value) -> Result<(Vec<Value>, Option<String>)> {
    let next = v
        .get("pageDetails")
        .and_then(|p| p.get("nextPageUrl"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    match v {
        Value::Object(mut o) => match o.remove("items") {
            Some(Value::Array(items)) => Ok((items, next)),
            _ => Err(Error::malformed("an Autotask query answer without `items`")),
        },
        _ => Err(Error::malformed(
            "an Autotask query answer that is not an object",
        )),
    }
}

/// Stores the zone in kv. The cache only saves a discovery request per call, so a kv failure
/// (quota, storage) is logged and otherwise ignored.
fn cache_zone(settings: &Settings, zone: &Zone) {
    if let Err(e) = kv::set_json(&settings.zone_key(), zone) {
        psa_sdk::warn!("cannot cache the Autotask zone: {e:?}");
    }
}

/// Where a request goes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A path under `{zone}/V1.0/`.
    Path(&'a str),
    /// An absolute URL Autotask gave (`nextPageUrl`); it must be on the zone's origin.
    Url(&'a str),
}

/// A connected client: validated settings and the zone.
pub struct Client {
    settings: Settings,
    zone: Zone,
    /// The zone was discovered during this call or set by the operator (a 401/404 then is real).
    fresh: bool,
}

impl Client {
    /// Loads the settings and the zone (the override, else the kv cache, else discovery).
    pub fn connect() -> Result<Self> {
        let settings = Settings::load()?;
        if let Some(url) = &settings.zone_url {
            let zone = Zone::from_url(url);
            return Ok(Client {
                settings,
                zone,
                fresh: true,
            });
        }
        let cached = match kv::get_json::<Zone>(&settings.zone_key()) {
            Ok(zone) => {
                zone.filter(|z| normalize_zone_url("zone", &z.url).ok() == Some(z.url.clone()))
            }
            Err(e) => {
                psa_sdk::warn!("cannot read the cached Autotask zone: {e:?}");
                None
            }
        };
        let (zone, fresh) = match cached {
            Some(zone) => (zone, false),
            None => {
                let zone = Self::discover(&settings)?;
                cache_zone(&settings, &zone);
                (zone, true)
            }
        };
        Ok(Client {
            settings,
            zone,
            fresh,
        })
    }

    /// Discovers the zone afresh (unless the operator set `zone-url`), caches it, and returns the
    /// client (the connection test uses this).
    pub fn connect_fresh() -> Result<Self> {
        let settings = Settings::load()?;
        let zone = match &settings.zone_url {
            Some(url) => Zone::from_url(url),
            None => {
                let zone = Self::discover(&settings)?;
                cache_zone(&settings, &zone);
                zone
            }
        };
        Ok(Client {
            settings,
            zone,
            fresh: true,
        })
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The zone in use.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// `GET {discovery}/atservicesrest/v1.0/zoneInformation?user={username}` (no auth headers).
    pub fn discover(settings: &Settings) -> Result<Zone> {
        let url = settings.discovery_url();
        psa_sdk::debug!("discovering the Autotask zone: GET {url}");
        let response = Request::get(&url)
            .header("accept", "application/json")
            .send()
            .map_err(|e| match e {
                Error::Unavailable(m) => Error::unavailable(format!(
                    "cannot reach Autotask's zone discovery at {} (check `discovery-url`): {m}",
                    settings.discovery_origin
                )),
                other => other,
            })?;
        if response.status == 200 {
            return parse_zone_info(&response.body);
        }
        let auth = AuthContext {
            username: &settings.username,
            zone_override: false,
        };
        let messages = parse_errors(&response.body);
        if let Some(e) = messages.iter().find_map(|m| credential_error(m, &auth)) {
            return Err(e.redact(&settings.secrets()));
        }
        let error = match response.status {
            404 => Error::invalid(
                "discovery-url",
                format!(
                    "{} has no Autotask zone discovery (404): check `discovery-url` (default {DEFAULT_DISCOVERY_URL})",
                    settings.discovery_origin
                ),
            ),
            _ => map_error(&response, &ErrorContext::default(), &auth),
        };
        Err(error.redact(&settings.secrets()))
    }

    /// `{zone}/V1.0/{path}`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/V1.0/{}", self.zone.url, path.trim_start_matches('/'))
    }

    fn auth(&self) -> AuthContext<'_> {
        AuthContext {
            username: &self.settings.username,
            zone_override: self.settings.zone_url.is_some(),
        }
    }

    /// Sends one request and returns the 2xx response; any other status becomes the contract's
    /// error. A 401 or 404 from a zone out of the kv cache re-discovers the zone once and, when it
    /// moved, repeats the request on the new zone.
    pub fn send(
        &mut self,
        method: Method,
        target: Target<'_>,
        body: Option<&[u8]>,
        ctx: &ErrorContext<'_>,
    ) -> Result<Response> {
        loop {
            let url = match target {
                Target::Path(path) => self.api_url(path),
                Target::Url(url) => {
                    if origin_of_url(url) != origin_of_url(&self.zone.url) {
                        return Err(Error::malformed(format!(
                            "Autotask announced a next page on another origin ({}) than the zone's ({}); not following it with the credentials",
                            origin_of_url(url).unwrap_or_else(|| "not a URL".into()),
                            self.zone.host()
                        )));
                    }
                    url.to_string()
                }
            };
            // Autotask counts its thread limit per entity, whatever the path; and a query is a
            // read even though it is a POST, so the host may resend it after a 429 or 503.
            let path = match target {
                Target::Path(path) => path,
                Target::Url(url) => url.split_once("/V1.0/").map_or(url, |(_, rest)| rest),
            };
            let mut request = Request::new(method, &url)
                .endpoint(endpoint_of(path))
                .retryable(method == Method::Get || is_query(path))
                .header(
                    "ApiIntegrationCode",
                    self.settings.integration_code.as_str(),
                )
                .header("UserName", self.settings.username.as_str())
                .header("Secret", self.settings.secret.as_str())
                .header("accept", "application/json");
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_vec());
            }
            psa_sdk::debug!("{method:?} {url}");
            let response = request.send()?;
            if response.is_success() {
                return Ok(response);
            }
            if matches!(response.status, 401 | 404)
                && !self.fresh
                && matches!(target, Target::Path(_))
            {
                self.fresh = true;
                let zone = Self::discover(&self.settings)?;
                cache_zone(&self.settings, &zone);
                if zone.url != self.zone.url {
                    psa_sdk::info!(
                        "the Autotask zone moved from {} to {}; retrying",
                        self.zone.url,
                        zone.url
                    );
                    self.zone = zone;
                    continue;
                }
            }
            let error = map_error(&response, ctx, &self.auth());
            psa_sdk::debug!("{method:?} {url}: {} {}", response.status, error.kind());
            return Err(error.redact(&self.settings.secrets()));
        }
    }

    /// `GET {Entity}/{id}` -> the `item`; `item: null` is not-found (`subject` names the record).
    pub fn get_item(&mut self, entity: &str, id: u64, subject: &str) -> Result<Value> {
        let ctx = ErrorContext {
            subject: Some(subject),
            ..ErrorContext::default()
        };
        let response = self.send(
            Method::Get,
            Target::Path(&format!("{entity}/{id}")),
            None,
            &ctx,
        )?;
        // `{"item": {...}}`, `{"item": null}` when there is no such record.
        let answer = Envelope::parse(&response.body).map_err(|_| {
            Error::malformed(format!(
                "an Autotask answer for {subject} that is not an object"
            ))
        })?;
        match answer.get("item").map(|_| answer.record("item")) {
            Some(Ok(Some(item))) => Ok(serde_json::from_str(item.get())?),
            Some(Ok(None)) => Err(Error::not_found(format!(
                "{subject} was not found in Autotask"
            ))),
            None | Some(Err(_)) => Err(Error::malformed(format!(
                "an Autotask answer for {subject} without `item`"
            ))),
        }
    }

    /// One page of `POST {Entity}/query`: the records and `nextPageUrl`.
    pub fn query_page(
        &mut self,
        entity: &str,
        query: &Query,
    ) -> Result<(Vec<Value>, Option<String>)> {
        let ctx = ErrorContext {
            fields: query.fields(),
            ..ErrorContext::default()
        };
        let path = format!("{entity}/query");
        let v: Value = self
            .send(Method::Post, Target::Path(&path), Some(&query.body()), &ctx)?
            .json()?;
        parse_page(v)
    }

    /// One page of `POST {Entity}/query` as dataset records (each its own text, as Autotask sent
    /// it) and `nextPageUrl`.
    pub fn query_records(
        &mut self,
        entity: &str,
        query: &Query,
        fields: &psa_sdk::dataset::Fields<'_>,
    ) -> Result<(Vec<psa_sdk::types::DatasetRecord>, Option<String>)> {
        let ctx = ErrorContext {
            fields: query.fields(),
            ..ErrorContext::default()
        };
        let path = format!("{entity}/query");
        let response = self.send(Method::Post, Target::Path(&path), Some(&query.body()), &ctx)?;
        let body = Envelope::parse(&response.body)?;
        let records = psa_sdk::dataset::records_of(&body.records("items")?, fields)?;
        let next = match body.get("pageDetails") {
            Some(details) => serde_json::from_str::<Value>(details.get())?
                .get("nextPageUrl")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            None => None,
        };
        Ok((records, next))
    }

    /// Every record of a query: the first page, then `nextPageUrl` (re-POSTing the same body)
    /// until it is null, followed with the SDK's [`NextUrl`] pager (the URL must stay on the
    /// zone's origin, and the same URL twice ends the loop).
    pub fn query_all(&mut self, entity: &str, filter: Vec<Filter>) -> Result<Vec<Value>> {
        let query = Query::new(MAX_RECORDS, filter);
        let (mut all, next) = self.query_page(entity, &query)?;
        let ctx = ErrorContext {
            fields: query.fields(),
            ..ErrorContext::default()
        };
        let body = query.body();
        let mut pager = NextUrl::first(entity, MAX_RECORDS, None).next(next, &self.zone.url)?;
        for _ in 1..MAX_PAGES {
            let Some(page) = pager.take() else {
                return Ok(all);
            };
            let url = page.url.clone().unwrap_or_default();
            let v: Value = self
                .send(Method::Post, Target::Url(&url), Some(&body), &ctx)?
                .json()?;
            let (items, next) = parse_page(v)?;
            all.extend(items);
            pager = page.next(next, &self.zone.url)?;
        }
        if pager.is_none() {
            return Ok(all);
        }
        Err(Error::remote(
            0,
            Some("too-many-pages".into()),
            format!("{entity}/query kept announcing a next page after {MAX_PAGES} pages"),
        ))
    }

    /// `POST {Entity}/query/count` -> `queryCount`.
    pub fn count(&mut self, entity: &str, filter: Vec<Filter>) -> Result<u64> {
        let query = Query::new(MAX_RECORDS, filter);
        let ctx = ErrorContext {
            fields: query.fields(),
            ..ErrorContext::default()
        };
        let v: Value = self
            .send(
                Method::Post,
                Target::Path(&format!("{entity}/query/count")),
                Some(&query.body()),
                &ctx,
            )?
            .json()?;
        v.get("queryCount")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::malformed("an Autotask count answer without `queryCount`"))
    }

    /// Sends a create (`POST`) or update (`PATCH`) body and returns the `itemId` of the answer.
    pub fn write(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
        subject: Option<&str>,
        not_found_field: Option<&str>,
    ) -> Result<u64> {
        let ctx = ErrorContext {
            write: true,
            fields: body
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default(),
            subject,
            not_found_field,
        };
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid("body", format!("cannot encode JSON: {e}")))?;
        let v: Value = self
            .send(method, Target::Path(path), Some(&bytes), &ctx)?
            .json()?;
        v.get("itemId")
            .and_then(|i| {
                i.as_u64()
                    .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or_else(|| {
                Error::malformed(format!("an Autotask answer to {path} without `itemId`"))
            })
    }

    /// `GET ThresholdInformation`: the hourly request budget and its use.
    pub fn threshold(&mut self) -> Result<Value> {
        self.send(
            Method::Get,
            Target::Path("ThresholdInformation"),
            None,
            &ErrorContext::default(),
        )?
        .json()
    }
}

/// The entity a request path (relative to `V1.0/`) counts against: `Tickets/42/Notes` ->
/// `Tickets`.
fn endpoint_of(path: &str) -> &str {
    path.split(['/', '?']).next().unwrap_or(path)
}

/// Whether a path is a query (`{Entity}/query`, `/query/next`, `/query/count`): a read.
fn is_query(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .nth(1)
        .is_some_and(|s| s.eq_ignore_ascii_case("query"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn requests_count_per_entity_and_queries_are_reads() {
        assert_eq!(endpoint_of("Tickets/42/Notes"), "Tickets");
        assert_eq!(endpoint_of("Companies/query?search=x"), "Companies");
        assert!(is_query("Companies/query"));
        assert!(is_query("Companies/query/next?paging=abc"));
        assert!(is_query("Tickets/query/count"));
        assert!(!is_query("Tickets"));
        assert!(!is_query("Tickets/42/Notes"));
    }
    use super::*;
    use serde_json::json;

    /// [`super::map_error`] of an answer with `status`, `Retry-After` (whole seconds) and `body`.
    fn map_error(
        status: u16,
        retry_after_ms: Option<u64>,
        body: &[u8],
        ctx: &ErrorContext<'_>,
        auth: &AuthContext<'_>,
    ) -> Error {
        let headers = retry_after_ms
            .map(|ms| vec![("retry-after".to_string(), (ms / 1000).to_string())])
            .unwrap_or_default();
        let response = Response {
            status,
            headers,
            body: body.to_vec(),
        };
        super::map_error(&response, ctx, auth)
    }

    fn settings() -> Settings {
        Settings::from_values(
            "abc123@acme.example",
            "s3cretVALUE",
            "TRACKING4INTEGRATION",
            None,
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

    fn auth() -> AuthContext<'static> {
        AuthContext {
            username: "abc123@acme.example",
            zone_override: false,
        }
    }

    #[test]
    fn settings_validation() {
        let s = settings();
        assert_eq!(s.discovery_origin, "https://webservices.autotask.net");
        assert_eq!(s.zone_url, None);
        assert_eq!(
            s.zone_key(),
            "zone/https://webservices.autotask.net/abc123@acme.example"
        );
        assert_eq!(
            s.discovery_url(),
            "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation?user=abc123%40acme.example"
        );
        let sim = Settings::from_values(
            " ABC123@acme.example ",
            "x y z",
            "code",
            Some("https://webservices2.autotask.net/ATServicesRest/V1.0/"),
            Some("http://127.0.0.1:41234/"),
        )
        .unwrap();
        assert_eq!(sim.discovery_origin, "http://127.0.0.1:41234");
        assert_eq!(
            sim.zone_url.as_deref(),
            Some("https://webservices2.autotask.net/ATServicesRest")
        );
        assert_eq!(
            sim.zone_key(),
            "zone/http://127.0.0.1:41234/abc123@acme.example"
        );
        let cases = [
            (("", "s", "c", None, None), "username"),
            (("a b@x", "s", "c", None, None), "username"),
            (("u", " ", "c", None, None), "secret"),
            (("u", "s\r\nx: y", "c", None, None), "secret"),
            (("u", "s", "", None, None), "integration-code"),
            (("u", "s", "c d", None, None), "integration-code"),
            (("u", "s", "c", Some("ftp://x"), None), "zone-url"),
            (("u", "s", "c", Some("https://x/a/../b"), None), "zone-url"),
            (
                ("u", "s", "c", None, Some("https://user@x")),
                "discovery-url",
            ),
            (("u", "s", "c", None, Some("x:99999")), "discovery-url"),
        ];
        for ((u, s, c, z, d), field) in cases {
            let e = Settings::from_values(u, s, c, z, d).unwrap_err();
            assert_eq!(field_of(&e), field, "{u} {s} {c} {z:?} {d:?}");
        }
    }

    #[test]
    fn zone_urls() {
        for (given, expected) in [
            (
                "https://webservices2.autotask.net/atservicesrest/",
                "https://webservices2.autotask.net/atservicesrest",
            ),
            (
                "webservices14.autotask.net",
                "https://webservices14.autotask.net/atservicesrest",
            ),
            (
                "https://webservices5.autotask.net/ATServicesRest/v1.0",
                "https://webservices5.autotask.net/ATServicesRest",
            ),
            (
                "http://127.0.0.1:41234/ww2/atservicesrest/",
                "http://127.0.0.1:41234/ww2/atservicesrest",
            ),
            (
                "HTTPS://WebServices2.autotask.net/atservicesrest?x=1",
                "https://webservices2.autotask.net/atservicesrest",
            ),
        ] {
            assert_eq!(normalize_zone_url("zone-url", given).unwrap(), expected);
        }
        assert_eq!(
            origin_of_url("https://WebServices2.autotask.net:443/atservicesrest/V1.0/x?y=1"),
            Some("https://webservices2.autotask.net".into())
        );
        assert_eq!(
            origin_of_url("http://127.0.0.1:41234/atservicesrest"),
            Some("http://127.0.0.1:41234".into())
        );
        assert_eq!(origin_of_url("/V1.0/Tickets/query/next"), None);
        assert_eq!(origin_of_url("https://u@evil.example/"), None);
        assert_eq!(
            Zone::from_url("http://127.0.0.1:41234/atservicesrest").host(),
            "127.0.0.1:41234"
        );
    }

    #[test]
    fn zone_info() {
        let zone = parse_zone_info(
            br#"{"zoneName":"America East 2","url":"https://webservices2.autotask.net/atservicesrest/","webUrl":"https://ww2.autotask.net/","ci":1234567}"#,
        )
        .unwrap();
        assert_eq!(
            zone,
            Zone {
                url: "https://webservices2.autotask.net/atservicesrest".into(),
                zone_name: Some("America East 2".into()),
                web_url: Some("https://ww2.autotask.net/".into()),
                ci: Some(1234567),
            }
        );
        // Round trip through the kv cache's JSON.
        let cached: Zone = serde_json::from_str(&serde_json::to_string(&zone).unwrap()).unwrap();
        assert_eq!(cached, zone);
        for bad in [
            &b"<html>login</html>"[..],
            br#"{"url":""}"#,
            br#"{"url":"webservices2.autotask.net"}"#,
            br#"{"url":"ftp://x/"}"#,
            br#"{"errors":[]}"#,
        ] {
            assert_eq!(
                field_of(&parse_zone_info(bad).unwrap_err()),
                "discovery-url"
            );
        }
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_errors(br#"{"errors":["a","b"]}"#),
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(
            parse_errors(br#"{"errors":[{"message":"x"}]}"#),
            vec!["x".to_string()]
        );
        assert_eq!(
            parse_errors(br#"{"Message":"An error has occurred."}"#),
            vec!["An error has occurred.".to_string()]
        );
        assert!(parse_errors(b"").is_empty());
        assert!(parse_errors(b"{}").is_empty());
        assert_eq!(parse_errors(&[b'x'; 1000])[0].chars().count(), 301);
    }

    #[test]
    fn names_fields_after_the_word_field() {
        for (message, field) in [
            ("Missing required field: status.", Some("status")),
            ("Required field(s) 'title' missing", Some("title")),
            (
                "The following required fields: priority, status",
                Some("priority"),
            ),
            ("The field is required.", None),
            ("Unable to read field information", None),
            ("Nothing about it", None),
        ] {
            assert_eq!(field_after_keyword(message).as_deref(), field, "{message}");
        }
        // A required field the request did not send is still named.
        match map_error(
            500,
            None,
            br#"{"errors":["Missing required field: status."]}"#,
            &write_ctx(),
            &auth(),
        ) {
            Error::InvalidInput(p) => assert_eq!(p.field, "status"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_fields_as_whole_words() {
        let fields: Vec<String> = [
            "id",
            "companyID",
            "assignedResourceID",
            "assignedResourceRoleID",
            "title",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            named_field("Missing required field: title.", &fields).as_deref(),
            Some("title")
        );
        assert_eq!(
            named_field(
                "When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID.",
                &fields
            )
            .as_deref(),
            Some("assignedResourceRoleID")
        );
        assert_eq!(
            named_field("Invalid value 99 for field companyID.", &fields).as_deref(),
            Some("companyID")
        );
        assert_eq!(
            named_field("Invalid value 7 for field id.", &fields).as_deref(),
            Some("id")
        );
        assert_eq!(named_field("Subtitle is odd", &fields), None);
    }

    fn write_ctx() -> ErrorContext<'static> {
        ErrorContext {
            write: true,
            fields: vec!["companyID".into(), "title".into(), "queueID".into()],
            subject: None,
            not_found_field: None,
        }
    }

    #[test]
    fn maps_credential_errors_whatever_the_status() {
        let cases: [(u16, &str, &str); 5] = [
            (
                500,
                r#"{"errors":["IntegrationCode is invalid."]}"#,
                "integration-code",
            ),
            (
                500,
                r#"{"errors":["The user name 'abc123@acme.example' could not be found."]}"#,
                "username",
            ),
            (
                500,
                r#"{"errors":["Zone information could not be determined"]}"#,
                "username",
            ),
            (401, r#"{"errors":["Unauthorized"]}"#, "secret,username"),
            (401, "", "secret,username"),
        ];
        for (status, body, setting) in cases {
            match map_error(status, None, body.as_bytes(), &write_ctx(), &auth()) {
                Error::Unauthorized(p) => {
                    assert_eq!(p.settings.join(","), setting, "{body}");
                    if setting != "integration-code" {
                        assert!(p.message.contains("abc123@acme.example"), "{}", p.message);
                    }
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let overridden = AuthContext {
            zone_override: true,
            ..auth()
        };
        match map_error(401, None, b"", &ErrorContext::default(), &overridden) {
            Error::Unauthorized(p) => assert!(p.message.contains("zone-url"), "{}", p.message),
            other => panic!("{other:?}"),
        }
        let body = br#"{"errors":["The user 'abc123@acme.example' is not an API user: the security level must be API User (system)."]}"#;
        match map_error(500, None, body, &write_ctx(), &auth()) {
            Error::Forbidden(p) => assert!(p.permission.contains("API User (system)")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maps_validation_and_server_errors() {
        let body = br#"{"errors":["Invalid value 99 for field queueID."]}"#;
        match map_error(500, None, body, &write_ctx(), &auth()) {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "queueID");
                assert_eq!(p.message, "Invalid value 99 for field queueID.");
            }
            other => panic!("{other:?}"),
        }
        // A write's unexplained 500 is a validation failure of the request.
        let body = br#"{"errors":["Configuration items of type Managed Server cannot be updated through the API."]}"#;
        assert_eq!(
            field_of(&map_error(500, None, body, &write_ctx(), &auth())),
            "request"
        );
        // A read's unexplained 500 is an outage; a named filter field is invalid input.
        let read = ErrorContext {
            fields: vec!["lastTrackedModifiedDateTime".into(), "id".into()],
            ..ErrorContext::default()
        };
        let body = br#"{"errors":["An unexpected error has occurred. Please try again later."]}"#;
        assert_eq!(
            map_error(500, None, body, &read, &auth()).kind(),
            "unavailable"
        );
        let body =
            br#"{"errors":["Unable to find lastTrackedModifiedDateTime in the Companies entity."]}"#;
        assert_eq!(
            field_of(&map_error(500, None, body, &read, &auth())),
            "lastTrackedModifiedDateTime"
        );
        for status in [502, 503, 504] {
            assert_eq!(
                map_error(
                    status,
                    None,
                    b"<html>bad gateway</html>",
                    &write_ctx(),
                    &auth()
                )
                .kind(),
                "unavailable"
            );
        }
        // Not-found through a named field.
        let note = ErrorContext {
            write: true,
            fields: vec!["ticketID".into(), "title".into()],
            subject: Some("ticket 9999"),
            not_found_field: Some("ticketID"),
        };
        let body = br#"{"errors":["Invalid value 9999 for field ticketID."]}"#;
        assert_eq!(
            map_error(500, None, body, &note, &auth()),
            Error::not_found("ticket 9999 was not found in Autotask")
        );
        assert_eq!(
            map_error(404, None, b"", &note, &auth()),
            Error::not_found("ticket 9999 was not found in Autotask")
        );
        match map_error(
            404,
            None,
            br#"{"errors":["Not Found"]}"#,
            &ErrorContext::default(),
            &auth(),
        ) {
            Error::NotFound(m) => assert_eq!(m, "Autotask answered 404: Not Found"),
            other => panic!("{other:?}"),
        }
        match map_error(405, None, b"", &ErrorContext::default(), &auth()) {
            Error::Remote(p) => assert_eq!(p.status, 405),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maps_rate_limits() {
        let body = br#"{"errors":["Thread threshold exceeded: the API tracking identifier already has 3 concurrent requests on the Tickets endpoint. Wait for one to finish and retry."]}"#;
        for status in [429, 500] {
            match map_error(status, None, body, &write_ctx(), &auth()) {
                Error::RateLimited(h) => {
                    assert_eq!(h.retry_after_ms, None);
                    assert!(h.message.contains("3 concurrent"), "{}", h.message);
                }
                other => panic!("{other:?}"),
            }
        }
        let body = br#"{"errors":["Request threshold exceeded: 10000 requests in the last 60 minutes for this database. Try again later."]}"#;
        match map_error(429, Some(120_000), body, &ErrorContext::default(), &auth()) {
            Error::RateLimited(h) => assert_eq!(h.retry_after_ms, Some(120_000)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redaction() {
        let s = settings();
        assert_eq!(
            message::redact(
                "secret s3cretVALUE and code TRACKING4INTEGRATION",
                &s.secrets()
            ),
            "secret [redacted] and code [redacted]"
        );
        let e = Error::invalid("title", "echo s3cretVALUE").redact(&s.secrets());
        assert_eq!(e, Error::invalid("title", "echo [redacted]"));
    }

    #[test]
    fn pages() {
        let (items, next) = parse_page(json!({
            "items": [{"id": 1}, {"id": 2}],
            "pageDetails": {"count": 2, "requestCount": 2, "prevPageUrl": null, "nextPageUrl": "https://webservices2.autotask.net/atservicesrest/V1.0/Companies/query/next?paging=x"}
        }))
        .unwrap();
        assert_eq!(items.len(), 2);
        assert!(next.unwrap().ends_with("paging=x"));
        let (items, next) = parse_page(json!({
            "items": [],
            "pageDetails": {"count": 0, "requestCount": 500, "prevPageUrl": null, "nextPageUrl": null}
        }))
        .unwrap();
        assert!(items.is_empty());
        assert_eq!(next, None);
        assert!(parse_page(json!({"item": {}})).is_err());
        assert!(parse_page(json!([])).is_err());
    }
}
