//! An example `matching-rule` component: finds the configuration item of a device seen through
//! another network interface.
//!
//! The built-in identifiers match equal serials, MACs and host names. A laptop reported by its
//! Wi-Fi adapter while the PSA holds its Ethernet address (or a dock's) matches none of them,
//! yet the interfaces of one machine usually carry addresses from one vendor block, close
//! together, on one model. This rule matches a candidate when:
//! - the models agree (case, space and punctuation folded), and
//! - some MAC of the device and some MAC of the candidate share the vendor prefix (the first
//!   three bytes) and their last three bytes differ by at most [`NEIGHBOURHOOD`], and
//! - their serial numbers do not conflict (both real and different rules the candidate out;
//!   placeholders such as `To be filled by O.E.M.` are ignored).
//!
//! Scores: 100 for an identical MAC, 90 for a neighbouring one when the serials also agree,
//! 70 for a neighbouring one alone. Fields read: `mac-address` (repeatable), `model`,
//! `serial-number`, on both sides.

use psa_sdk::prelude::*;

/// How far apart, in their last three bytes, two MACs of one machine may be.
pub const NEIGHBOURHOOD: u32 = 8;

struct NeighbouringMac;

/// Every value of `name` (a field may repeat).
fn values<'a>(fields: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    fields
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A MAC address in any notation (`00:1A:2B:3C:4D:5E`, `00-1a-...`, `001a.2b3c.4d5e`, bare) as
/// its 48 bits; `None` for anything else and for the all-zero and broadcast addresses.
pub fn mac(text: &str) -> Option<u64> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 {
        return None;
    }
    let bits = u64::from_str_radix(&hex, 16).ok()?;
    (bits != 0 && bits != 0xffff_ffff_ffff).then_some(bits)
}

