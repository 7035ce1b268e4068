//! An Autotask client: zone URL, API user headers, queries.

use std::ops::Deref;

use psa_sim::{SimConfig, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use super::Api;

/// Starts an Autotask simulator with `companies` companies from `seed`.
pub async fn start(companies: usize, seed: u64) -> Simulator {
    Simulator::start(SimConfig::autotask(companies, seed))
        .await
        .expect("simulator started")
}

/// A client with one set of API user headers; paths are under `{zone}V1.0/`.
#[derive(Clone, Debug)]
pub struct At {
    pub api: Api,
    /// The zone URL, with its trailing slash.
    pub zone: String,
    pub username: String,
}

impl Deref for At {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl At {
    /// The demo API user of `sim`, in its current zone.
    pub fn new(sim: &Simulator) -> At {
        let c = &sim.config().autotask;
        At::build(
            sim.state().autotask_zone_url(),
            &c.username,
            &c.integration_code,
            &c.secret,
        )
    }

    fn build(zone: String, username: &str, integration_code: &str, secret: &str) -> At {
        At {
            api: Api {
                http: reqwest::Client::new(),
                base: format!("{zone}V1.0/"),
                headers: vec![
                    ("ApiIntegrationCode".into(), integration_code.into()),
                    ("UserName".into(), username.into()),
                    ("Secret".into(), secret.into()),
                ],
            },
            zone,
            username: username.into(),
        }
    }

    /// The same zone with other headers.
    pub fn with(&self, username: &str, integration_code: &str, secret: &str) -> At {
        At::build(self.zone.clone(), username, integration_code, secret)
    }

    /// `POST {entity}/query` with `{"MaxRecords": max, "Filter": filter}`.
    pub async fn query(&self, entity: &str, max: u64, filter: Value) -> super::Resp {
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
