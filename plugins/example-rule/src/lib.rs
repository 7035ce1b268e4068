//! An example `matching-rule` component: links a device to a configuration item by serial
//! number, else by host name against the configuration's name.
//!
//! Identifiers are compared trimmed and case-insensitively; empty values and the placeholder
//! `Unknown` never match (a device whose only identifier is `Unknown` is not synced). A serial
//! number that is present on both sides and differs rules the candidate out even if the names
//! agree: two machines may share a name, not a serial.

use psa_sdk::prelude::*;

struct SerialThenHostname;

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_lowercase())
        .filter(|v| !v.is_empty() && v != "unknown")
}

/// The verdict on one candidate.
pub fn judge(subject: &[(String, String)], candidate: &Candidate) -> Verdict {
    let subject_serial = field(subject, "serial-number");
    let subject_host = field(subject, "host-name");
    let candidate_serial = field(&candidate.fields, "serial-number");
    let candidate_name = field(&candidate.fields, "name");
    let (matched, score, reason) = match (&subject_serial, &candidate_serial) {
        (Some(a), Some(b)) if a == b => (true, 100, format!("serial number {a} matches")),
        (Some(a), Some(b)) => (false, 0, format!("serial numbers differ ({a} vs {b})")),
        _ => match (&subject_host, &candidate_name) {
            (Some(a), Some(b)) if a == b => (true, 80, format!("host name {a} matches the name")),
            (Some(_), Some(_)) => (false, 0, "host name differs from the name".to_string()),
            _ => (false, 0, "no identifier to compare".to_string()),
        },
    };
    Verdict {
        candidate_id: candidate.id.clone(),
        matched,
        score,
        reason,
    }
}

impl MatchingRule for SerialThenHostname {
    fn describe() -> RuleInfo {
        RuleInfo {
            id: "serial-then-hostname".into(),
            name: "Serial number, then host name".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description:
                "Matches devices to configuration items by serial number, else by host name".into(),
            subject_kinds: vec!["device".into()],
            candidate_entities: vec!["configuration".into()],
        }
    }

    fn evaluate(subject: Subject, candidates: Vec<Candidate>) -> Vec<Verdict> {
        psa_sdk::debug!(
            "evaluating device {} against {} candidates",
            subject.id,
            candidates.len()
        );
        candidates
            .iter()
            .map(|c| judge(&subject.fields, c))
            .collect()
    }
}

psa_sdk::export_rule!(SerialThenHostname);

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn candidate(pairs: &[(&str, &str)]) -> Candidate {
        Candidate {
            entity: "configuration".into(),
            id: "7".into(),
            fields: fields(pairs),
            raw: "{}".into(),
        }
    }

    #[test]
    fn serial_wins_over_name() {
        let s = fields(&[("serial-number", " ABC1 "), ("host-name", "pc-1")]);
        assert!(
            judge(
                &s,
                &candidate(&[("serial-number", "abc1"), ("name", "other")])
            )
            .matched
        );
        let v = judge(
            &s,
            &candidate(&[("serial-number", "zzz"), ("name", "pc-1")]),
        );
        assert!(!v.matched, "{}", v.reason);
    }

    #[test]
    fn unknown_never_matches() {
        let s = fields(&[("serial-number", "Unknown"), ("host-name", "unknown")]);
        let v = judge(
            &s,
            &candidate(&[("serial-number", "unknown"), ("name", "Unknown")]),
        );
        assert!(!v.matched);
    }

    #[test]
    fn falls_back_to_host_name() {
        let s = fields(&[("host-name", "PC-1")]);
        let v = judge(&s, &candidate(&[("name", "pc-1")]));
        assert!(v.matched);
        assert_eq!(v.score, 80);
    }
}
