//! Helpers of the daemon tests: a `psahost.toml` with an `[api]` section against a simulator,
//! an HTTP client of the API, `psahost serve` as a child process, and a small validator of
//! answers against the OpenAPI document's schemas.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The API token of the tests.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// What goes into a test configuration.
pub struct ConfigSpec<'a> {
    /// `[plugins.cw]`: `path = ...`; none when the plugin comes from `plugin_dir`.
    pub plugin_path: Option<&'a str>,
    /// `[plugins] dir`.
    pub plugin_dir: Option<&'a str>,
    /// The id of the plugin the connection uses.
    pub plugin_id: &'a str,
    /// `[connections.sim.schedule]` lines.
    pub schedule: &'a [(&'a str, &'a str)],
    /// `[sync] page-size`.
    pub page_size: u32,
    /// `replaces-builtin = true` in the plugin's table: for builds of a bundled connector that
    /// are not the bundled component itself.
    pub replaces_builtin: bool,
}

impl Default for ConfigSpec<'_> {
    fn default() -> Self {
        ConfigSpec {
            plugin_path: Some(plugin_artifacts::CONNECTWISE_MANAGE_PATH),
            plugin_dir: None,
            plugin_id: "cw",
            schedule: &[],
            page_size: 50,
            replaces_builtin: false,
        }
    }
}

