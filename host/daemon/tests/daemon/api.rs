//! The HTTP API in process: a daemon over the real ConnectWise connector and the simulator on
//! loopback. Authentication (401 without or with a wrong token, health and readiness open),
//! the OpenAPI document (served = checked in, every route documented, answers valid against
//! it), sync now, records, the change feed, MRR and eligibility equal to the views module on
//! the same store, picklists, metrics, and a graceful stop.

use psahost_daemon::Daemon;
use psahost_daemon::api::ROUTES;
use psahost_testkit::daemon::*;
use serde_json::Value;
use std::time::Duration;

async fn start(
    sim: &psa_sim::Simulator,
    dir: &std::path::Path,
) -> (
    std::sync::Arc<Daemon>,
    Api,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let path = write_config(dir, sim, &ConfigSpec::default());
    crate::serve(&path).await
}

/// A concrete path for a route template.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "sim")
        .replace("{entity}", "companies")
        .replace("{record}", "1")
        .replace("{kind}", "queue")
        .replace("{customer}", "t-1")
        .replace("{alert}", "a-1")
}

/// A request with a body and the test token.
pub(crate) async fn send_body(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    body: &str,
) -> Answer {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(TOKEN)
        .body(body.to_string())
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    Answer { status, body, text }
}

/// Customer linking through the API: a dry run stores nothing; a real one stores the match,
/// which is listed and removed; bad input is a 400 naming the line; every answer is valid
/// against the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_linked_listed_and_removed() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api, stop, task) = start(&sim, dir.path()).await;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let a = api.post("/v1/connections/sim/sync").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let first = daemon
        .store()
        .list("sim", psahost_store::Entity::Companies, Default::default())
        .await
        .unwrap()
        .records
        .remove(0);
    let name = first.record["name"].as_str().unwrap().to_string();
    let lines = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "t-1", "name": name}),
        serde_json::json!({"id": "t-2", "name": "Nonexistent Widgets GmbH", "emails": ["x@gmail.com"]}),
    );
    let post = reqwest::Method::POST;
    let route = "/v1/connections/{id}/link/customers";

    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/link/customers?dry-run=true",
        &lines,
    )
    .await;
    check_answer(&doc, "post", route, &a);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        (
            a.body["matched"].as_u64(),
            a.body["none"].as_u64(),
            a.body["dry-run"].as_bool()
        ),
        (Some(1), Some(1), Some(true)),
        "{}",
        a.text
    );
    let links = api.get("/v1/connections/sim/links/customers").await;
    check_answer(&doc, "get", "/v1/connections/{id}/links/customers", &links);
    assert_eq!(links.body["links"], serde_json::json!([]));

    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/link/customers",
        &lines,
    )
    .await;
    check_answer(&doc, "post", route, &a);
    let t1 = &a.body["customers"][0];
    assert_eq!(
        (
            t1["outcome"].as_str(),
            t1["company"]["company-id"].as_str(),
            t1["stored"].as_bool()
        ),
        (Some("matched"), Some(first.id.as_str()), Some(true)),
        "{}",
        a.text
    );
    let links = api.get("/v1/connections/sim/links/customers").await;
    check_answer(&doc, "get", "/v1/connections/{id}/links/customers", &links);
    assert_eq!(links.body["links"][0]["customer-id"], "t-1");
    assert_eq!(links.body["links"][0]["status"], "linked");
    assert_eq!(links.body["links"].as_array().unwrap().len(), 1);
    // The dry run built the kept index; the real run only brought it up to date.
    let metrics = api.get("/metrics").await.text;
    assert!(
        metrics.contains("psahost_linking_index_cold_builds_total 1\n")
            && metrics.contains("psahost_linking_index_warm_requests_total 1\n"),
        "{metrics}"
    );

    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/link/customers",
        "{\"id\": \"a\"}\n{\"id\": \"b\", \"fax\": 1}\n",
    )
    .await;
    check_answer(&doc, "post", route, &a);
    assert_eq!(a.status, 400);
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("line 2") && message.contains("fax"),
        "{message}"
    );
    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/nope/link/customers",
        &lines,
    )
    .await;
    check_answer(&doc, "post", route, &a);
    assert_eq!(a.status, 404);

    let delete = reqwest::Method::DELETE;
    let template = "/v1/connections/{id}/links/customers/{customer}";
    let a = send_body(
        &api,
        delete.clone(),
        "/v1/connections/sim/links/customers/t-1",
        "",
    )
    .await;
    check_answer(&doc, "delete", template, &a);
    assert_eq!(a.status, 200, "{}", a.text);
    let a = send_body(&api, delete, "/v1/connections/sim/links/customers/t-1", "").await;
    check_answer(&doc, "delete", template, &a);
    assert_eq!(a.status, 404);
    assert!(a.text.contains("`t-1` has no link"), "{}", a.text);

    stop.send(()).unwrap();
    task.await.unwrap().expect("a clean stop");
    sim.shutdown().await;
}

