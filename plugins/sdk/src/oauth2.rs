//! Access tokens: OAuth2 client credentials, and the kv cache of any token with its expiry.
//!
//! Every call runs in a fresh sandbox, so a token lives in the connection's kv between calls.
//! [`TokenCache`] keeps it under a key made of a *fingerprint* of the credentials (a SHA-256
//! hash: changing the secret, the client or the scope starts a new cache entry, and the secret
//! itself never appears in a key), with the time it expires and the time it is renewed (a
//! little before). [`ClientCredentials`] gets tokens with the OAuth2 client-credentials grant
//! (RFC 6749 §4.4), sends requests with them, and renews the token once when the PSA refuses a
//! cached one (401). The token is redacted from every error and never logged.
//!
//! ```
//! use psa_sdk::fake::FakeHost;
//! use psa_sdk::http::{Method, Request};
//! use psa_sdk::oauth2::ClientCredentials;
//! use psa_sdk::status::ErrorMap;
//!
//! let host = FakeHost::new();
//! host.set_clock(1_000);
//! host.on(Method::Post, "https://acme.example/auth/token")
//!     .reply(200, r#"{"access_token": "t0k3n-1", "token_type": "Bearer", "expires_in": 3600}"#);
//! host.on(Method::Get, "https://acme.example/api/clients").reply(200, "[]");
//!
//! let oauth = ClientCredentials::new("Acme PSA", "https://acme.example/auth/token", "my-client", "s3cret")
//!     .scope("all")
//!     .tenant("tenant", "acme");
//! let errors = ErrorMap::new("Acme PSA", "client-secret");
//! oauth.send(Request::get("https://acme.example/api/clients"), &errors)?;
//! // The next call finds the token in kv: no second token request.
//! oauth.send(Request::get("https://acme.example/api/clients"), &errors)?;
//!
//! let sent = host.requests();
//! assert_eq!(sent.len(), 3);
//! assert_eq!(
//!     sent[0].body_text(),
//!     "grant_type=client_credentials&client_id=my-client&client_secret=s3cret&scope=all&tenant=acme"
//! );
//! assert_eq!(sent[2].header("authorization"), Some("Bearer t0k3n-1"));
//! # Ok::<(), psa_sdk::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::status::{ErrorMap, ErrorText};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The token lifetime assumed when the PSA does not say (`expires_in` absent).
pub const DEFAULT_EXPIRES_IN: u64 = 3600;

/// An access token and when to stop using it. Stored in kv as JSON; its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// The token sent as `authorization: Bearer ...`.
    pub access_token: String,
    /// When the PSA stops accepting it (Unix seconds).
    pub expires_at: u64,
    /// When a new one is fetched instead (Unix seconds): a little before `expires_at`, so a
    /// request does not race the expiry.
    pub refresh_at: u64,
}

impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &crate::message::REDACTED)
            .field("expires_at", &self.expires_at)
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

impl Token {
    /// A token issued at `now` for `expires_in` seconds, renewed [`refresh_margin`] before.
    pub fn issued(access_token: String, now: u64, expires_in: u64) -> Self {
        Token {
            access_token,
            expires_at: now.saturating_add(expires_in),
            refresh_at: now.saturating_add(expires_in - refresh_margin(expires_in)),
        }
    }

    /// Whether the token may still be used at `now` (before its renewal time, and text that can
    /// go into a header).
    pub fn usable(&self, now: u64) -> bool {
        now < self.refresh_at && valid_token_text(&self.access_token)
    }
}

/// How long before the expiry a token is renewed: two minutes, or a quarter of a short
/// lifetime.
pub fn refresh_margin(expires_in: u64) -> u64 {
    (expires_in / 4).min(120)
}

/// Whether a token can go into a header: printable ASCII without blanks, not empty.
pub fn valid_token_text(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

/// A fingerprint of credentials: the first 32 hex digits of the SHA-256 of the parts (each
/// length-prefixed, so `("ab", "c")` and `("a", "bc")` differ). Safe to put in a kv key or a log
/// line: it does not reveal the parts.
///
/// ```
/// use psa_sdk::oauth2::fingerprint;
/// let a = fingerprint(&["https://acme.example/token", "client", "s3cret"]);
/// assert_eq!(a.len(), 32);
/// assert_ne!(a, fingerprint(&["https://acme.example/token", "client", "other"]));
/// assert!(!a.contains("s3cret"));
/// ```
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A token kept in the connection's kv under `{prefix}/{fingerprint of the credentials}`.
///
/// The cache only saves requests: a kv failure (a full quota, storage) is logged and otherwise
/// ignored, and a value that does not read as a [`Token`] counts as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    key: String,
}

