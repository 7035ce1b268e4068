//! Linking the tool's records to PSA records: rule sets decided with their custom rule
//! components ([`Matcher`]), and the customer linking of audIT ([`customers`]).
//!
//! `psahost-matching` is pure and synchronous, so the priority list is walked here, where a
//! custom rule can be called in the sandbox:
//! - a built-in identifier that finds one candidate decides (`matched`); one that finds several
//!   decides `ambiguous`, unless a custom rule stands below it: then its candidates are the
//!   *preselection*, and the steps below only look among them (an identifier narrows it, a
//!   `preselected` rule judges it);
//! - a custom rule is called with the preselection (`candidates = "preselected"`) or with every
//!   candidate of the subject's company (`"company"`); its matching verdicts decide like an
//!   identifier's findings, score = the rule's score / 100, evidence = its reason;
//! - a rule that traps, runs out of time or answers badly makes the subject's result an error
//!   naming the rule: never a match.

pub mod customers;
pub mod kept;

use psahost_matching::rules::{
    Candidate, Evidence, Found, Index, Outcome, RuleCandidates, RuleSet, Step, Subject,
};
use psahost_sandbox::rule::{self as wit, Rule, RuleError};
use std::collections::HashMap;

/// A rule set with the custom rules it names, ready to decide subjects.
pub struct Matcher {
    rules: RuleSet,
    custom: HashMap<String, Rule>,
}

/// The tool's record with what a custom rule is shown of it.
pub struct SubjectRecord {
    /// The identifying fields the engine compares.
    pub subject: Subject,
    /// What it is (`device`, `customer`).
    pub kind: String,
    /// The tool's complete record, as JSON.
    pub raw: String,
}

/// What a custom rule is shown of the candidates besides their fields: their entity and
/// their complete records.
pub trait Records: Sync {
    /// The PSA entity (`company`, `configuration`).
    fn entity(&self) -> &str;
    /// The record of `candidate`, at position `at` of the index, as JSON.
    fn raw(&self, at: usize, candidate: &Candidate) -> String;
}

impl Records for Population {
    fn entity(&self) -> &str {
        &self.entity
    }

    fn raw(&self, at: usize, _: &Candidate) -> String {
        self.raw.get(at).cloned().unwrap_or_else(|| "{}".into())
    }
}

/// The candidates with what a custom rule is shown of them, position by position.
pub struct Population {
    /// The PSA entity (`company`, `configuration`).
    pub entity: String,
    /// The candidates the engine compares.
    pub candidates: Vec<Candidate>,
    /// Each candidate's record as JSON (same positions).
    pub raw: Vec<String>,
}

