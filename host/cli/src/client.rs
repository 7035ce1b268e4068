//! Where the data commands (`records`, `mrr`, `eligible`, `sync --api`) read from: the record
//! store of the configuration, or a running daemon's API (`--api URL`, `--token`).

use anyhow::{Context, anyhow, bail};
use clap::Args;
use psahost_config::Config;
use psahost_store::RecordStore;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// `--api` and `--token`.
#[derive(Debug, Args)]
pub struct Target {
    /// Ask a running `psahost serve` at this URL (for example http://127.0.0.1:8780) instead of
    /// opening the record store of --config (which the daemon holds while it runs).
    #[arg(long, value_name = "URL", env = "PSAHOST_API")]
    pub api: Option<String>,
    /// The API's bearer token (the [api] token of the daemon's configuration).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PSAHOST_API_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// A data source.
pub enum Source {
    /// The store of the configuration, opened by this process.
    Store {
        /// The configuration.
        config: Box<Config>,
        /// The store.
        store: Arc<dyn RecordStore>,
    },
    /// A daemon's API.
    Api(ApiClient),
}

impl Target {
    /// Opens the source: the API when `--api` is given, else the store of `config`.
    pub async fn open(&self, config: Option<&Path>) -> anyhow::Result<Source> {
        if let Some(url) = &self.api {
            let token = self.token.clone().ok_or_else(|| {
                anyhow!("--api needs the API token: pass --token or set PSAHOST_API_TOKEN")
            })?;
            return Ok(Source::Api(ApiClient::new(url, &token)?));
        }
        let path = config.ok_or_else(|| {
            anyhow!("this command needs the configuration (`--config psahost.toml` or PSAHOST_CONFIG), or a running daemon (`--api URL`)")
        })?;
        let config = crate::load_config(path)?;
        let store = match config.store {
            psahost_config::StoreConfig::Sled => config.open_store().await.context(
                "when `psahost serve` runs it holds the store: ask it with `--api URL --token TOKEN`",
            )?,
            psahost_config::StoreConfig::Postgres { .. } => config.open_store().await?,
        };
        Ok(Source::Store {
            config: Box::new(config),
            store,
        })
    }
}

/// A client of the daemon's API.
pub struct ApiClient {
    base: url::Url,
    token: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client of the API at `base` with `token`.
    pub fn new(base: &str, token: &str) -> anyhow::Result<ApiClient> {
        let base = url::Url::parse(base).with_context(|| {
            format!("`{base}` is not a URL; write for example http://127.0.0.1:8780")
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("`{base}` is not an http(s) URL");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(ApiClient {
            base,
            token: token.to_string(),
            http,
        })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<url::Url> {
        let mut url = self.base.join(path)?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// `GET path?query` as JSON.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let url = self.url(path, query)?;
        self.send(self.http.get(url)).await
    }

    /// Every item of the paged list `key` at `path`: pages of 1,000 (`limit`), each after the
    /// previous page's `next`.
    pub async fn get_all(&self, path: &str, key: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "1000".to_string())];
            query.extend(after.iter().map(|a| ("after", a.clone())));
            let page = self.get(path, &query).await?;
            items.extend(page[key].as_array().cloned().unwrap_or_default());
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => return Ok(items),
            }
        }
    }

    /// `POST path?query` as JSON.
    pub async fn post(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let url = self.url(path, query)?;
        self.send(self.http.post(url)).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the psahost API at {}", self.base))?;
        let status = response.status();
        let body = response.bytes().await?;
        let value: Value = serde_json::from_slice(&body).map_err(|_| {
            anyhow!(
                "the API answered {status} with a body that is not JSON: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        })?;
        if status.is_success() {
            return Ok(value);
        }
        let code = value["error"]["code"].as_str().unwrap_or("error");
        let message = value["error"]["message"].as_str().unwrap_or_default();
        bail!("the API answered {status} ({code}): {message}")
    }
}

/// A path segment, percent-encoded.
pub fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Every item of a paged store listing as JSON: `page(after)` gives up to 1,000 items after the
/// key `after`, `key` names an item; pages are read until one is short (the store-side
/// counterpart of [`ApiClient::get_all`]).
pub async fn store_all<T, F, Fut>(
    mut page: F,
    key: impl Fn(&T) -> String,
) -> anyhow::Result<Vec<Value>>
where
    T: serde::Serialize,
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<T>>>,
{
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let got = page(after.take()).await?;
        let full = got.len() == STORE_PAGE;
        let last = got.last().map(&key);
        for item in &got {
            items.push(serde_json::to_value(item)?);
        }
        match (full, last) {
            (true, Some(last)) => after = Some(last),
            _ => return Ok(items),
        }
    }
}

/// The page size of [`store_all`].
pub const STORE_PAGE: usize = 1000;
