//! The V2 password login and the Bearer tokens it issues.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use rand::Rng;
use serde_json::{Value, json};

use super::error::{BmsError, FieldError};
use crate::config::KaseyaBmsConfig;
use crate::dialect::http::header_text;

/// The tenant id the login answer reports.
const TENANT_ID: u64 = 1001;

/// Who a token was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Session {
    /// The user name as the tenant spells it.
    pub(crate) user: String,
    /// The user may only read.
    pub(crate) readonly: bool,
}

#[derive(Clone, Debug)]
struct Token {
    session: Session,
    expires: Instant,
}

/// Issued tokens and the lifetime of new ones.
#[derive(Debug)]
pub(crate) struct Tokens {
    issued: Mutex<HashMap<String, Token>>,
    lifetime_secs: AtomicU64,
}

impl Tokens {
    pub(crate) fn new(lifetime_secs: u64) -> Tokens {
        Tokens {
            issued: Mutex::new(HashMap::new()),
            lifetime_secs: AtomicU64::new(lifetime_secs.max(1)),
        }
    }

    fn issued(&self) -> std::sync::MutexGuard<'_, HashMap<String, Token>> {
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lifetime of tokens issued from now on (`expiresIn`).
    pub(crate) fn set_lifetime(&self, secs: u64) {
        self.lifetime_secs.store(secs.max(1), Ordering::SeqCst);
    }

    pub(crate) fn lifetime(&self) -> u64 {
        self.lifetime_secs.load(Ordering::SeqCst)
    }

    /// Every token issued so far expires now.
    pub(crate) fn expire_all(&self) {
        let now = Instant::now();
        for token in self.issued().values_mut() {
            token.expires = now;
        }
    }

    /// Every token issued so far is forgotten (they get `InvalidToken`).
    pub(crate) fn revoke_all(&self) {
        self.issued().clear();
    }

    fn issue(&self, session: Session) -> (String, u64) {
        let token = random_token();
        let lifetime = self.lifetime();
        self.issued().insert(
            token.clone(),
            Token {
                session,
                expires: Instant::now() + Duration::from_secs(lifetime),
            },
        );
        (token, lifetime)
    }

    /// Who the request's Bearer token belongs to.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<Session, BmsError> {
        let value = header_text(headers, header::AUTHORIZATION.as_str()).trim();
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| BmsError::token("Unauthorized", "A Bearer access token is required."))?;
        let issued = self.issued();
        let found = issued
            .get(token)
            .ok_or_else(|| BmsError::token("InvalidToken", "The access token is not valid."))?;
        if Instant::now() >= found.expires {
            return Err(BmsError::token(
                "TokenExpired",
                "The access token has expired.",
            ));
        }
        Ok(found.session.clone())
    }
}

/// 32 random hex characters.
fn random_token() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// The login form's fields, in the order problems are reported.
const FIELDS: [&str; 4] = ["grantType", "userName", "password", "tenant"];