impl TokenCache {
    /// The cache entry of the token obtained with `credentials` (every value that decides which
    /// token the PSA issues: its URL, the client or user, the secret, the scope, the tenant).
    pub fn new(prefix: &str, credentials: &[&str]) -> Self {
        TokenCache {
            key: format!("{prefix}/{}", fingerprint(credentials)),
        }
    }

    /// The kv key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The cached token, if it is still usable at `now`.
    pub fn load(&self, now: u64) -> Option<Token> {
        match crate::kv::get_json::<Token>(&self.key) {
            Ok(token) => token.filter(|t| t.usable(now)),
            Err(e) => {
                crate::warn!("cannot read the cached access token: {}", e.kind());
                None
            }
        }
    }

    /// Caches `token`.
    pub fn store(&self, token: &Token) {
        if let Err(e) = crate::kv::set_json(&self.key, token) {
            crate::warn!("cannot cache the access token: {}", e.kind());
        }
    }

    /// Removes the cached token (the PSA refused it).
    pub fn forget(&self) {
        if let Err(e) = crate::kv::delete(&self.key) {
            crate::warn!("cannot remove the cached access token: {}", e.kind());
        }
    }
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (most PSAs).
    Body,
    /// `authorization: Basic base64(client_id:client_secret)` (RFC 6749's preferred way).
    Basic,
}

/// The OAuth2 client-credentials grant against one token endpoint. Its `Debug` hides the
/// secret.
#[derive(Clone)]
pub struct ClientCredentials<'a> {
    psa: &'a str,
    token_url: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    scope: Option<&'a str>,
    tenant: Option<(&'a str, &'a str)>,
    auth: ClientAuth,
    id_setting: &'a str,
    secret_setting: &'a str,
    scope_setting: &'a str,
}

