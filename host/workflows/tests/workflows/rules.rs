//! Rule sets with custom rule components: the real example rule changes what the built-in
//! identifiers decide, and a misbehaving rule makes the subject's result an error naming it.

use plugin_artifacts::{EXAMPLE_RULE_PATH, HOSTILE_RULE_PATH};
use psahost_matching::rules::{Candidate, Fields, Outcome, RuleSet, Subject};
use psahost_sandbox::rule::Rule;
use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
use psahost_workflows::linking::{Matcher, Population, SubjectRecord};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const DEVICES: &str = r#"
[conditions]
active-only = true

[[identifier]]
name = "serial"
subject = "serial-number"
candidate = "serial-number"
compare = "serial"

[[identifier]]
name = "host"
subject = "host-name"
candidate = "name"
compare = "host-name"
"#;

async fn rules(paths: &[&str]) -> Vec<Rule> {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(psahost_testkit::cache_dir()),
        memory_limit: 32 << 20,
        call_timeout: Duration::from_millis(500),
        max_instances: 8,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let mut loaded = Vec::new();
    for path in paths {
        let plugin = runtime
            .load(PluginSource::File((*path).into()))
            .await
            .expect("rule loads");
        loaded.push(Rule::open(Arc::clone(&runtime), plugin).expect("a rule"));
    }
    loaded
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in pairs {
        f.entry(k.to_string()).or_default().push(v.to_string());
    }
    f
}

fn population() -> Population {
    let config = |id: &str, pairs: &[(&str, &str)]| Candidate {
        id: id.into(),
        fields: fields(pairs),
        active: true,
        company: Some("acme".into()),
        kind: None,
    };
    let candidates = vec![
        // Two items called `pc-01`: the host name alone cannot tell them apart.
        config(
            "10",
            &[
                ("name", "pc-01"),
                ("mac-address", "00:11:22:33:44:55"),
                ("model", "OptiPlex 7090"),
            ],
        ),
        config(
            "11",
            &[
                ("name", "PC-01.corp.example"),
                ("mac-address", "F8:75:A4:10:20:2F"),
                ("model", "ThinkPad T14 Gen 3"),
            ],
        ),
        // `laptop-7` by name, yet its MAC neighbours another machine's.
        config(
            "12",
            &[
                ("name", "laptop-7"),
                ("mac-address", "AA:BB:CC:00:00:01"),
                ("model", "ThinkPad T14 Gen 3"),
            ],
        ),
    ];
    Population {
        entity: "configuration".into(),
        raw: candidates.iter().map(|_| "{}".to_string()).collect(),
        candidates,
    }
}

fn device(pairs: &[(&str, &str)]) -> SubjectRecord {
    SubjectRecord {
        subject: Subject {
            id: "device-1".into(),
            fields: fields(pairs),
            company: Some("acme".into()),
            kind: None,
        },
        kind: "device".into(),
        raw: "{}".into(),
    }
}

const LAPTOP: &[(&str, &str)] = &[
    ("host-name", "pc-01"),
    ("mac-address", "f8:75:a4:10:20:31"),
    ("model", "thinkpad-t14-gen3"),
];

fn decided(outcome: &Outcome) -> (String, Vec<String>) {
    match outcome {
        Outcome::Matched { identifier, found } => {
            (identifier.clone(), vec![found.candidate.clone()])
        }
        Outcome::Ambiguous { identifier, found } => (
            identifier.clone(),
            found.iter().map(|f| f.candidate.clone()).collect(),
        ),
        Outcome::None => ("none".into(), Vec::new()),
    }
}