/// The tenant name a login names (for its rate limit), if the form can be read.
pub(crate) fn submitted_tenant(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k.eq_ignore_ascii_case("tenant"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `POST v2/security/authenticate` (form-encoded `grantType`, `userName`, `password`, `tenant`).
pub(crate) fn login(
    config: &KaseyaBmsConfig,
    tokens: &Tokens,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, BmsError> {
    let content_type = header_text(headers, header::CONTENT_TYPE.as_str());
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(BmsError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The login must be posted as application/x-www-form-urlencoded.",
        ));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let missing: Vec<FieldError> = FIELDS
        .iter()
        .filter(|f| field(f).is_none())
        .map(|f| FieldError::new(f, format!("{f} is required.")))
        .collect();
    if !missing.is_empty() {
        return Err(BmsError::validation(
            "The login request is invalid.",
            missing,
        ));
    }
    let grant = field("grantType").unwrap_or_default();
    if grant != "password" {
        return Err(BmsError::new(
            StatusCode::BAD_REQUEST,
            "UnsupportedGrantType",
            format!("Grant type '{grant}' is not supported: use 'password'."),
        ));
    }
    let tenant = field("tenant").unwrap_or_default().trim();
    if !tenant.eq_ignore_ascii_case(&config.tenant) {
        return Err(BmsError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidTenant",
            format!("Tenant '{tenant}' was not found."),
        ));
    }
    let user = field("userName").unwrap_or_default().trim();
    let password = field("password").unwrap_or_default();
    let refused =
        |code, message: String| Err(BmsError::new(StatusCode::UNAUTHORIZED, code, message));
    let (name, expected, readonly, user_id) = if user.eq_ignore_ascii_case(&config.username) {
        (&config.username, &config.password, false, 12)
    } else if user.eq_ignore_ascii_case(&config.readonly_username) {
        (
            &config.readonly_username,
            &config.readonly_password,
            true,
            13,
        )
    } else if user.eq_ignore_ascii_case(&config.disabled_username) {
        return refused("UserDisabled", format!("User '{user}' is disabled."));
    } else {
        return refused(
            "InvalidUserName",
            format!(
                "User name '{user}' was not found in tenant '{}'.",
                config.tenant
            ),
        );
    };
    if password != expected {
        return refused(
            "InvalidPassword",
            format!("The password is incorrect for user '{user}'."),
        );
    }
    let (access_token, expires_in) = tokens.issue(Session {
        user: name.clone(),
        readonly,
    });
    Ok(json!({
        "accessToken": access_token,
        // There is no refresh grant in this dialect: the refresh token is never accepted.
        "refreshToken": random_token(),
        "tokenType": "Bearer",
        "expiresIn": expires_in,
        "userId": user_id,
        "userName": name,
        "fullName": if readonly { "psahost read-only" } else { "psahost API" },
        "tenantId": TENANT_ID,
        "tenantName": config.tenant,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        h
    }

    fn try_login(body: &str) -> Result<Value, (u16, String, String)> {
        let c = KaseyaBmsConfig::default();
        login(&c, &Tokens::new(60), &form_headers(), body.as_bytes())
            .map_err(|e| (e.status.as_u16(), e.code.to_string(), e.message))
    }

    #[test]
    fn distinct_login_errors() {
        let ok = try_login(
            "grantType=password&userName=API.PSAHOST&password=demo-password&tenant=psahost+demo",
        )
        .unwrap();
        assert_eq!(ok["userName"], "api.psahost");
        assert_eq!(ok["accessToken"].as_str().unwrap().len(), 32);
        assert_eq!(ok["expiresIn"], 60);
        let err = |body: &str| try_login(body).unwrap_err();
        assert_eq!(
            err("grantType=password&userName=x&password=y&tenant=Nope"),
            (
                401,
                "InvalidTenant".into(),
                "Tenant 'Nope' was not found.".into()
            )
        );
        assert_eq!(
            err("grantType=password&userName=bob&password=y&tenant=Psahost Demo"),
            (
                401,
                "InvalidUserName".into(),
                "User name 'bob' was not found in tenant 'Psahost Demo'.".into()
            )
        );
        assert_eq!(
            err("grantType=password&userName=disabled.user&password=y&tenant=Psahost Demo"),
            (
                401,
                "UserDisabled".into(),
                "User 'disabled.user' is disabled.".into()
            )
        );
        assert_eq!(
            err(
                "grantType=password&userName=api.psahost&password=DEMO-PASSWORD&tenant=Psahost Demo"
            ),
            (
                401,
                "InvalidPassword".into(),
                "The password is incorrect for user 'api.psahost'.".into()
            )
        );
        assert_eq!(
            err("grantType=refresh_token&userName=a&password=b&tenant=c"),
            (
                400,
                "UnsupportedGrantType".into(),
                "Grant type 'refresh_token' is not supported: use 'password'.".into()
            )
        );
        let e = login(
            &KaseyaBmsConfig::default(),
            &Tokens::new(60),
            &form_headers(),
            b"grantType=password&password=%20",
        )
        .unwrap_err();
        assert_eq!(
            e.validation
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>(),
            ["userName", "password", "tenant"]
        );
        let e = login(
            &KaseyaBmsConfig::default(),
            &Tokens::new(60),
            &HeaderMap::new(),
            b"{}",
        )
        .unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (415, "UnsupportedMediaType"));
        assert_eq!(submitted_tenant(b"tenant=%20Psahost+Demo"), "psahost demo");
    }

    #[test]
    fn tokens_expire_and_are_revoked() {
        let t = Tokens::new(3600);
        let session = Session {
            user: "api.psahost".into(),
            readonly: false,
        };
        let (token, _) = t.issue(session.clone());
        let mut h = HeaderMap::new();
        let check = |h: &HeaderMap| t.check(h).map_err(|e| e.code);
        assert_eq!(check(&h), Err("Unauthorized"));
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {token}").parse().unwrap(),
        );
        assert_eq!(check(&h), Err("Unauthorized"));
        h.insert(
            header::AUTHORIZATION,
            format!("bearer {token}").parse().unwrap(),
        );
        assert_eq!(check(&h), Ok(session));
        t.expire_all();
        assert_eq!(check(&h), Err("TokenExpired"));
        t.revoke_all();
        assert_eq!(check(&h), Err("InvalidToken"));
        t.set_lifetime(0);
        assert_eq!(t.lifetime(), 1);
    }
}