impl core::fmt::Debug for ClientCredentials<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::message::REDACTED)
            .field("scope", &self.scope)
            .field("tenant", &self.tenant)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<'a> ClientCredentials<'a> {
    /// The grant for `psa` (its name in messages) at `token_url`, with the client's id and
    /// secret (the settings `client-id` and `client-secret` unless said otherwise).
    pub fn new(
        psa: &'a str,
        token_url: &'a str,
        client_id: &'a str,
        client_secret: &'a str,
    ) -> Self {
        ClientCredentials {
            psa,
            token_url,
            client_id,
            client_secret,
            scope: None,
            tenant: None,
            auth: ClientAuth::Body,
            id_setting: "client-id",
            secret_setting: "client-secret",
            scope_setting: "scope",
        }
    }

    /// Asks for `scope` (blank: none).
    pub fn scope(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope).filter(|s| !s.trim().is_empty());
        self
    }

    /// Sends the form parameter `name=value` too (HaloPSA's `tenant`, a `resource`, ...); a
    /// blank value sends nothing.
    pub fn tenant(mut self, name: &'a str, value: &'a str) -> Self {
        self.tenant = Some((name, value)).filter(|(_, v)| !v.trim().is_empty());
        self
    }

    /// How the client authenticates to the token endpoint (default: in the body).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The settings errors name: the client id's, the secret's and the scope's.
    pub fn settings(mut self, client_id: &'a str, client_secret: &'a str, scope: &'a str) -> Self {
        self.id_setting = client_id;
        self.secret_setting = client_secret;
        self.scope_setting = scope;
        self
    }

    /// The kv cache of this grant's token.
    pub fn cache(&self) -> TokenCache {
        let (tenant_name, tenant) = self.tenant.unwrap_or_default();
        TokenCache::new(
            "oauth2",
            &[
                self.token_url,
                self.client_id,
                self.client_secret,
                self.scope.unwrap_or_default(),
                tenant_name,
                tenant,
            ],
        )
    }

    /// A usable token: the cached one, else a new one (cached). `true` with a new token.
    pub fn token(&self) -> Result<(Token, bool)> {
        let now = crate::time::now_unix();
        match self.cache().load(now) {
            Some(token) => Ok((token, false)),
            None => Ok((self.fetch()?, true)),
        }
    }

    /// Requests a new token from the token endpoint and caches it, whatever the cache holds.
    pub fn fetch(&self) -> Result<Token> {
        crate::debug!(
            "requesting an access token from {} for client {}",
            self.token_url,
            self.client_id
        );
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if self.auth == ClientAuth::Body {
            form.push(("client_id", self.client_id));
            form.push(("client_secret", self.client_secret));
        }
        if let Some(scope) = self.scope {
            form.push(("scope", scope));
        }
        if let Some(tenant) = self.tenant {
            form.push(tenant);
        }
        let mut request = Request::post(self.token_url)
            .header("accept", "application/json")
            .form(&form)
            .retryable(true);
        if self.auth == ClientAuth::Basic {
            request = request.basic_auth(self.client_id, self.client_secret);
        }
        let response = request
            .send()
            .map_err(|e| e.redact(&[self.client_secret]))?;
        let errors = ErrorMap::new(self.psa, self.secret_setting)
            .secret(self.client_secret)
            .hook(|r, t| self.token_error(r, t));
        let response = errors.check(response)?;
        let token = parse_token(&response.body, crate::time::now_unix())
            .map_err(|e| e.redact(&[self.client_secret]))?;
        self.cache().store(&token);
        Ok(token)
    }

    /// What a token endpoint's refusal means (RFC 6749 §5.2 codes).
    fn token_error(&self, response: &Response, text: &ErrorText) -> Option<Error> {
        let message = format!(
            "{} refused the client credentials at {}: {}",
            self.psa, self.token_url, text.message
        );
        match text.code.as_deref() {
            // The endpoint does not say whether the id or the secret is wrong: name both.
            Some("invalid_client" | "unauthorized_client") => Some(Error::unauthorized_any(
                [self.id_setting, self.secret_setting],
                format!(
                    "{message} (check `{}` and `{}`)",
                    self.id_setting, self.secret_setting
                ),
            )),
            Some("invalid_scope") => Some(Error::invalid(self.scope_setting, message)),
            Some("invalid_request" | "unsupported_grant_type" | "invalid_grant") => {
                Some(Error::remote(response.status, text.code.clone(), message))
            }
            _ => None,
        }
    }

    /// Sends `request` with the token (the cached one, else a new one) and returns the 2xx
    /// answer; any other answer is the error `errors` maps, with the token redacted. A 401 to
    /// a cached token fetches a new one and sends the request once more.
    pub fn send(&self, request: Request, errors: &ErrorMap<'_>) -> Result<Response> {
        let (mut token, mut fresh) = self.token()?;
        loop {
            let response = request
                .clone()
                .bearer_auth(&token.access_token)
                .send()
                .map_err(|e| e.redact(&[token.access_token.as_str()]))?;
            if response.status == 401 && !fresh {
                crate::info!(
                    "{} refused the cached access token (401); requesting a new one",
                    self.psa
                );
                self.cache().forget();
                token = self.fetch()?;
                fresh = true;
                continue;
            }
            return errors
                .check(response)
                .map_err(|e| e.redact(&[token.access_token.as_str(), self.client_secret]));
        }
    }
}