/// The connection's `[connections.ID.linking]` rule set decides through the route: a custom
/// rule judging every company (the hostile rule, well behaved: it matches all of them) makes
/// the customer the built-in rules would match ambiguous, and when it traps the customer's
/// result is an error naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_linked_by_the_connections_rules() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &sim, &ConfigSpec::default());
    std::fs::write(
        dir.path().join("customers.toml"),
        "[[identifier]]\nrule = \"hostile-rule\"\ncandidates = \"company\"\n\n[[identifier]]\nname = \"name\"\nsubject = \"name\"\ncandidate = \"name\"\ncompare = \"company-name\"\n",
    )
    .unwrap();
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        "\n[connections.sim.linking]\ncustomers-rules = \"customers.toml\"\nrule-plugins = [{:?}]\n",
        plugin_artifacts::HOSTILE_RULE_PATH
    ));
    std::fs::write(&path, config).unwrap();
    let (daemon, api, stop, task) = crate::serve(&path).await;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let a = api.post("/v1/connections/sim/sync").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let companies = daemon
        .store()
        .count("sim", psahost_store::Entity::Companies)
        .await
        .unwrap();
    let first = daemon
        .store()
        .list("sim", psahost_store::Entity::Companies, Default::default())
        .await
        .unwrap()
        .records
        .remove(0);
    let name = first.record["name"].as_str().unwrap();
    let lines = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "t-1", "name": name}),
        serde_json::json!({"id": "t-2", "name": name, "address": "trap"}),
    );
    let a = send_body(
        &api,
        reqwest::Method::POST,
        "/v1/connections/sim/link/customers?dry-run=true",
        &lines,
    )
    .await;
    check_answer(&doc, "post", "/v1/connections/{id}/link/customers", &a);
    assert_eq!(a.status, 200, "{}", a.text);
    let t1 = &a.body["customers"][0];
    assert_eq!(
        (
            t1["outcome"].as_str(),
            t1["decided-by"].as_str(),
            t1["candidates-total"].as_u64()
        ),
        (Some("ambiguous"), Some("hostile-rule"), Some(companies)),
        "{}",
        a.text
    );
    let t2 = &a.body["customers"][1];
    assert_eq!(t2["outcome"], "error", "{}", a.text);
    assert!(
        t2["error"]
            .as_str()
            .is_some_and(|e| e.contains("hostile-rule")),
        "{}",
        a.text
    );
    assert_eq!(a.body["matched"], 0, "{}", a.text);

    stop.send(()).unwrap();
    task.await.unwrap().expect("a clean stop");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_openapi_and_every_route() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api, stop, task) = start(&sim, dir.path()).await;

    // Health and readiness need no token.
    let health = api.send(reqwest::Method::GET, "/health", None).await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = api.send(reqwest::Method::GET, "/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["ready"], true);

    // Everything else refuses a missing or wrong token with a JSON error, and takes the right one.
    for (method, template, protected) in ROUTES {
        if !protected {
            continue;
        }
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let path = concrete(template);
        for token in [None, Some("wrong-token-0123456789"), Some("")] {
            let a = api.send(method.clone(), &path, token).await;
            assert_eq!(a.status, 401, "{method} {path} with {token:?}: {}", a.text);
            assert_eq!(a.body["error"]["code"], "unauthorized", "{}", a.text);
            assert!(
                a.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
    }
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/connections", api.base))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200, "the scheme is case-insensitive");
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/connections", api.base))
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert_eq!(
        raw.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );

    // The served document is the checked-in one (PSAHOST_UPDATE_OPENAPI=1 rewrites it).
    let served = api.get("/openapi.json").await;
    assert_eq!(served.status, 200);
    let file = openapi_path();
    if std::env::var_os("PSAHOST_UPDATE_OPENAPI").is_some() {
        std::fs::write(&file, &served.text).unwrap();
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        served.text == checked_in,
        "docs/openapi.json differs from the served document: run `PSAHOST_UPDATE_OPENAPI=1 cargo test -p psahost-daemon --test daemon` and commit it"
    );
    let doc: Value = serde_json::from_str(&checked_in).unwrap();
    // Every route is documented, and nothing else is.
    let mut documented = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut routes: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routes.sort();
    assert_eq!(documented, routes);
    for (method, path, protected) in ROUTES {
        let op = &doc["paths"][path][method];
        assert_eq!(
            op["responses"]["401"].is_object(),
            *protected,
            "{method} {path}"
        );
    }

    // Sync now, then every read; each answer is valid against the document.
    let a = api.post("/v1/connections/sim/sync").await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync", &a);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["all-completed"], true, "{}", a.text);
    // The five entities, then the connector's eight datasets.
    assert_eq!(
        a.body["runs"].as_array().unwrap().len(),
        5 + 8,
        "{}",
        a.text
    );
    assert_eq!(a.body["runs"][0]["entity"], "companies");
    assert_eq!(a.body["runs"][5]["entity"], "time-entries");
    let companies = a.body["runs"][0]["created"].as_u64().unwrap();
    assert!(companies > 5, "{}", a.text);

    let a = api
        .post("/v1/connections/sim/sync/companies?full=true")
        .await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync/{entity}", &a);
    assert_eq!(a.body["runs"][0]["mode"], "full", "{}", a.text);
    assert_eq!(a.body["runs"][0]["unchanged"], companies, "{}", a.text);
    let a = api
        .post("/v1/connections/sim/sync/companies?allow-mass-delete=true")
        .await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync/{entity}", &a);
    assert_eq!(a.status, 400);
    let a = api.post("/v1/connections/sim/sync/widgets").await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync/{entity}", &a);
    assert_eq!(a.status, 404);
    assert!(a.text.contains("time-entries"), "{}", a.text);
    let a = api.post("/v1/connections/sim/sync/Widgets").await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync/{entity}", &a);
    assert_eq!(a.status, 404);
    let a = api.post("/v1/connections/nope/sync").await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync", &a);
    assert_eq!(a.status, 404);

    // One record: touched in the PSA, synced by id.
    let company = sim.state().ids(psa_sim::Entity::Company)[3];
    assert!(sim.state().touch(psa_sim::Entity::Company, company));
    let a = api
        .post(&format!(
            "/v1/connections/sim/records/companies/{company}/sync"
        ))
        .await;
    check_answer(
        &doc,
        "post",
        "/v1/connections/{id}/records/{entity}/{record}/sync",
        &a,
    );
    assert_eq!(
        (a.body["found"].clone(), a.body["change"].clone()),
        (Value::Bool(true), Value::from("updated")),
        "{}",
        a.text
    );
    assert_eq!(a.body["record"]["id"], company.to_string());

    let a = api.get("/v1/connections").await;
    check_answer(&doc, "get", "/v1/connections", &a);
    assert_eq!(a.body["connections"][0]["id"], "sim");
    let a = api.get("/v1/connections/sim").await;
    check_answer(&doc, "get", "/v1/connections/{id}", &a);
    let stored: Vec<(String, u64)> = a.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["entity"].as_str().unwrap().to_string(),
                e["stored"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(stored[0], ("companies".to_string(), companies));
    let a = api.get("/v1/connections/sim/runs?limit=3").await;
    check_answer(&doc, "get", "/v1/connections/{id}/runs", &a);
    assert_eq!(a.body["runs"].as_array().unwrap().len(), 3);
    let a = api.get("/v1/plugins").await;
    check_answer(&doc, "get", "/v1/plugins", &a);
    assert_eq!(a.body["plugins"][0]["plugin-id"], "connectwise-manage");

    // Records: paged with filters.
    let a = api
        .get("/v1/connections/sim/records/companies?limit=5")
        .await;
    check_answer(&doc, "get", "/v1/connections/{id}/records/{entity}", &a);
    assert_eq!(a.body["records"].as_array().unwrap().len(), 5);
    let next = a.body["next"].as_str().unwrap().to_string();
    let b = api
        .get(&format!(
            "/v1/connections/sim/records/companies?limit=5&after={next}"
        ))
        .await;
    assert_ne!(b.body["records"][0]["id"], a.body["records"][0]["id"]);
    let contacts = api
        .get("/v1/connections/sim/records/contacts?limit=1000")
        .await;
    let some_company = contacts.body["records"][0]["record"]["company-id"]
        .as_str()
        .unwrap()
        .to_string();
    let filtered = api
        .get(&format!(
            "/v1/connections/sim/records/contacts?company-id={some_company}&limit=1000"
        ))
        .await;
    let expected = contacts.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["record"]["company-id"] == some_company.as_str())
        .count();
    assert!(expected > 0);
    assert_eq!(filtered.body["records"].as_array().unwrap().len(), expected);
    let a = api
        .get("/v1/connections/sim/records/companies?limit=0")
        .await;
    check_answer(&doc, "get", "/v1/connections/{id}/records/{entity}", &a);
    assert_eq!(a.status, 400);
    let a = api
        .get(&format!("/v1/connections/sim/records/companies/{company}"))
        .await;
    check_answer(
        &doc,
        "get",
        "/v1/connections/{id}/records/{entity}/{record}",
        &a,
    );
    assert_eq!(a.status, 200);
    let a = api
        .get("/v1/connections/sim/records/companies/999999999")
        .await;
    check_answer(
        &doc,
        "get",
        "/v1/connections/{id}/records/{entity}/{record}",
        &a,
    );
    assert_eq!(a.status, 404);

    // The change feed, read in pages, has every change once and in order.
    let mut after = 0u64;
    let mut seen = Vec::new();
    loop {
        let a = api
            .get(&format!(
                "/v1/connections/sim/changes?after={after}&limit=40"
            ))
            .await;
        check_answer(&doc, "get", "/v1/connections/{id}/changes", &a);
        let page = a.body["changes"].as_array().unwrap().clone();
        if page.is_empty() {
            assert_eq!(a.body["next-after"], after);
            break;
        }
        after = a.body["next-after"].as_u64().unwrap();
        seen.extend(page.into_iter().map(|c| c["seq"].as_u64().unwrap()));
    }
    assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>());
    let total: u64 = stored.iter().map(|(_, n)| n).sum();
    assert_eq!(
        seen.len() as u64,
        total + 1,
        "one created per record, one updated"
    );

    // MRR and eligibility: the API answers what the views module computes on the same store.
    let day = time::OffsetDateTime::now_utc().date();
    let a = api
        .get(&format!(
            "/v1/connections/sim/mrr?day={}",
            psahost_workflows::views::mrr::parse_day(&format!("{day}"))
                .map(|_| format!("{day}"))
                .unwrap()
        ))
        .await;
    check_answer(&doc, "get", "/v1/connections/{id}/mrr", &a);
    let views = psahost_workflows::views::mrr_from_store(daemon.store().as_ref(), "sim", day)
        .await
        .unwrap();
    assert_eq!(a.body, serde_json::to_value(&views).unwrap());
    assert!(
        !views.companies.is_empty(),
        "the simulator has recurring agreements"
    );
    let a = api.get("/v1/connections/sim/mrr?day=yesterday").await;
    check_answer(&doc, "get", "/v1/connections/{id}/mrr", &a);
    assert_eq!(a.status, 400);
    let a = api.get("/v1/connections/sim/eligible").await;
    check_answer(&doc, "get", "/v1/connections/{id}/eligible", &a);
    let verdicts = psahost_workflows::views::eligible_from_store(daemon.store().as_ref(), "sim")
        .await
        .unwrap();
    assert_eq!(
        a.body["companies"].as_array().unwrap().len(),
        verdicts.len()
    );
    assert_eq!(
        a.body["eligible"].as_u64().unwrap() as usize,
        verdicts.iter().filter(|v| v.eligible).count()
    );

    // Through the connector: the test and a picklist.
    let a = api.post("/v1/connections/sim/test").await;
    check_answer(&doc, "post", "/v1/connections/{id}/test", &a);
    assert_eq!(a.body["ok"], true, "{}", a.text);
    let a = api
        .get("/v1/connections/sim/references/ticket-status")
        .await;
    check_answer(&doc, "get", "/v1/connections/{id}/references/{kind}", &a);
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(!a.body["references"].as_array().unwrap().is_empty());
    let a = api.get("/v1/connections/sim/references/colours").await;
    check_answer(&doc, "get", "/v1/connections/{id}/references/{kind}", &a);
    assert_eq!(a.status, 404, "{}", a.text);

    // Metrics count the calls, the requests and the runs.
    let a = api.get("/metrics").await;
    assert_eq!(a.status, 200);
    for needle in [
        r#"psahost_plugin_calls_total{plugin="connectwise-manage",operation="list-companies",outcome="ok"}"#.to_string(),
        r#"psahost_http_responses_total{connection="sim",class="2xx"}"#.to_string(),
        r#"psahost_sync_runs_total{connection="sim",entity="companies",mode="full",outcome="completed"} 2"#.to_string(),
        format!(r#"psahost_sync_records_total{{connection="sim",entity="companies",change="created"}} {companies}"#),
        "psahost_sync_run_duration_seconds_bucket".to_string(),
    ] {
        assert!(a.text.contains(&needle), "{needle}\n{}", a.text);
    }
    let a = api.get("/v1/nothing").await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (404, Some("not-found"))
    );

    stop.send(()).unwrap();
    task.await.unwrap().expect("a clean stop");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_and_health_reveal_no_connection_error_text() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &sim, &ConfigSpec::default());
    // A hostile connection whose secret setting makes its requested host unparsable: the
    // connection-open error would quote it.
    std::fs::write(dir.path().join("leak.txt"), "TOPSECRET-9137:").unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[plugins.hostile]\npath = {:?}\n\n[connections.leaky]\nplugin = \"hostile\"\nsettings = {{ attack = \"none\", target = \"${{file:leak.txt}}\" }}\ngrant = {{ hosts = [\"requested\"] }}\n",
        plugin_artifacts::HOSTILE_PATH
    ));
    std::fs::write(&path, text).unwrap();
    let (_daemon, api, stop, task) = crate::serve(&path).await;
    let ready = api.send(reqwest::Method::GET, "/ready", None).await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert!(
        ready.body["connections-not-open"]["leaky"].is_string(),
        "{}",
        ready.text
    );
    let health = api.send(reqwest::Method::GET, "/health", None).await;
    for answer in [&ready, &health] {
        assert!(
            !answer.text.contains("TOPSECRET") && !answer.text.contains("outbound host"),
            "{}",
            answer.text
        );
    }
    // The authenticated listing says why, without the secret.
    let listed = api.get("/v1/connections").await;
    assert!(
        listed.text.contains("outbound host") && !listed.text.contains("TOPSECRET"),
        "{}",
        listed.text
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stays_healthy_while_a_hostile_connection_attacks() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &sim, &ConfigSpec::default());
    let target = sim.origin().trim_start_matches("http://").to_string();
    let attacks: &[(&str, &str)] = &[
        ("spin", ""),
        ("memory", ""),
        ("trap", ""),
        ("log-flood", "count = \"200\", size = \"65536\", "),
        ("log-forge", ""),
        (
            "denied-flood",
            "count = \"2000\", url = \"http://127.0.0.1:9/\", ",
        ),
        ("kv-then-trap", "key = \"k\", value = \"v\", "),
        ("big-page", "count = \"5000\", "),
        ("cursor-cycle", ""),
        ("cursor-endless", "count = \"50\", "),
    ];
    let mut text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("call-timeout = \"60s\"", "call-timeout = \"3s\"")
        .replace(
            "page-size = 50\n",
            "page-size = 50\nmax-pages-per-run = 200\n",
        );
    text.push_str(&format!(
        "\n[plugins.hostile]\npath = {:?}\n",
        plugin_artifacts::HOSTILE_PATH
    ));
    for (attack, extra) in attacks {
        text.push_str(&format!(
            "\n[connections.{attack}]\nplugin = \"hostile\"\nsettings = {{ attack = \"{attack}\", {extra}target = \"{target}\" }}\ngrant = {{ hosts = [\"{}\"] }}\n",
            sim.origin()
        ));
    }
    text.push_str("\n[connections.endpoint-flood]\nplugin = \"hostile\"\n");
    text.push_str(&format!(
        "settings = {{ attack = \"endpoint-flood\", count = \"20\", target = \"{target}\", url = \"{}/x\" }}\ngrant = {{ hosts = [\"{}\"] }}\n",
        sim.origin(),
        sim.origin()
    ));
    std::fs::write(&path, text).unwrap();
    let (_daemon, api, stop, task) = crate::serve(&path).await;
    let ready = api.send(reqwest::Method::GET, "/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let names: Vec<&str> = attacks
        .iter()
        .map(|(a, _)| *a)
        .chain(["endpoint-flood"])
        .collect();
    for attack in names {
        let route = if attack.starts_with("cursor") || attack == "big-page" {
            format!("/v1/connections/{attack}/sync/companies?full=true")
        } else {
            format!("/v1/connections/{attack}/test")
        };
        let hostile = {
            let api = api.clone();
            tokio::spawn(async move { api.post(&route).await })
        };
        // While it runs: health answers, and so does a normal call of another connection.
        let started = std::time::Instant::now();
        let health = api.send(reqwest::Method::GET, "/health", None).await;
        assert_eq!(health.status, 200, "{attack}: {}", health.text);
        let normal = api.post("/v1/connections/sim/test").await;
        assert_eq!(normal.status, 200, "{attack}: {}", normal.text);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{attack}: {:?}",
            started.elapsed()
        );
        let answer = tokio::time::timeout(Duration::from_secs(60), hostile)
            .await
            .unwrap_or_else(|_| panic!("{attack} never ended"))
            .unwrap();
        assert!(answer.status < 600, "{attack}: {}", answer.text);
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
