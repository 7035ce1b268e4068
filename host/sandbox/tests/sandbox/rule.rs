//! Typed calls of matching rules: the example rule as built today and for contract 0.1.0, and
//! a rule that misbehaves (traps, loops, floods its answer).

use plugin_artifacts::{EXAMPLE_RULE_PATH, EXAMPLE_RULE_V0_1_0_PATH, HOSTILE_RULE_PATH};
use psahost_sandbox::rule::{
    Candidate, MAX_CANDIDATES, MAX_REASON_BYTES, Rule, RuleError, Subject,
};
use psahost_sandbox::runtime::{CallError, PluginSource, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::Duration;

fn runtime(call_timeout: Duration) -> Arc<Runtime> {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(std::env::temp_dir().join("psahost-test-cache")),
        memory_limit: 32 << 20,
        call_timeout,
        max_instances: 8,
        ..RuntimeConfig::default()
    })
    .expect("runtime")
}

async fn rule(runtime: &Arc<Runtime>, path: &str) -> Rule {
    let plugin = runtime
        .load(PluginSource::File(path.into()))
        .await
        .unwrap_or_else(|e| panic!("loading {path}: {e}"));
    Rule::open(runtime.clone(), plugin).expect("a matching rule")
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn subject(fields: &[(&str, &str)]) -> Subject {
    Subject {
        kind: "device".into(),
        id: "laptop-1".into(),
        fields: pairs(fields),
        raw: "{}".into(),
    }
}

fn candidate(id: &str, fields: &[(&str, &str)]) -> Candidate {
    Candidate {
        entity: "configuration".into(),
        id: id.into(),
        fields: pairs(fields),
        raw: "{}".into(),
    }
}

/// The same rule, as built today and for contract 0.1.0, gives the same typed verdicts, in
/// the candidates' order.
#[tokio::test]
async fn the_example_rule_judges_each_candidate_in_both_contract_versions() {
    let rt = runtime(Duration::from_secs(10));
    for path in [EXAMPLE_RULE_PATH, EXAMPLE_RULE_V0_1_0_PATH] {
        let rule = rule(&rt, path).await;
        assert_eq!(rule.id(), "neighbouring-mac-same-model");
        let verdicts = rule
            .evaluate(
                subject(&[
                    ("mac-address", "F8:75:A4:10:20:31"),
                    ("model", "ThinkPad T14 Gen 3"),
                ]),
                vec![
                    candidate(
                        "10",
                        &[
                            ("mac-address", "f8-75-a4-10-20-2f"),
                            ("model", "thinkpad-t14-gen3"),
                        ],
                    ),
                    candidate(
                        "11",
                        &[
                            ("mac-address", "f8-75-a4-10-20-30"),
                            ("model", "ThinkPad X1"),
                        ],
                    ),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let got: Vec<(&str, bool, u8)> = verdicts
            .iter()
            .map(|v| (v.candidate_id.as_str(), v.matched, v.score))
            .collect();
        assert_eq!(got, [("10", true, 70), ("11", false, 0)], "{path}");
        assert!(verdicts[1].reason.contains("models differ"), "{verdicts:?}");
    }
}

/// A connector is not a rule.
#[tokio::test]
async fn a_connector_is_refused_as_a_rule() {
    let rt = runtime(Duration::from_secs(10));
    let plugin = rt
        .load(PluginSource::File(plugin_artifacts::HOSTILE_PATH.into()))
        .await
        .expect("loads");
    let err = Rule::open(rt, plugin).err().expect("refused").to_string();
    assert!(err.contains("`hostile` is a connector"), "{err}");
}

async fn attack(rule: &Rule, attack: &str, candidates: usize) -> Result<Vec<String>, RuleError> {
    let candidates = (0..candidates)
        .map(|n| candidate(&format!("c{n}"), &[]))
        .collect();
    let verdicts = rule
        .evaluate(subject(&[("attack", attack)]), candidates)
        .await?;
    Ok(verdicts.into_iter().map(|v| v.candidate_id).collect())
}

/// Every way a rule can misbehave ends in an error naming the rule, and the next call of the
/// same rule works: nothing is left behind.
#[tokio::test]
async fn a_misbehaving_rule_fails_with_its_name_and_never_matches() {
    let rt = runtime(Duration::from_millis(500));
    let rule = rule(&rt, HOSTILE_RULE_PATH).await;
    let well = attack(&rule, "none", 3).await.expect("a well-behaved call");
    assert_eq!(well, ["c0", "c1", "c2"]);

    let err = attack(&rule, "trap", 2).await.unwrap_err();
    assert!(
        matches!(err, RuleError::Call(CallError::Trap { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("plugin `hostile-rule` crashed"),
        "{err}"
    );

    let started = std::time::Instant::now();
    let err = attack(&rule, "spin", 2).await.unwrap_err();
    assert_eq!(err.kind(), "deadline", "{err}");
    assert!(err.to_string().contains("`hostile-rule`"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline held"
    );

    let err = attack(&rule, "memory", 2).await.unwrap_err();
    assert_eq!(err.kind(), "memory-cap", "{err}");

    for (what, why) in [
        ("flood", "6 verdicts for 3 candidates"),
        ("duplicate", "two verdicts for candidate `c0`"),
        ("bad-score", "score 200 for candidate `c0`"),
    ] {
        let err = attack(&rule, what, 3).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, RuleError::BadAnswer { rule, .. } if rule == "hostile-rule")
                && text.contains(why)
                && text.contains("matching rule `hostile-rule` gave a bad answer"),
            "{what}: {text}"
        );
    }

    // The same rule still answers after all that.
    assert_eq!(attack(&rule, "none", 1).await.expect("recovered"), ["c0"]);
}

/// Verdicts on ids nobody asked about are dropped; long reasons are cut and made one line; an
/// answer with too much text is refused; too many candidates are refused before the call.
#[tokio::test]
async fn what_a_rule_answers_is_bounded() {
    let rt = runtime(Duration::from_secs(10));
    let rule = rule(&rt, HOSTILE_RULE_PATH).await;
    assert_eq!(
        attack(&rule, "strangers", 2).await.expect("strangers"),
        ["c0"]
    );

    let verdicts = rule
        .evaluate(
            subject(&[("attack", "long-reason"), ("size", "100000")]),
            vec![candidate("c0", &[])],
        )
        .await
        .expect("a long reason is cut, not refused");
    let reason = &verdicts[0].reason;
    assert!(
        reason.len() <= MAX_REASON_BYTES + '…'.len_utf8() && reason.ends_with('…'),
        "{}",
        reason.len()
    );
    assert!(
        !reason.contains('\n') && !reason.contains('\u{1b}'),
        "{reason:?}"
    );

    // 20 reasons of 100,000 bytes: 2 MB, over the bound of one answer.
    let candidates = (0..20).map(|n| candidate(&format!("c{n}"), &[])).collect();
    let err = rule
        .evaluate(
            subject(&[("attack", "long-reason"), ("size", "100000")]),
            candidates,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bytes of text, over"), "{err}");

    let err = attack(&rule, "none", MAX_CANDIDATES + 1).await.unwrap_err();
    assert_eq!(err.kind(), "too-many-candidates", "{err}");
    assert!(
        err.to_string().contains("`hostile-rule` was not called"),
        "{err}"
    );
}
