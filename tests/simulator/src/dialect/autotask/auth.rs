//! The API user headers (`UserName`, `ApiIntegrationCode`, `Secret`) and the per-entity thread
//! limit.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderMap;

use super::error::AtError;
use crate::config::AutotaskConfig;
use crate::dialect::http::header_text;

/// Checks the credentials of one request, in the dialect's order: user name (500), API-only
/// user (500), integration code (500), secret (401).
pub(crate) fn check(config: &AutotaskConfig, headers: &HeaderMap) -> Result<(), AtError> {
    let user = header_text(headers, "username").trim();
    let known = |name: &str| !user.is_empty() && user.eq_ignore_ascii_case(name);
    if !known(&config.username) && !known(&config.non_api_username) {
        return Err(AtError::invalid(format!(
            "The user name '{user}' could not be found."
        )));
    }
    if known(&config.non_api_username) {
        return Err(AtError::invalid(format!(
            "The user '{user}' is not an API user: the security level must be API User (system)."
        )));
    }
    if header_text(headers, "apiintegrationcode").trim() != config.integration_code {
        return Err(AtError::invalid("IntegrationCode is invalid."));
    }
    if header_text(headers, "secret") != config.secret {
        return Err(AtError::unauthorized());
    }
    Ok(())
}

/// Requests in flight per user, tracking identifier and entity.
#[derive(Debug, Default)]
pub(crate) struct Threads {
    in_flight: Mutex<HashMap<String, usize>>,
}

/// A request's place in the thread limit, given back when dropped.
pub(crate) struct Slot<'a> {
    threads: &'a Threads,
    key: String,
}

impl Threads {
    /// Takes one of the `limit` places of `entity` (0: unlimited), or answers the thread
    /// threshold error.
    pub(crate) fn enter<'a>(
        &'a self,
        config: &AutotaskConfig,
        entity: &str,
        limit: usize,
    ) -> Result<Slot<'a>, AtError> {
        let key = format!(
            "{}\n{}\n{}",
            config.username.to_ascii_lowercase(),
            config.integration_code,
            entity.to_ascii_lowercase()
        );
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = in_flight.entry(key.clone()).or_default();
        if limit > 0 && *n >= limit {
            return Err(AtError::thread_limit(limit, entity));
        }
        *n += 1;
        Ok(Slot { threads: self, key })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .threads
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = in_flight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(user: &str, code: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("UserName", user.parse().unwrap());
        h.insert("ApiIntegrationCode", code.parse().unwrap());
        h.insert("Secret", secret.parse().unwrap());
        h
    }

    #[test]
    fn names_each_problem_in_order() {
        let c = AutotaskConfig::default();
        let good = headers(&c.username.to_uppercase(), &c.integration_code, &c.secret);
        assert_eq!(check(&c, &good), Ok(()));
        let e = check(&c, &headers("who@x.example", "bad", "bad")).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.errors),
            (
                500,
                vec!["The user name 'who@x.example' could not be found.".to_string()]
            )
        );
        let e = check(&c, &HeaderMap::new()).unwrap_err();
        assert_eq!(e.errors, vec!["The user name '' could not be found."]);
        let e = check(
            &c,
            &headers(&c.non_api_username, &c.integration_code, &c.secret),
        )
        .unwrap_err();
        assert!(e.errors[0].contains("is not an API user"), "{e:?}");
        let e = check(&c, &headers(&c.username, "wrong", "bad")).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.errors[0].as_str()),
            (500, "IntegrationCode is invalid.")
        );
        let e = check(&c, &headers(&c.username, &c.integration_code, "wrong")).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.errors[0].as_str()),
            (401, "Unauthorized")
        );
    }

    #[test]
    fn threads_are_counted_per_entity_and_given_back() {
        let c = AutotaskConfig::default();
        let t = Threads::default();
        let a = t.enter(&c, "Tickets", 2).unwrap();
        let _b = t.enter(&c, "Tickets", 2).unwrap();
        let e = t.enter(&c, "Tickets", 2).err().unwrap();
        assert_eq!(e.status, 429);
        assert!(e.errors[0].contains("2 concurrent requests on the Tickets endpoint"));
        let _other = t.enter(&c, "Companies", 2).unwrap();
        drop(a);
        assert!(t.enter(&c, "Tickets", 2).is_ok());
        let _unlimited: Vec<_> = (0..10)
            .map(|_| t.enter(&c, "Contacts", 0).unwrap())
            .collect();
    }
}
