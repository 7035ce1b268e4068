//! Helpers shared by the integration tests: small ConnectWise, Autotask and Kaseya BMS clients
//! over reqwest.

#![allow(dead_code)]

pub mod autotask;
pub mod bms;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use psa_sim::{SimConfig, Simulator};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// An answer, read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The ids of a list body.
    pub fn ids(&self) -> Vec<u64> {
        self.json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| r["id"].as_u64().expect("an id"))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The URL of the `Link` relation `rel`.
    pub fn link(&self, rel: &str) -> Option<String> {
        let header = self.header("link")?;
        let mut rest = header;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>')? + start;
            let url = &rest[start + 1..end];
            let after = &rest[end + 1..];
            let next = after.find('<').unwrap_or(after.len());
            if after[..next].contains(&format!("rel=\"{rel}\"")) {
                return Some(url.to_string());
            }
            rest = &after[next..];
        }
        None
    }

    /// The messages of an Autotask error body (`{"errors": [...]}`).
    pub fn errors(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("not an Autotask error: {}", self.body))
            .iter()
            .map(|e| e.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// `{code, message}` of an error body.
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        (
            v["code"].as_str().unwrap_or_default().to_string(),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// A client with one set of credentials.
#[derive(Clone, Debug)]
pub struct Client {
    pub http: reqwest::Client,
    pub origin: String,
    pub codebase: String,
    pub authorization: String,
    pub client_id: String,
}

pub fn basic(company: &str, public: &str, private: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{company}+{public}:{private}"))
    )
}

impl Client {
    /// The read-write demo credentials of `sim`.
    pub fn new(sim: &Simulator) -> Client {
        let c = &sim.config().credentials;
        Client {
            http: reqwest::Client::new(),
            origin: sim.origin(),
            codebase: sim.state().codebase(),
            authorization: basic(&c.company_id, &c.public_key, &c.private_key),
            client_id: c.client_id.clone(),
        }
    }

    /// The read-only key pair of `sim`.
    pub fn readonly(sim: &Simulator) -> Client {
        let c = &sim.config().credentials;
        Client {
            authorization: basic(
                &c.company_id,
                &c.readonly_public_key,
                &c.readonly_private_key,
            ),
            ..Client::new(sim)
        }
    }

    /// `origin/codebase apis/3.0/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}apis/3.0/{path}", self.origin, self.codebase)
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, url)
            .header("Authorization", &self.authorization)
            .header("clientId", &self.client_id)
            .header(
                "Accept",
                "application/vnd.connectwise.com+json; version=2026.4",
            );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        read(req).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, &self.url(path), &[], None).await
    }

    pub async fn get_url(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::GET, url, headers, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, &self.url(path), &[], Some(body.to_string()))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, &self.url(path), &[], Some(body.to_string()))
            .await
    }
}

/// Sends a request and reads the whole answer.
pub async fn read(req: reqwest::RequestBuilder) -> Resp {
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body read");
    Resp {
        status,
        headers,
        body,
    }
}

/// JSON requests to one base URL with fixed headers: the Autotask and BMS clients build on it.
#[derive(Clone, Debug)]
pub struct Api {
    pub http: reqwest::Client,
    /// Prefix of every path, such as `http://127.0.0.1:PORT/api/`.
    pub base: String,
    pub headers: Vec<(String, String)>,
}

impl Api {
    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Resp {
        let mut req = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        read(req).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, &self.url(path), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, &self.url(path), Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, &self.url(path), Some(body)).await
    }
}

/// A live company with a contact and an agreement: (company, contact, agreement).
pub fn company_with_contact_and_agreement(sim: &Simulator) -> (u64, u64, u64) {
    sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .find_map(|c| {
                let contact = d.contacts.values().find(|p| p.company_id == c.id)?;
                let agreement = d.agreements.values().find(|a| a.company_id == c.id)?;
                Some((c.id, contact.id, agreement.id))
            })
            .expect("a company with a contact and an agreement")
    })
}

/// The first record of a kind that the simulator's dialect serves.
pub fn first_served(sim: &Simulator, entity: psa_sim::Entity) -> u64 {
    let state = sim.state();
    state
        .ids(entity)
        .into_iter()
        .find(|id| state.get(entity, *id).is_some())
        .expect("a served record")
}

/// Starts a ConnectWise simulator with `companies` companies from `seed`.
pub async fn start(companies: usize, seed: u64) -> Simulator {
    Simulator::start(SimConfig::connectwise(companies, seed))
        .await
        .expect("simulator started")
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
