//! An Autotask client: zone URL, API user headers, queries.

use psa_sim::{SimConfig, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Resp, read};

/// Starts an Autotask simulator with `companies` companies from `seed`.
pub async fn start(companies: usize, seed: u64) -> Simulator {
    Simulator::start(SimConfig::autotask(companies, seed))
        .await
        .expect("simulator started")
}

/// A client with one set of API user headers.
#[derive(Clone, Debug)]
pub struct At {
    pub http: reqwest::Client,
    /// The zone URL, with its trailing slash.
    pub zone: String,
    pub username: String,
    pub integration_code: String,
    pub secret: String,
}

impl At {
    /// The demo API user of `sim`, in its current zone.
    pub fn new(sim: &Simulator) -> At {
        let c = &sim.config().autotask;
        At {
            http: reqwest::Client::new(),
            zone: sim.state().autotask_zone_url(),
            username: c.username.clone(),
            integration_code: c.integration_code.clone(),
            secret: c.secret.clone(),
        }
    }

    /// The same client with other headers.
    pub fn with(&self, username: &str, integration_code: &str, secret: &str) -> At {
        At {
            username: username.into(),
            integration_code: integration_code.into(),
            secret: secret.into(),
            ..self.clone()
        }
    }

    /// `{zone}V1.0/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}V1.0/{path}", self.zone)
    }

    pub async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Resp {
        let mut req = self
            .http
            .request(method, url)
            .header("ApiIntegrationCode", &self.integration_code)
            .header("UserName", &self.username)
            .header("Secret", &self.secret)
            .header("Accept", "application/json");
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

    /// `POST {entity}/query` with `{"MaxRecords": max, "Filter": filter}`.
    pub async fn query(&self, entity: &str, max: u64, filter: Value) -> Resp {
        self.post(
            &format!("{entity}/query"),
            &json!({"MaxRecords": max, "IncludeFields": [], "Filter": filter}),
        )
        .await
    }

    /// Every record of a query, following `nextPageUrl` with the same body; returns the records
    /// and the page count.
    pub async fn query_all(&self, entity: &str, max: u64, filter: Value) -> (Vec<Value>, usize) {
        let body = json!({"MaxRecords": max, "IncludeFields": [], "Filter": filter});
        let mut url = self.url(&format!("{entity}/query"));
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let r = self.send(Method::POST, &url, Some(&body)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            pages += 1;
            let page = v["items"].as_array().expect("items").clone();
            assert_eq!(v["pageDetails"]["count"], page.len());
            items.extend(page);
            match v["pageDetails"]["nextPageUrl"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (items, pages),
            }
        }
    }

    /// The `item` of `GET {entity}/{id}`.
    pub async fn item(&self, entity: &str, id: u64) -> Value {
        let r = self.get(&format!("{entity}/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["item"].clone()
    }
}

/// The ids of records.
pub fn ids(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .map(|r| r["id"].as_u64().expect("an id"))
        .collect()
}