/// Reads a token endpoint's 2xx answer `{"access_token", "token_type", "expires_in"}` received
/// at `now`. `expires_in` may be a number or a numeric string; absent, it is
/// [`DEFAULT_EXPIRES_IN`]. A token type other than `Bearer` (any case) is refused.
pub fn parse_token(body: &[u8], now: u64) -> Result<Token> {
    #[derive(Deserialize)]
    struct Answer {
        access_token: Option<String>,
        token_type: Option<String>,
        expires_in: Option<serde_json::Value>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|_| {
        Error::malformed(format!(
            "the token endpoint answered without a JSON token: {}",
            crate::message::excerpt(&String::from_utf8_lossy(body), 100)
        ))
    })?;
    let token = answer
        .access_token
        .map(|t| t.trim().to_string())
        .filter(|t| valid_token_text(t))
        .ok_or_else(|| {
            Error::malformed("the token endpoint answered without a usable `access_token`")
        })?;
    if let Some(kind) = answer
        .token_type
        .filter(|k| !k.eq_ignore_ascii_case("bearer"))
    {
        return Err(Error::malformed(format!(
            "the token endpoint issued a `{kind}` token; only Bearer tokens are supported"
        )));
    }
    let expires_in = match answer.expires_in {
        None | Some(serde_json::Value::Null) => DEFAULT_EXPIRES_IN,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                Error::malformed(format!(
                    "the token endpoint answered an invalid `expires_in`: {v}"
                ))
            })?,
    };
    Ok(Token::issued(token, now, expires_in))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeHost;
    use crate::http::Method;

    const TOKEN_URL: &str = "https://acme.example/auth/token";
    const SECRET: &str = "cl1ent-SECRET";

    fn grant() -> ClientCredentials<'static> {
        ClientCredentials::new("Acme", TOKEN_URL, "client-1", SECRET)
    }

    fn errors() -> ErrorMap<'static> {
        ErrorMap::new("Acme", "client-secret")
    }

    fn token_answer(token: &str, expires_in: u64) -> String {
        format!(r#"{{"access_token":"{token}","token_type":"bearer","expires_in":{expires_in}}}"#)
    }

    fn tokens_requested(host: &FakeHost) -> usize {
        host.requests()
            .iter()
            .filter(|r| r.url == TOKEN_URL)
            .count()
    }

    #[test]
    fn token_lifetimes() {
        let t = Token::issued("abc".into(), 1_000, 3600);
        assert_eq!((t.expires_at, t.refresh_at), (4_600, 4_480));
        assert!(t.usable(4_479));
        assert!(!t.usable(4_480));
        assert_eq!(Token::issued("abc".into(), 0, 60).refresh_at, 45);
        assert_eq!(refresh_margin(1), 0);
        assert!(!Token::issued("a b".into(), 0, 3600).usable(0));
        assert!(!format!("{t:?}").contains("abc"));
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(
            text,
            r#"{"accessToken":"abc","expiresAt":4600,"refreshAt":4480}"#
        );
    }

    #[test]
    fn parses_token_answers() {
        let t = parse_token(br#"{"access_token":"x1","expires_in":"60"}"#, 10).unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_at), ("x1", 70));
        let t = parse_token(br#"{"access_token":"x1","token_type":"Bearer"}"#, 0).unwrap();
        assert_eq!(t.expires_at, DEFAULT_EXPIRES_IN);
        for bad in [
            &b"<html>"[..],
            br#"{"token_type":"bearer"}"#,
            br#"{"access_token":""}"#,
            br#"{"access_token":"a\r\nb"}"#,
            br#"{"access_token":"x","token_type":"mac"}"#,
            br#"{"access_token":"x","expires_in":0}"#,
            br#"{"access_token":"x","expires_in":"soon"}"#,
        ] {
            match parse_token(bad, 0) {
                Err(Error::Remote(p)) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
    }

    #[test]
    fn fingerprints_and_cache_keys() {
        let a = grant().cache();
        assert!(a.key().starts_with("oauth2/") && a.key().len() == 7 + 32);
        assert!(!a.key().contains(SECRET));
        let other_secret = ClientCredentials::new("Acme", TOKEN_URL, "client-1", "other").cache();
        let other_scope = grant().scope("read").cache();
        let other_tenant = grant().tenant("tenant", "beta").cache();
        assert_ne!(a, other_secret);
        assert_ne!(a, other_scope);
        assert_ne!(a, other_tenant);
        assert_eq!(a, grant().scope(" ").tenant("tenant", "").cache());
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }

    #[test]
    fn caches_refreshes_before_expiry_and_once_after_a_401() {
        let host = FakeHost::new();
        host.set_clock(10_000);
        host.on(Method::Post, TOKEN_URL)
            .times(1)
            .reply(200, token_answer("tok-1", 600));
        host.on(Method::Post, TOKEN_URL)
            .times(1)
            .reply(200, token_answer("tok-2", 600));
        host.on(Method::Post, TOKEN_URL)
            .reply(200, token_answer("tok-3", 600));
        host.on(Method::Get, "https://acme.example/api/x")
            .reply(200, "ok");
        let get = || grant().send(Request::get("https://acme.example/api/x"), &errors());

        get().unwrap();
        get().unwrap();
        assert_eq!(
            tokens_requested(&host),
            1,
            "the second call uses the cached token"
        );
        let key = grant().cache().key().to_string();
        let cached: Token = serde_json::from_slice(&host.kv(&key).unwrap()).unwrap();
        assert_eq!(
            (
                cached.access_token.as_str(),
                cached.expires_at,
                cached.refresh_at
            ),
            ("tok-1", 10_600, 10_480)
        );

        // Within the renewal margin: a new token before the old one expires.
        host.set_clock(10_480);
        get().unwrap();
        assert_eq!(tokens_requested(&host), 2);
        assert_eq!(
            host.requests().last().unwrap().header("authorization"),
            Some("Bearer tok-2")
        );

        // The PSA refuses the cached token: one new token, the request sent again.
        host.on(Method::Get, "https://acme.example/api/y")
            .times(1)
            .reply(401, "expired");
        host.on(Method::Get, "https://acme.example/api/y")
            .reply(200, "ok");
        host.clear_requests();
        grant()
            .send(Request::get("https://acme.example/api/y"), &errors())
            .unwrap();
        let urls: Vec<(String, Option<String>)> = host
            .requests()
            .iter()
            .map(|r| (r.url.clone(), r.header("authorization").map(str::to_string)))
            .collect();
        assert_eq!(
            urls,
            [
                (
                    "https://acme.example/api/y".to_string(),
                    Some("Bearer tok-2".to_string())
                ),
                (TOKEN_URL.to_string(), None),
                (
                    "https://acme.example/api/y".to_string(),
                    Some("Bearer tok-3".to_string())
                ),
            ]
        );
        assert!(host.logged("refused the cached access token"));
        assert!(
            !host.logs().iter().any(|(_, m)| m.contains("tok-")),
            "{:?}",
            host.logs()
        );
    }

    #[test]
    fn a_fresh_token_refused_is_unauthorized_without_the_token() {
        let host = FakeHost::new();
        host.on(Method::Post, TOKEN_URL)
            .reply(200, token_answer("tok-SECRET-1", 3600));
        host.on(Method::Get, "https://acme.example/api/x")
            .reply(401, r#"{"message": "token tok-SECRET-1 lacks access"}"#);
        match grant().send(Request::get("https://acme.example/api/x"), &errors()) {
            Err(Error::Unauthorized(p)) => {
                assert_eq!(p.settings, ["client-secret"]);
                assert!(!p.message.contains("tok-SECRET-1"), "{}", p.message);
                assert!(p.message.contains("[redacted]"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
        // Only one token request: a fresh token refused is not retried.
        assert_eq!(tokens_requested(&host), 1);
    }

    #[test]
    fn token_endpoint_refusals_name_the_setting() {
        let cases = [
            (
                401,
                r#"{"error":"invalid_client","error_description":"bad secret cl1ent-SECRET"}"#,
                "unauthorized",
                &["client-id", "client-secret"][..],
            ),
            (
                400,
                r#"{"error":"unauthorized_client"}"#,
                "unauthorized",
                &["client-id", "client-secret"],
            ),
            (
                400,
                r#"{"error":"invalid_scope","error_description":"no such scope"}"#,
                "invalid-input",
                &["scope"],
            ),
            // A bare 401 without an OAuth code: the secret is the likelier culprit.
            (401, "", "unauthorized", &["client-secret"]),
        ];
        for (status, body, kind, settings) in cases {
            let host = FakeHost::new();
            host.on(Method::Post, TOKEN_URL).reply(status, body);
            let e = grant().fetch().unwrap_err();
            assert_eq!(e.kind(), kind, "{body}");
            match &e {
                Error::Unauthorized(p) => {
                    assert_eq!(p.settings, settings, "{body}");
                    assert!(!p.message.contains(SECRET), "{}", p.message);
                }
                Error::InvalidInput(p) => assert_eq!([p.field.as_str()], settings),
                other => panic!("{other:?}"),
            }
            assert!(host.kv_entries().is_empty(), "nothing cached");
        }
        let host = FakeHost::new();
        host.on(Method::Post, TOKEN_URL)
            .header("retry-after", "5")
            .reply(429, "");
        assert_eq!(grant().fetch().unwrap_err().kind(), "rate-limited");
    }

    #[test]
    fn basic_client_auth_and_a_full_kv() {
        let host = FakeHost::new();
        host.fail_kv(Some(
            crate::bindings::psa::connector::kv::KvError::QuotaExceeded(1),
        ));
        host.on(Method::Post, TOKEN_URL)
            .reply(200, token_answer("tok", 3600));
        let basic = grant().client_auth(ClientAuth::Basic);
        assert!(!format!("{basic:?}").contains(SECRET));
        let (token, fresh) = basic.token().unwrap();
        assert_eq!((token.access_token.as_str(), fresh), ("tok", true));
        let sent = &host.requests()[0];
        assert_eq!(sent.body_text(), "grant_type=client_credentials");
        // base64("client-1:cl1ent-SECRET")
        assert_eq!(
            sent.header("authorization"),
            Some("Basic Y2xpZW50LTE6Y2wxZW50LVNFQ1JFVA==")
        );
        assert_eq!(
            sent.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(host.logged("cannot cache the access token"));
    }
}