/// The ConnectWise connector's settings for `sim`, as the inside of a TOML inline table.
pub fn cw_settings_toml(sim: &psa_sim::Simulator) -> String {
    let c = &sim.config().credentials;
    [
        ("site", sim.origin()),
        ("company-id", c.company_id.clone()),
        ("public-key", c.public_key.clone()),
        ("private-key", c.private_key.clone()),
        ("client-id", c.client_id.clone()),
    ]
    .iter()
    .map(|(k, v)| format!("{k} = {v:?}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Writes `psahost.toml` in `dir` with connection `sim` against `sim`, an API on a free
/// loopback port and the test token.
pub fn write_config(dir: &Path, sim: &psa_sim::Simulator, spec: &ConfigSpec<'_>) -> PathBuf {
    let settings = cw_settings_toml(sim);
    let mut text = format!(
        r#"
[runtime]
data-dir = "data"
cache-dir = {cache:?}
call-timeout = "60s"

[api]
listen = "127.0.0.1:0"
token = "{TOKEN}"

[plugins]
watch-interval = "200ms"
"#,
        cache = crate::cache_dir().display().to_string(),
    );
    if let Some(d) = spec.plugin_dir {
        text.push_str(&format!("dir = {d:?}\n"));
    }
    if spec.plugin_path.is_some() || spec.replaces_builtin {
        text.push_str(&format!("\n[plugins.{}]\n", spec.plugin_id));
    }
    if let Some(p) = spec.plugin_path {
        text.push_str(&format!("path = {p:?}\n"));
    }
    if spec.replaces_builtin {
        text.push_str("replaces-builtin = true\n");
    }
    text.push_str(&format!(
        r#"
[connections.sim]
plugin = "{plugin}"
settings = {{ {settings} }}
grant = {{ hosts = [{origin:?}] }}
limits = {{ max-retries = 0 }}
"#,
        plugin = spec.plugin_id,
        origin = sim.origin(),
    ));
    if !spec.schedule.is_empty() {
        text.push_str("\n[connections.sim.schedule]\n");
        for (k, v) in spec.schedule {
            text.push_str(&format!("{k} = {v:?}\n"));
        }
    }
    text.push_str(&format!("\n[sync]\npage-size = {}\n", spec.page_size));
    let path = dir.join("psahost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A client of the API at `base`.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    http: reqwest::Client,
}

/// An answer: status and body (JSON when it parses, else a string).
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// The raw body.
    pub text: String,
}

impl Api {
    /// A client of `base`.
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// A request with the test token.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(TOKEN)).await
    }

    /// A POST with the test token.
    pub async fn post(&self, path: &str) -> Answer {
        self.send(reqwest::Method::POST, path, Some(TOKEN)).await
    }

    /// A request with `token` (none: no header).
    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        Answer { status, body, text }
    }

    /// A request with the test token and `headers`; the answer and its headers.
    pub async fn send_with_headers(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (Answer, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        (Answer { status, body, text }, answer_headers)
    }

    /// Polls `path` until `check` holds on a 200 answer, or panics after `timeout`.
    pub async fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let a = self.get(path).await;
            if a.status == 200 && check(&a.body) {
                return a.body;
            }
            assert!(
                started.elapsed() < timeout,
                "timed out waiting for {what}: last answer {} {}",
                a.status,
                a.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `psahost serve` as a child process, its stderr collected.
pub struct Served {
    /// The child.
    pub child: tokio::process::Child,
    /// The API.
    pub api: Api,
    /// Every stderr line so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts `BIN --config CONFIG serve ARGS...` (`BIN`: the `psahost` binary) and waits for
    /// its address.
    pub async fn start(bin: &Path, config: &Path, args: &[&str]) -> Served {
        let mut child = tokio::process::Command::new(bin)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .args(args)
            .env_remove("PSAHOST_CONFIG")
            .env("PSAHOST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start psahost serve");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        let base = loop {
            let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
                .await
                .ok()
                .and_then(|l| l.ok().flatten());
            match line {
                Some(l) => {
                    if let Some(url) = l.strip_prefix("listening on ") {
                        break url.to_string();
                    }
                }
                None => panic!(
                    "psahost serve did not start ({:?}): {}",
                    started.elapsed(),
                    log.lock().unwrap().join("\n")
                ),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let served = Served {
            child,
            api: Api::new(&base),
            log,
        };
        // The API answers while plugins compile: wait until every plugin is loaded or refused.
        served
            .api
            .wait_for(
                "/v1/plugins",
                Duration::from_secs(120),
                "the plugins' first loads",
                |body| {
                    body["plugins"]
                        .as_array()
                        .is_some_and(|p| p.iter().all(|p| p["loading"] == false))
                },
            )
            .await;
        served
    }

    /// The stderr lines so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the exit code.
    pub async fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("psahost serve stops within a minute of SIGTERM")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = self.log.lock().unwrap().join("\n");
        (status.code(), log)
    }
}

/// The OpenAPI document checked in at `docs/openapi.json`.
pub fn openapi_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// Validates `value` against `schema` (the subset of JSON Schema the document uses: `$ref`,
/// `type` (one or several), `const`, `enum`, `properties`, `required`, `items`,
/// `additionalProperties`, `allOf`, `oneOf`). Returns the first violation.
pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("{at}: unknown schema {r}"));
        }
        return validate(doc, target, value, at);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, value, at)?;
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one
            .iter()
            .filter(|s| validate(doc, s, value, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!(
                "{at}: {matching} of the oneOf schemas match {value}"
            ));
        }
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{at}: expected {c}, got {value}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {e:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !ok {
            return Err(format!("{at}: expected {types:?}, got {actual}: {value}"));
        }
    }
    if let Value::Object(map) = value {
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    return Err(format!("{at}: missing required `{r}` in {value}"));
                }
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in map {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(doc, s, v, &format!("{at}.{k}"))?,
                None => {
                    if let Some(extra) = schema.get("additionalProperties")
                        && extra.is_object()
                    {
                        validate(doc, extra, v, &format!("{at}.{k}"))?;
                    }
                }
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(doc, s, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Validates an answer of `method path` (a route template) with its documented schema.
pub fn check_answer(doc: &Value, method: &str, template: &str, answer: &Answer) {
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "{method} {template} is not documented");
    let response = &op["responses"][answer.status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: status {} is not documented: {}",
        answer.status,
        answer.text
    );
    if let Some(schema) = response["content"]["application/json"].get("schema")
        && let Err(e) = validate(doc, schema, &answer.body, "body")
    {
        panic!("{method} {template} ({}): {e}", answer.status);
    }
}