/// The host name finds two items (ambiguous); the example rule below it, called with those
/// two, picks the one whose MAC neighbours the device's on the same model.
#[tokio::test]
async fn a_custom_rule_decides_what_the_identifiers_left_ambiguous() {
    let path = Path::new("devices.toml");
    let built_in = RuleSet::from_toml(DEVICES, path).unwrap();
    let population = population();
    let index = built_in.index(&population.candidates);
    let laptop = device(LAPTOP);
    assert_eq!(
        decided(&index.decide(&laptop.subject)),
        ("host".into(), vec!["10".into(), "11".into()]),
        "the built-in identifiers alone cannot choose"
    );

    let with_rule = RuleSet::from_toml(
        &format!(
            "{DEVICES}\n[[identifier]]\nrule = \"neighbouring-mac-same-model\"\ncandidates = \"preselected\"\n"
        ),
        path,
    )
    .unwrap();
    let matcher = Matcher::new(with_rule, &rules(&[EXAMPLE_RULE_PATH]).await).unwrap();
    let index = matcher.rules().index(&population.candidates);
    let outcome = matcher.decide(&index, &population, &laptop).await.unwrap();
    assert_eq!(
        decided(&outcome),
        ("neighbouring-mac-same-model".into(), vec!["11".into()])
    );
    let Outcome::Matched { found, .. } = outcome else {
        unreachable!()
    };
    assert_eq!(found.score, 0.7);
    let first = &found.evidence[0];
    assert!(
        first.identifier == "neighbouring-mac-same-model"
            && first.note.as_deref().unwrap_or("").contains("same model"),
        "{first:?}"
    );
    assert!(
        found.evidence.iter().any(|e| e.identifier == "host"),
        "the built-in evidence follows: {:?}",
        found.evidence
    );

    // A device no identifier finds: the preselected rule is not asked, the answer is none.
    let unknown = device(&[
        ("host-name", "nowhere"),
        ("mac-address", "f8:75:a4:10:20:31"),
    ]);
    assert_eq!(
        decided(&matcher.decide(&index, &population, &unknown).await.unwrap()),
        ("none".into(), Vec::new())
    );
}

/// Placed first with the company's candidates, the rule overrides a host-name match: the
/// device named `laptop-7` is the one whose MAC neighbours its own.
#[tokio::test]
async fn a_company_rule_first_overrides_the_identifiers() {
    let text = DEVICES.replacen(
        "[[identifier]]",
        "[[identifier]]\nrule = \"neighbouring-mac-same-model\"\ncandidates = \"company\"\n\n[[identifier]]",
        1,
    );
    let matcher = Matcher::new(
        RuleSet::from_toml(&text, Path::new("devices.toml")).unwrap(),
        &rules(&[EXAMPLE_RULE_PATH]).await,
    )
    .unwrap();
    let population = population();
    let index = matcher.rules().index(&population.candidates);
    let device = device(&[
        ("host-name", "laptop-7"),
        ("mac-address", "f8:75:a4:10:20:31"),
        ("model", "ThinkPad T14 Gen 3"),
    ]);
    assert_eq!(
        decided(&index.decide(&device.subject)),
        ("host".into(), vec!["12".into()]),
        "the built-in identifiers pick laptop-7 by name"
    );
    assert_eq!(
        decided(&matcher.decide(&index, &population, &device).await.unwrap()),
        ("neighbouring-mac-same-model".into(), vec!["11".into()])
    );
}

/// A rule that traps, loops past its deadline or floods its answer: the subject's result is
/// an error naming the rule, never a match (the hostile rule otherwise matches everything).
#[tokio::test]
async fn a_failing_rule_is_an_error_naming_it_never_a_match() {
    let text = format!(
        "{DEVICES}\n[[identifier]]\nrule = \"hostile-rule\"\ncandidates = \"preselected\"\n"
    );
    let matcher = Matcher::new(
        RuleSet::from_toml(&text, Path::new("devices.toml")).unwrap(),
        &rules(&[HOSTILE_RULE_PATH]).await,
    )
    .unwrap();
    let population = population();
    let index = matcher.rules().index(&population.candidates);
    for (attack, why) in [
        ("trap", "crashed"),
        ("spin", "deadline"),
        ("flood", "bad answer"),
    ] {
        let mut pairs = LAPTOP.to_vec();
        pairs.push(("attack", attack));
        let err = matcher
            .decide(&index, &population, &device(&pairs))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`hostile-rule`") && err.contains(why),
            "{attack}: {err}"
        );
    }
    // Well-behaved, it matches both preselected items: ambiguous, by the rule.
    assert_eq!(
        decided(
            &matcher
                .decide(&index, &population, &device(LAPTOP))
                .await
                .unwrap()
        ),
        ("hostile-rule".into(), vec!["10".into(), "11".into()])
    );
}

/// A rule set naming a rule that is not loaded is refused, naming it.
#[tokio::test]
async fn a_missing_rule_is_named() {
    let text = format!("{DEVICES}\n[[identifier]]\nrule = \"absent\"\ncandidates = \"company\"\n");
    let err = Matcher::new(
        RuleSet::from_toml(&text, Path::new("devices.toml")).unwrap(),
        &rules(&[EXAMPLE_RULE_PATH]).await,
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        err.contains("`absent`") && err.contains("neighbouring-mac-same-model"),
        "{err}"
    );
}
