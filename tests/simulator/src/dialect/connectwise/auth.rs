//! ConnectWise API authentication: Basic `companyId+publicKey:privateKey` plus a `clientId` header.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::CwError;
use crate::config::ConnectWiseCredentials;

/// What an authenticated caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    ReadWrite,
    ReadOnly,
}

pub(crate) const CLIENT_ID_MESSAGE: &str =
    "The clientId header is missing or is not a registered client id";
pub(crate) const KEY_PAIR_MESSAGE: &str = "Authentication failed: the API key pair is not valid";
pub(crate) const AUTHORIZATION_MESSAGE: &str =
    "Authentication failed: the Authorization header is missing or is not Basic credentials";

/// Checks the credentials of one request, in the order ConnectWise reports problems: client id,
/// Authorization header, company, key pair.
pub(crate) fn authenticate(
    creds: &ConnectWiseCredentials,
    headers: &HeaderMap,
) -> Result<Access, CwError> {
    let client_id = headers
        .get("clientid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if client_id.trim().is_empty() || client_id.trim() != creds.client_id {
        return Err(CwError::unauthorized(CLIENT_ID_MESSAGE));
    }
    let decoded = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| CwError::unauthorized(AUTHORIZATION_MESSAGE))?;
    let (user, private_key) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    let (company, public_key) = user.split_once('+').unwrap_or((user, ""));
    if !company.eq_ignore_ascii_case(&creds.company_id) {
        return Err(CwError::unauthorized(format!(
            "Company '{company}' is not valid"
        )));
    }
    if public_key == creds.public_key && private_key == creds.private_key {
        Ok(Access::ReadWrite)
    } else if public_key == creds.readonly_public_key && private_key == creds.readonly_private_key {
        Ok(Access::ReadOnly)
    } else {
        Err(CwError::unauthorized(KEY_PAIR_MESSAGE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(client: Option<&str>, user_pass: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(c) = client {
            h.insert("clientId", c.parse().unwrap());
        }
        if let Some(up) = user_pass {
            h.insert(
                "authorization",
                format!("Basic {}", STANDARD.encode(up)).parse().unwrap(),
            );
        }
        h
    }

    fn check(client: Option<&str>, user_pass: Option<&str>) -> Result<Access, String> {
        authenticate(
            &ConnectWiseCredentials::default(),
            &headers(client, user_pass),
        )
        .map_err(|e| e.message)
    }

    #[test]
    fn accepts_both_key_pairs_and_ignores_company_case() {
        let c = ConnectWiseCredentials::default();
        let rw = format!(
            "{}+{}:{}",
            c.company_id.to_uppercase(),
            c.public_key,
            c.private_key
        );
        assert_eq!(check(Some(&c.client_id), Some(&rw)), Ok(Access::ReadWrite));
        let ro = format!(
            "{}+{}:{}",
            c.company_id, c.readonly_public_key, c.readonly_private_key
        );
        assert_eq!(check(Some(&c.client_id), Some(&ro)), Ok(Access::ReadOnly));
    }

    #[test]
    fn names_each_problem() {
        let c = ConnectWiseCredentials::default();
        let good = format!("{}+{}:{}", c.company_id, c.public_key, c.private_key);
        assert_eq!(check(None, Some(&good)), Err(CLIENT_ID_MESSAGE.into()));
        assert_eq!(
            check(Some("other"), Some(&good)),
            Err(CLIENT_ID_MESSAGE.into())
        );
        assert_eq!(
            check(Some(&c.client_id), None),
            Err(AUTHORIZATION_MESSAGE.into())
        );
        assert_eq!(
            check(
                Some(&c.client_id),
                Some(&format!("acme+{}:{}", c.public_key, c.private_key))
            ),
            Err("Company 'acme' is not valid".into())
        );
        assert_eq!(
            check(
                Some(&c.client_id),
                Some(&format!("{}+{}:wrong", c.company_id, c.public_key))
            ),
            Err(KEY_PAIR_MESSAGE.into())
        );
        assert_eq!(
            check(
                Some(&c.client_id),
                Some(&format!("{}+wrong:{}", c.company_id, c.private_key))
            ),
            Err(KEY_PAIR_MESSAGE.into())
        );
        // A read-only public key with the read-write private key is not a pair.
        assert_eq!(
            check(
                Some(&c.client_id),
                Some(&format!(
                    "{}+{}:{}",
                    c.company_id, c.readonly_public_key, c.private_key
                ))
            ),
            Err(KEY_PAIR_MESSAGE.into())
        );
        let mut h = headers(Some(&c.client_id), None);
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(
            authenticate(&c, &h).map_err(|e| e.message),
            Err(AUTHORIZATION_MESSAGE.to_string())
        );
        h.insert("authorization", "Basic !!!".parse().unwrap());
        assert_eq!(
            authenticate(&c, &h).map_err(|e| e.message),
            Err(AUTHORIZATION_MESSAGE.to_string())
        );
    }
}