impl Matcher {
    /// Binds `rules` to the loaded matching rules `available`: every custom rule the set
    /// names must be among them.
    pub fn new(rules: RuleSet, available: &[Rule]) -> anyhow::Result<Matcher> {
        let mut custom = HashMap::new();
        for named in &rules.custom {
            let rule = available
                .iter()
                .find(|r| r.id() == named.rule)
                .ok_or_else(|| {
                    let loaded: Vec<&str> = available.iter().map(Rule::id).collect();
                    anyhow::anyhow!(
                        "the rule set names matching rule `{}`, which is not loaded (loaded: {}): load its component (`--rule-plugin FILE`) or remove it from the rule set",
                        named.rule,
                        if loaded.is_empty() {
                            "none".to_string()
                        } else {
                            loaded.join(", ")
                        }
                    )
                })?;
            custom.insert(named.rule.clone(), rule.clone());
        }
        Ok(Matcher { rules, custom })
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Decides `subject` against the indexed `population` ([`RuleSet::index`] of its
    /// candidates, by [`Matcher::rules`], or a kept index's view).
    pub async fn decide(
        &self,
        index: &Index<'_>,
        population: &dyn Records,
        subject: &SubjectRecord,
    ) -> Result<Outcome, RuleError> {
        // The steps are this matcher's: a kept index is shared by the rule sets that differ
        // only in their custom rules, so the index's own may name other rules (or none).
        let rules = &self.rules;
        debug_assert_eq!(rules.identifiers, index.rules().identifiers);
        let steps = rules.steps();
        let mut preselected: Option<(String, Vec<(usize, Found)>)> = None;
        for (i, step) in steps.iter().enumerate() {
            let rule_below = steps[i + 1..].iter().any(|s| matches!(s, Step::Rule(_)));
            let (name, found) = match step {
                Step::Identifier(n) => {
                    let within: Option<Vec<usize>> = preselected
                        .as_ref()
                        .map(|(_, found)| found.iter().map(|(at, _)| *at).collect());
                    (
                        rules.identifiers[*n].name.clone(),
                        index.find(*n, &subject.subject, within.as_deref()),
                    )
                }
                Step::Rule(custom) => {
                    let at: Vec<usize> = match custom.candidates {
                        RuleCandidates::Preselected => match &preselected {
                            Some((_, found)) => found.iter().map(|(at, _)| *at).collect(),
                            None => continue,
                        },
                        RuleCandidates::Company => index.of_company(&subject.subject),
                    };
                    if at.is_empty() {
                        continue;
                    }
                    let rule = &self.custom[&custom.rule];
                    (
                        custom.rule.clone(),
                        self.ask(rule, index, population, subject, &at).await?,
                    )
                }
            };
            match found.len() {
                0 => {}
                1 => {
                    let (_, found) = found.into_iter().next().expect("one");
                    return Ok(Outcome::Matched {
                        identifier: name,
                        found,
                    });
                }
                _ if rule_below => preselected = Some((name, found)),
                _ => {
                    return Ok(Outcome::Ambiguous {
                        identifier: name,
                        found: found.into_iter().map(|(_, f)| f).collect(),
                    });
                }
            }
        }
        Ok(match preselected {
            Some((identifier, found)) => Outcome::Ambiguous {
                identifier,
                found: found.into_iter().map(|(_, f)| f).collect(),
            },
            None => Outcome::None,
        })
    }

    /// The candidates at `at` that `rule` matches, best score first, with its reason as the
    /// first evidence.
    async fn ask(
        &self,
        rule: &Rule,
        index: &Index<'_>,
        population: &dyn Records,
        subject: &SubjectRecord,
        at: &[usize],
    ) -> Result<Vec<(usize, Found)>, RuleError> {
        let candidates = at
            .iter()
            .map(|&a| wit::Candidate {
                entity: population.entity().to_string(),
                id: index.candidate(a).id.clone(),
                fields: pairs(&index.candidate(a).fields),
                raw: population.raw(a, index.candidate(a)),
            })
            .collect();
        let wit_subject = wit::Subject {
            kind: subject.kind.clone(),
            id: subject.subject.id.clone(),
            fields: pairs(&subject.subject.fields),
            raw: subject.raw.clone(),
        };
        let verdicts = rule.evaluate(wit_subject, candidates).await?;
        let by_id: HashMap<&str, usize> = at
            .iter()
            .map(|&a| (index.candidate(a).id.as_str(), a))
            .collect();
        let mut found: Vec<(usize, Found)> = verdicts
            .into_iter()
            .filter(|v| v.matched)
            .filter_map(|v| {
                let a = *by_id.get(v.candidate_id.as_str())?;
                let candidate = index.candidate(a);
                let score = f64::from(v.score) / 100.0;
                let mut evidence = vec![Evidence {
                    identifier: rule.id().to_string(),
                    subject_value: String::new(),
                    candidate_value: String::new(),
                    score,
                    note: Some(v.reason),
                }];
                evidence.extend(self.rules.evidence(&subject.subject, candidate));
                Some((
                    a,
                    Found {
                        candidate: candidate.id.clone(),
                        score,
                        evidence,
                    },
                ))
            })
            .collect();
        found.sort_by(|(_, a), (_, b)| {
            b.score
                .total_cmp(&a.score)
                .then(a.candidate.cmp(&b.candidate))
        });
        Ok(found)
    }
}

/// Fields as the WIT's pairs, a repeated field once per value.
fn pairs(fields: &psahost_matching::rules::Fields) -> Vec<(String, String)> {
    fields
        .iter()
        .flat_map(|(k, values)| values.iter().map(move |v| (k.clone(), v.clone())))
        .collect()
}