/// Lowercase letters and digits only: `ThinkPad T14 Gen 3` and `thinkpad-t14-gen3` agree.
fn folded(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A serial number that identifies a machine (folded), or `None` for a placeholder.
fn serial(text: &str) -> Option<String> {
    let s = folded(text);
    let placeholder = [
        "unknown",
        "tobefilledbyoem",
        "defaultstring",
        "na",
        "none",
        "systemserialnumber",
        "notspecified",
        "0123456789",
        "123456789",
    ];
    let first = s.chars().next()?;
    (s.len() >= 3 && !placeholder.contains(&s.as_str()) && !s.chars().all(|c| c == first))
        .then_some(s)
}

/// The closest pair of MACs of one vendor block: the distance of their last three bytes.
fn closest(ours: &[u64], theirs: &[u64]) -> Option<u32> {
    ours.iter()
        .flat_map(|a| theirs.iter().map(move |b| (a, b)))
        .filter(|(a, b)| *a >> 24 == *b >> 24)
        .map(|(a, b)| ((a & 0xff_ffff) as i64 - (b & 0xff_ffff) as i64).unsigned_abs() as u32)
        .min()
}

/// The verdict on one candidate.
pub fn judge(subject: &[(String, String)], candidate: &Candidate) -> Verdict {
    let verdict = |matched: bool, score: u8, reason: String| Verdict {
        candidate_id: candidate.id.clone(),
        matched,
        score,
        reason,
    };
    let macs = |fields| {
        values(fields, "mac-address")
            .filter_map(mac)
            .collect::<Vec<_>>()
    };
    let (ours, theirs) = (macs(subject), macs(&candidate.fields));
    let model = |fields| values(fields, "model").map(folded).find(|m| !m.is_empty());
    let (our_model, their_model) = (model(subject), model(&candidate.fields));
    let serials = |fields| values(fields, "serial-number").find_map(serial);
    let serials_agree = match (serials(subject), serials(&candidate.fields)) {
        (Some(a), Some(b)) if a != b => {
            return verdict(false, 0, format!("serial numbers differ ({a} vs {b})"));
        }
        (Some(_), Some(_)) => true,
        _ => false,
    };
    match closest(&ours, &theirs) {
        None => verdict(false, 0, "no MAC address of the same vendor block".into()),
        Some(0) => verdict(true, 100, "a MAC address is the same".into()),
        Some(d) if d > NEIGHBOURHOOD => verdict(
            false,
            0,
            format!("the nearest MAC address of the same vendor block is {d} apart"),
        ),
        Some(d) => match (our_model, their_model) {
            (Some(a), Some(b)) if a == b => verdict(
                true,
                if serials_agree { 90 } else { 70 },
                format!(
                    "a MAC address {d} apart in the same vendor block, same model {a}{}",
                    if serials_agree {
                        ", same serial number"
                    } else {
                        ""
                    }
                ),
            ),
            (Some(a), Some(b)) => verdict(false, 0, format!("the models differ ({a} vs {b})")),
            _ => verdict(
                false,
                0,
                "a neighbouring MAC address, but no model to confirm it".into(),
            ),
        },
    }
}

impl MatchingRule for NeighbouringMac {
    fn describe() -> RuleInfo {
        RuleInfo {
            id: "neighbouring-mac-same-model".into(),
            name: "Neighbouring MAC address, same model".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description: "Matches a device seen through another network interface: a MAC \
                          address of the same vendor block a few addresses away, on the same \
                          model, serial numbers not conflicting"
                .into(),
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

psa_sdk::export_rule!(NeighbouringMac);

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

    const LAPTOP: &[(&str, &str)] = &[
        ("mac-address", "F8:75:A4:10:20:31"),
        ("model", "ThinkPad T14 Gen 3"),
        ("serial-number", "PF3ABCDE"),
    ];

    #[test]
    fn macs_in_every_notation() {
        for text in [
            "00:1A:2B:3C:4D:5E",
            "00-1a-2b-3c-4d-5e",
            "001a.2b3c.4d5e",
            "001A2B3C4D5E",
        ] {
            assert_eq!(mac(text), Some(0x001a_2b3c_4d5e), "{text}");
        }
        for text in [
            "00:00:00:00:00:00",
            "ff:ff:ff:ff:ff:ff",
            "00:1a:2b",
            "zz:1a:2b:3c:4d:5e",
        ] {
            assert_eq!(mac(text), None, "{text}");
        }
    }

    #[test]
    fn another_interface_of_the_same_machine_matches() {
        let v = judge(
            &fields(LAPTOP),
            &candidate(&[
                ("mac-address", "f8-75-a4-10-20-2f"),
                ("model", "thinkpad-t14-gen3"),
                ("serial-number", "pf3abcde"),
            ]),
        );
        assert!(v.matched && v.score == 90, "{v:?}");
        // No serial on the PSA side: still a match, with less confidence.
        let v = judge(
            &fields(LAPTOP),
            &candidate(&[
                ("mac-address", "f875a4102035"),
                ("model", "ThinkPad T14 Gen 3"),
                ("serial-number", "To be filled by O.E.M."),
            ]),
        );
        assert!(v.matched && v.score == 70, "{v:?}");
        // Any of several MACs on either side.
        let v = judge(
            &fields(&[
                ("mac-address", "00:11:22:33:44:55"),
                ("mac-address", "F8:75:A4:10:20:31"),
                ("model", "x1"),
            ]),
            &candidate(&[
                ("mac-address", "aa:bb:cc:00:00:01"),
                ("mac-address", "f8:75:a4:10:20:30"),
                ("model", "X-1"),
            ]),
        );
        assert!(v.matched, "{v:?}");
    }

    #[test]
    fn what_rules_a_candidate_out() {
        let far = candidate(&[
            ("mac-address", "f8:75:a4:10:30:31"),
            ("model", "ThinkPad T14 Gen 3"),
        ]);
        let other_vendor = candidate(&[
            ("mac-address", "f8:75:a5:10:20:31"),
            ("model", "ThinkPad T14 Gen 3"),
        ]);
        let other_model = candidate(&[
            ("mac-address", "f8:75:a4:10:20:32"),
            ("model", "ThinkPad X1"),
        ]);
        let no_model = candidate(&[("mac-address", "f8:75:a4:10:20:32")]);
        let other_serial = candidate(&[
            ("mac-address", "f8:75:a4:10:20:31"),
            ("model", "ThinkPad T14 Gen 3"),
            ("serial-number", "PF3ZZZZZ"),
        ]);
        for (c, why) in [
            (far, "4096 apart"),
            (other_vendor, "no MAC address of the same vendor block"),
            (other_model, "the models differ"),
            (no_model, "no model to confirm"),
            (other_serial, "serial numbers differ"),
        ] {
            let v = judge(&fields(LAPTOP), &c);
            assert!(!v.matched && v.reason.contains(why), "{why}: {v:?}");
        }
    }

    #[test]
    fn an_identical_mac_matches_outright() {
        let v = judge(
            &fields(LAPTOP),
            &candidate(&[("mac-address", "f8:75:a4:10:20:31")]),
        );
        assert!(v.matched && v.score == 100, "{v:?}");
    }
}
