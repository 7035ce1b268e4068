//! A Kaseya BMS client: form login, Bearer token, the result envelope.

use std::ops::Deref;

use psa_sim::{SimConfig, Simulator};
use serde_json::Value;

use super::{Api, Resp, enc, read};

/// Starts a Kaseya BMS simulator with `companies` companies from `seed`.
pub async fn start(companies: usize, seed: u64) -> Simulator {
    Simulator::start(SimConfig::kaseya_bms(companies, seed))
        .await
        .expect("simulator started")
}

/// Posts the login form.
pub async fn login_form(origin: &str, fields: &[(&str, &str)]) -> Resp {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    read(
        reqwest::Client::new()
            .post(format!("{origin}/api/v2/security/authenticate"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// A signed-in client; paths are under `{origin}/api/`.
#[derive(Clone, Debug)]
pub struct Bms {
    pub api: Api,
    pub token: String,
}

impl Deref for Bms {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Bms {
    /// A client sending `token` to `origin`.
    pub fn new(origin: &str, token: &str) -> Bms {
        Bms {
            api: Api {
                http: reqwest::Client::new(),
                base: format!("{origin}/api/"),
                headers: vec![("Authorization".into(), format!("Bearer {token}"))],
            },
            token: token.into(),
        }
    }

    /// The same server with another token.
    pub fn with_token(&self, token: &str) -> Bms {
        Bms::new(self.base.trim_end_matches("/api/"), token)
    }

    /// Signs in as `user` with `password` in the demo tenant.
    pub async fn login_as(sim: &Simulator, user: &str, password: &str) -> Bms {
        let tenant = &sim.config().kaseya_bms.tenant;
        let r = login_form(
            &sim.origin(),
            &[
                ("grantType", "password"),
                ("userName", user),
                ("password", password),
                ("tenant", tenant),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Bms::new(
            &sim.origin(),
            r.json()["result"]["accessToken"].as_str().unwrap(),
        )
    }

    /// Signs in as the read-write demo user.
    pub async fn login(sim: &Simulator) -> Bms {
        let c = sim.config().kaseya_bms.clone();
        Bms::login_as(sim, &c.username, &c.password).await
    }

    /// The `result` of a successful GET.
    pub async fn result(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()["result"].clone()
    }

    /// Every record of a list by keyset (`idGreaterThan`), with `extra` query parameters;
    /// returns the records and the page count.
    pub async fn keyset(&self, path: &str, extra: &str) -> (Vec<Value>, usize) {
        let mut after: Option<u64> = None;
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            let mut q = format!("{path}?orderBy=id%20asc&pageSize=100&pageNumber=1{extra}");
            if let Some(a) = after {
                q.push_str(&format!("&idGreaterThan={a}"));
            }
            let r = self.get(&q).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            pages += 1;
            let items = v["result"].as_array().unwrap().clone();
            let total = v["totalRecords"].as_u64().unwrap();
            let more = total > items.len() as u64;
            after = items.last().and_then(|i| i["id"].as_u64());
            all.extend(items);
            if !more || after.is_none() {
                return (all, pages);
            }
        }
    }
}

/// `(code, message)` of an error envelope.
pub fn error(r: &Resp) -> (String, String) {
    let v = r.json();
    assert_eq!(v["success"], false, "{}", r.body);
    assert_eq!(v["result"], Value::Null);
    (
        v["error"]["code"].as_str().unwrap_or_default().to_string(),
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// `(field, message)` of each validation error.
pub fn validation(r: &Resp) -> Vec<(String, String)> {
    r.json()["error"]["validationErrors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_string(),
                        e["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
