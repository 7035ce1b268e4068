//! Loading rejects what is not a psahost plugin, with messages that say what to do.

use psahost_e2e::*;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{LoadError, PluginKind, PluginSource};
use std::time::Duration;

async fn load_bytes(bytes: Vec<u8>) -> LoadError {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    match rt
        .load(PluginSource::Bytes {
            name: "test.wasm".into(),
            bytes: bytes.into(),
        })
        .await
    {
        Ok(p) => panic!("loaded {} unexpectedly", p.id()),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_text_file_is_not_wasm() {
    let e = load_bytes(b"#!/bin/sh\necho hi\n".to_vec()).await;
    assert!(matches!(e, LoadError::NotWasm { .. }), "{e:?}");
    assert!(
        e.to_string().contains("test.wasm") && e.to_string().contains("not a WebAssembly file"),
        "{e}"
    );
}

#[tokio::test]
async fn a_core_module_is_not_a_component() {
    let e = load_bytes(wat::parse_str("(module (func (export \"run\")))").unwrap()).await;
    assert!(matches!(e, LoadError::NotComponent { .. }), "{e:?}");
    assert!(e.to_string().contains("wasm32-wasip2"), "{e}");
}

#[tokio::test]
async fn a_component_of_another_world_is_refused() {
    let e =
        load_bytes(wat::parse_str("(component (core module $m) (instance $i) )").unwrap()).await;
    assert!(matches!(e, LoadError::WrongWorld { .. }), "{e:?}");
    assert!(e.to_string().contains("psa:connector/connector-api"), "{e}");
    let e = load_bytes(
        wat::parse_str(r#"(component (instance $i) (export "wasi:cli/run@0.2.0" (instance $i)))"#)
            .unwrap(),
    )
    .await;
    assert!(e.to_string().contains("wasi:cli/run@0.2.0"), "{e}");
}

#[tokio::test]
async fn an_unsupported_wit_version_is_refused() {
    let e = load_bytes(
        wat::parse_str(r#"(component (instance $i) (export "psa:connector/connector-api@0.2.0" (instance $i)))"#)
            .unwrap(),
    )
    .await;
    assert!(matches!(e, LoadError::UnsupportedVersion { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("psa:connector@0.2.0") && text.contains("psa:connector@0.1.0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_matching_rule_loads_but_cannot_be_a_connection() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let rule = load(&rt, EXAMPLE_RULE_PATH).await;
    assert_eq!(rule.kind(), PluginKind::MatchingRule);
    assert_eq!(rule.id(), "neighbouring-mac-same-model");
    let kv = KvStore::temporary().unwrap();
    let err = Connection::open(rt.clone(), rule, "x", settings(&[], &[]), &grant(&[]), &kv)
        .err()
        .expect("a rule is not a connector");
    assert!(
        err.to_string().contains("matching rule, not a connector"),
        "{err}"
    );
}

#[tokio::test]
async fn a_pinned_hash_is_checked_before_anything_runs() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let e = rt
        .load_pinned(
            PluginSource::File(HOSTILE_PATH.into()),
            Some(&"0".repeat(64)),
        )
        .await
        .err()
        .expect("the pin does not match");
    assert!(matches!(e, LoadError::HashMismatch { .. }), "{e:?}");
    let plugin = load(&rt, HOSTILE_PATH).await;
    rt.load_pinned(
        PluginSource::File(HOSTILE_PATH.into()),
        Some(plugin.sha256()),
    )
    .await
    .expect("the right pin loads");
}

#[tokio::test]
async fn connection_settings_are_checked_against_describe() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let open = |pairs: &[(&str, &str)]| {
        Connection::open(
            rt.clone(),
            plugin.clone(),
            "c",
            settings(pairs, &[]),
            &grant(&[]),
            &kv,
        )
        .err()
        .map(|e| format!("{e:#}"))
    };
    let missing = open(&[]).expect("attack is required");
    assert!(missing.contains("requires setting `attack`"), "{missing}");
    let typo = open(&[("attack", "x"), ("tokn", "y")]).expect("unknown setting");
    assert!(typo.contains("`tokn`") && typo.contains("token"), "{typo}");
    assert!(open(&[("attack", "x")]).is_none());
}

#[tokio::test]
async fn an_oversized_component_is_refused_before_it_is_compiled() {
    let limit = 100_000;
    let rt = psahost_sandbox::runtime::Runtime::new(psahost_sandbox::runtime::RuntimeConfig {
        cache_dir: None,
        max_component_size: limit,
        max_instances: 2,
        ..Default::default()
    })
    .expect("runtime");
    let size = std::fs::metadata(CONNECTWISE_MANAGE_PATH).unwrap().len();
    assert!(size > limit, "the connector is {size} bytes");
    let from_file = rt
        .load(PluginSource::File(CONNECTWISE_MANAGE_PATH.into()))
        .await
        .err()
        .expect("refused");
    let bytes = std::fs::read(CONNECTWISE_MANAGE_PATH).unwrap();
    let from_bytes = rt
        .load(PluginSource::Bytes {
            name: "big.wasm".into(),
            bytes: bytes.into(),
        })
        .await
        .err()
        .expect("refused");
    for e in [from_file, from_bytes] {
        assert!(
            matches!(e, LoadError::TooLarge { size: s, limit: l, .. } if s == size && l == limit),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("runtime.max-component-size"),
            "the error names the key: {e}"
        );
    }
    // Within the limit the same component loads.
    let rt = runtime(64 << 20, Duration::from_secs(10));
    rt.load(PluginSource::File(CONNECTWISE_MANAGE_PATH.into()))
        .await
        .expect("loads under the default limit");
}

#[tokio::test]
async fn the_example_rule_matches_another_interface_of_a_device() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let rule = load(&rt, EXAMPLE_RULE_PATH).await;
    let subject = serde_json::json!({
        "kind": "device", "id": "laptop-1", "raw": "{}",
        "fields": [["mac-address", "F8:75:A4:10:20:31"], ["model", "ThinkPad T14 Gen 3"]],
    });
    let candidates = serde_json::json!([
        {"entity": "configuration", "id": "10", "raw": "{}",
         "fields": [["mac-address", "f8-75-a4-10-20-2f"], ["model", "thinkpad-t14-gen3"]]},
        {"entity": "configuration", "id": "11", "raw": "{}",
         "fields": [["mac-address", "f8-75-a4-10-20-30"], ["model", "ThinkPad X1"]]},
    ]);
    let verdicts = psahost_sandbox::connector::call_json(
        &rt,
        &rule,
        None,
        "evaluate",
        vec![subject, candidates],
    )
    .await
    .expect("evaluate runs");
    let verdicts = verdicts.as_array().expect("a list of verdicts");
    let by_id = |id: &str| {
        verdicts
            .iter()
            .find(|v| v["candidate-id"] == id)
            .expect("a verdict each")
    };
    assert_eq!(by_id("10")["matched"], true, "{verdicts:?}");
    assert_eq!(by_id("10")["score"], 70);
    assert_eq!(by_id("11")["matched"], false);
    assert!(
        by_id("11")["reason"]
            .as_str()
            .unwrap()
            .contains("models differ")
    );
}
