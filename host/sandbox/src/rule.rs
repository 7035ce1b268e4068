//! A matching rule component, called with typed values under the same sandbox as connectors: a
//! fresh instance per call, the memory cap and the deadline. What it answers is bounded and
//! checked before the host uses it, so a rule that misbehaves fails with an error naming it and
//! never produces a match nobody asked for.

pub use crate::bindings::exports::psa::connector::rule_api::{
    Candidate, RuleInfo, Subject, Verdict,
};
use crate::runtime::{CallError, Plugin, Runtime};
use crate::text::one_line;
use anyhow::anyhow;
use std::collections::HashMap;
use std::sync::Arc;

/// The most candidates one `evaluate` call is given: the host narrows larger sets first.
pub const MAX_CANDIDATES: usize = 1_000;

/// The longest reason kept from a verdict, in bytes once made safe for one line; longer ones
/// are cut (at a character, marked `…`).
pub const MAX_REASON_BYTES: usize = 500;

/// The most text (candidate ids and reasons) one answer may carry, in bytes.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A failed rule call: each case names the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The sandbox stopped the call (a trap, the deadline, the memory cap); the message names
    /// the rule as the plugin.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The rule answered something the contract does not allow.
    #[error(
        "matching rule `{rule}` gave a bad answer: {message}; its verdicts were ignored: fix the rule or remove it from the rule set"
    )]
    BadAnswer {
        /// The rule's id.
        rule: String,
        /// What was wrong.
        message: String,
    },
    /// The rule was not called: too many candidates.
    #[error(
        "matching rule `{rule}` was not called: {count} candidates, more than the {MAX_CANDIDATES} one call takes; put a built-in identifier above it or use `candidates = \"preselected\"`"
    )]
    TooManyCandidates {
        /// The rule's id.
        rule: String,
        /// How many candidates there were.
        count: usize,
    },
}

impl RuleError {
    /// The failure's name: the sandbox's ([`CallError::kind`]), `bad-answer` or
    /// `too-many-candidates`.
    pub fn kind(&self) -> &'static str {
        match self {
            RuleError::Call(e) => e.kind(),
            RuleError::BadAnswer { .. } => "bad-answer",
            RuleError::TooManyCandidates { .. } => "too-many-candidates",
        }
    }
}

/// A loaded matching rule, ready to evaluate subjects. Cheap to clone.
#[derive(Clone)]
pub struct Rule {
    runtime: Arc<Runtime>,
    plugin: Arc<Plugin>,
}

impl Rule {
    /// Wraps `plugin`, which must be a matching rule.
    pub fn open(runtime: Arc<Runtime>, plugin: Arc<Plugin>) -> anyhow::Result<Rule> {
        if plugin.rule_indices().is_none() {
            return Err(anyhow!(
                "plugin `{}` is a connector, not a matching rule: a rule set names matching rules",
                plugin.id()
            ));
        }
        Ok(Rule { runtime, plugin })
    }

    /// The rule's id (from `describe`).
    pub fn id(&self) -> &str {
        self.plugin.id()
    }

    /// What the rule said about itself.
    pub fn info(&self) -> &RuleInfo {
        self.plugin
            .rule_info()
            .expect("a rule always holds a matching rule")
    }

    /// The plugin.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// The rule's verdicts on `candidates` (at most [`MAX_CANDIDATES`]), one per candidate at
    /// most, in the candidates' order. Verdicts on ids that were not asked about are dropped;
    /// reasons are cut to [`MAX_REASON_BYTES`] and made safe for one line. More verdicts than
    /// candidates, two verdicts on one candidate, a score over 100 or more than
    /// [`MAX_ANSWER_BYTES`] of text make the answer bad, and none of it is used.
    pub async fn evaluate(
        &self,
        subject: Subject,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<Verdict>, RuleError> {
        if candidates.len() > MAX_CANDIDATES {
            return Err(RuleError::TooManyCandidates {
                rule: self.id().to_string(),
                count: candidates.len(),
            });
        }
        let indices = self
            .plugin
            .rule_indices()
            .expect("a rule always holds a matching rule")
            .clone();
        let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
        let verdicts = self
            .runtime
            .call(&self.plugin, None, "evaluate", move |store, instance| {
                Box::pin(async move {
                    let guest = indices.load(&mut *store, instance)?;
                    guest.call_evaluate(store, &subject, &candidates).await
                })
            })
            .await?;
        self.check(&ids, verdicts).map_err(|message| {
            let err = RuleError::BadAnswer {
                rule: self.id().to_string(),
                message,
            };
            tracing::warn!(rule = self.id(), "{err}");
            err
        })
    }

    /// The answer, checked and bounded, in the order of `ids`.
    fn check(&self, ids: &[String], verdicts: Vec<Verdict>) -> Result<Vec<Verdict>, String> {
        if verdicts.len() > ids.len() {
            return Err(format!(
                "{} verdicts for {} candidates: at most one per candidate",
                verdicts.len(),
                ids.len()
            ));
        }
        let text: usize = verdicts
            .iter()
            .map(|v| v.candidate_id.len() + v.reason.len())
            .sum();
        if text > MAX_ANSWER_BYTES {
            return Err(format!(
                "{text} bytes of text, over the {MAX_ANSWER_BYTES} an answer may carry"
            ));
        }
        let position: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| (id.as_str(), n))
            .collect();
        let mut kept: Vec<Option<Verdict>> = vec![None; ids.len()];
        let mut unknown = 0usize;
        for mut verdict in verdicts {
            if verdict.score > 100 {
                return Err(format!(
                    "score {} for candidate `{}`: scores go from 0 to 100",
                    verdict.score,
                    one_line(&cut(&verdict.candidate_id, 100))
                ));
            }
            let Some(&at) = position.get(verdict.candidate_id.as_str()) else {
                unknown += 1;
                continue;
            };
            if kept[at].is_some() {
                return Err(format!(
                    "two verdicts for candidate `{}`: at most one per candidate",
                    one_line(&verdict.candidate_id)
                ));
            }
            // Escaped first, so the cut bounds what is shown.
            verdict.reason = cut(&one_line(&verdict.reason), MAX_REASON_BYTES);
            kept[at] = Some(verdict);
        }
        if unknown > 0 {
            // Not an error: a rule may know its candidates by another id. Said once per call.
            tracing::debug!(
                rule = self.id(),
                "{unknown} verdicts named no candidate of the call and were ignored"
            );
        }
        Ok(kept.into_iter().flatten().collect())
    }
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cut_keeps_characters_whole() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdef", 3), "abc…");
        // `é` is two bytes: cutting inside it keeps the character before.
        assert_eq!(cut("aé", 2), "a…");
    }
}
