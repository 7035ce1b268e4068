//! A matching rule that misbehaves on purpose, so the host's rule calls can be tested against it.
//!
//! A rule has no settings, so the subject's field `attack` (or, failing that, its `address`,
//! which customer linking passes through) picks what `evaluate` does:
//! - `trap`: panics;
//! - `spin`: loops forever (the deadline must end it);
//! - `memory`: allocates until the memory cap stops it;
//! - `flood`: two verdicts per candidate;
//! - `duplicate`: a second verdict on the first candidate (in place of the last one's);
//! - `strangers`: `none`'s answer with the last verdict on an id nobody asked about;
//! - `long-reason`: one verdict per candidate whose reason is field `size` bytes (default
//!   100,000) of text with terminal controls;
//! - `bad-score`: a score of 200;
//! - anything else (`none`): a matching verdict, score 50, on every candidate.

use psa_sdk::prelude::*;

struct HostileRule;

fn field<'a>(subject: &'a Subject, name: &str) -> Option<&'a str> {
    subject
        .fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn verdict(id: &str, reason: String) -> Verdict {
    Verdict {
        candidate_id: id.into(),
        matched: true,
        score: 50,
        reason,
    }
}

impl MatchingRule for HostileRule {
    fn describe() -> RuleInfo {
        RuleInfo {
            id: "hostile-rule".into(),
            name: "Hostile test rule".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost tests".into(),
            description: "Misbehaves on purpose to exercise the host's rule calls".into(),
            subject_kinds: vec!["device".into(), "customer".into()],
            candidate_entities: vec!["configuration".into(), "company".into()],
        }
    }

    fn evaluate(subject: Subject, candidates: Vec<Candidate>) -> Vec<Verdict> {
        let every = |reason: &str| -> Vec<Verdict> {
            candidates
                .iter()
                .map(|c| verdict(&c.id, reason.into()))
                .collect()
        };
        let attack = field(&subject, "attack").or_else(|| field(&subject, "address"));
        match attack.unwrap_or("none") {
            "trap" => panic!("hostile rule: trap on purpose"),
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            "flood" => {
                let mut all = every("first");
                all.extend(every("second"));
                all
            }
            "duplicate" => {
                let mut all = every("once");
                if let (Some(first), Some(last)) = (candidates.first(), all.last_mut()) {
                    *last = verdict(&first.id, "twice".into());
                }
                all
            }
            "strangers" => {
                let mut all = every("asked");
                all.pop();
                all.push(verdict("nobody-asked", "a stranger".into()));
                all
            }
            "long-reason" => {
                let size = field(&subject, "size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(100_000usize);
                let reason: String = "\u{1b}[2Kx\n".chars().cycle().take(size).collect();
                every(&reason)
            }
            "bad-score" => candidates
                .iter()
                .map(|c| Verdict {
                    score: 200,
                    ..verdict(&c.id, "too sure".into())
                })
                .collect(),
            _ => every("matches everything"),
        }
    }
}

psa_sdk::export_rule!(HostileRule);
