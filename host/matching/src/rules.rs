//! Rules as data: a rule set lists identifiers in priority order, each a pair of fields (the
//! tool's, the PSA record's) with a [`Comparator`], plus conditions on the candidates. The
//! first identifier that finds candidates decides: one candidate is `matched`, several are
//! `ambiguous` (all reported, none chosen), and when no identifier finds one the answer is
//! `none`.
//!
//! A rule set is TOML, for example:
//!
//! ```toml
//! [conditions]
//! active-only = true        # inactive PSA records never match
//! same-company = true       # a candidate must belong to the subject's company
//!
//! [[identifier]]
//! name = "serial"
//! subject = "serial"        # the tool's field
//! candidate = "serial-number"
//! compare = "serial"        # exact, folded, serial, mac, host-name, ip, company-name,
//!                           # email, domain, phone, similar
//!
//! [[identifier]]
//! name = "name"
//! subject = "name"
//! candidate = "name"
//! compare = "similar"
//! threshold = 0.92          # similar only: Jaro-Winkler from 0 to 1
//!
//! [[identifier]]             # a custom rule component, at any position
//! rule = "neighbouring-mac-same-model"
//! candidates = "preselected"  # those the identifiers above found (several of them), or
//!                             # "company": every candidate of the subject's company
//! ```
//!
//! Custom rules run in the sandbox, so this crate only describes them ([`CustomRule`]) and
//! offers the steps the host needs around them ([`Index::find`], [`Index::of_company`]);
//! `psahost_workflows::linking` decides rule sets that name one. [`RuleSet::decide`] and
//! [`Index::decide`] are the built-in identifiers' decision alone.

use super::Comparator;
use anyhow::{Context, anyhow};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

/// A record's identifying fields: each field may hold several values (e-mails, MACs, phones).
pub type Fields = BTreeMap<String, Vec<String>>;

/// What is being matched: the tool's record.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    /// The tool's id of the record.
    pub id: String,
    /// Its fields.
    pub fields: Fields,
    /// The PSA company it is known to belong to, if any (for `same-company`).
    pub company: Option<String>,
    /// Its kind (a configuration type), if any (for `same-type`).
    pub kind: Option<String>,
}

/// A PSA record it may match.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    /// The PSA's id.
    pub id: String,
    /// Its fields.
    pub fields: Fields,
    /// Whether the PSA has it active.
    pub active: bool,
    /// Its company's id, if any.
    pub company: Option<String>,
    /// Its kind, if any.
    pub kind: Option<String>,
}

/// One identifier of a rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct Identifier {
    /// Its name, shown as the evidence's source.
    pub name: String,
    /// The tool's field.
    pub subject_field: String,
    /// The PSA record's field.
    pub candidate_field: String,
    /// How the two compare.
    pub comparator: Comparator,
}

/// Which candidates may match at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Only active PSA records.
    pub active_only: bool,
    /// Only records of the subject's company (when the subject names one).
    pub same_company: bool,
    /// Only records of the subject's kind (when the subject names one).
    pub same_kind: bool,
}

/// Which candidates a custom rule is called with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleCandidates {
    /// The candidates the built-in identifiers above it found (when one found several).
    Preselected,
    /// Every candidate of the subject's company the conditions allow.
    Company,
}

/// A custom rule component named in a rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomRule {
    /// The rule's plugin id.
    pub rule: String,
    /// What it is called with.
    pub candidates: RuleCandidates,
    /// How many built-in identifiers stand above it.
    pub position: usize,
}

/// One step of a rule set's priority list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step<'r> {
    /// Built-in identifier `n` ([`RuleSet::identifiers`]).
    Identifier(usize),
    /// A custom rule.
    Rule(&'r CustomRule),
}

/// A rule set: identifiers in priority order and conditions.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// The built-in identifiers, highest priority first.
    pub identifiers: Vec<Identifier>,
    /// The custom rules, each with its place among the identifiers.
    pub custom: Vec<CustomRule>,
    /// Applied before any identifier.
    pub conditions: Conditions,
}

/// One field pair that agreed.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// The identifier's name.
    pub identifier: String,
    /// The tool's value.
    pub subject_value: String,
    /// The PSA record's value.
    pub candidate_value: String,
    /// How well they agreed (1 for equal keys).
    pub score: f64,
    /// A custom rule's reason (the values are empty then).
    pub note: Option<String>,
}

/// A candidate an identifier found, with everything that agreed.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The PSA record's id.
    pub candidate: String,
    /// The deciding identifier's score.
    pub score: f64,
    /// Every identifier of the rule set that agreed for this candidate, in priority order.
    pub evidence: Vec<Evidence>,
}

/// The decision for one subject.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// One candidate, found by `identifier`.
    Matched {
        /// The identifier that decided.
        identifier: String,
        /// The candidate.
        found: Found,
    },
    /// Several candidates at the best priority: none is chosen.
    Ambiguous {
        /// The identifier that found them.
        identifier: String,
        /// All of them, best score first.
        found: Vec<Found>,
    },
    /// No identifier found a candidate.
    None,
}

impl RuleSet {
    /// The priority list: built-in identifiers and custom rules in the order written.
    pub fn steps(&self) -> Vec<Step<'_>> {
        let mut steps = Vec::with_capacity(self.identifiers.len() + self.custom.len());
        let mut custom = self.custom.iter().peekable();
        for n in 0..=self.identifiers.len() {
            while let Some(rule) = custom.next_if(|r| r.position == n) {
                steps.push(Step::Rule(rule));
            }
            if n < self.identifiers.len() {
                steps.push(Step::Identifier(n));
            }
        }
        steps
    }

    /// Decides `subject` against `candidates` (those the conditions allow) by the built-in
    /// identifiers (custom rules are the host's), comparing it with every candidate: for a few
    /// candidates; [`RuleSet::index`] for many.
    pub fn decide(&self, subject: &Subject, candidates: &[Candidate]) -> Outcome {
        self.decide_among(
            subject,
            |_| candidates.iter().enumerate().collect(),
            |n, _, c| Some(self.identifiers[n].score(subject, c)?.score),
        )
    }

    /// The decision, with `among(identifier)` giving the candidates worth comparing for it
    /// (with their positions) and `score(identifier, position, candidate)` how well one agrees.
    fn decide_among<'c>(
        &self,
        subject: &Subject,
        among: impl Fn(usize) -> Vec<(usize, &'c Candidate)>,
        score: impl Fn(usize, usize, &Candidate) -> Option<f64>,
    ) -> Outcome {
        for (n, identifier) in self.identifiers.iter().enumerate() {
            let mut found: Vec<Found> = among(n)
                .into_iter()
                .filter(|(_, c)| self.conditions.allow(subject, c))
                .filter_map(|(at, c)| {
                    let score = score(n, at, c)?;
                    Some(Found {
                        candidate: c.id.clone(),
                        score,
                        evidence: self.evidence(subject, c),
                    })
                })
                .collect();
            match found.len() {
                0 => continue,
                1 => {
                    return Outcome::Matched {
                        identifier: identifier.name.clone(),
                        found: found.remove(0),
                    };
                }
                _ => {
                    found.sort_by(|a, b| {
                        b.score
                            .total_cmp(&a.score)
                            .then(a.candidate.cmp(&b.candidate))
                    });
                    return Outcome::Ambiguous {
                        identifier: identifier.name.clone(),
                        found,
                    };
                }
            }
        }
        Outcome::None
    }

    /// Indexes `candidates` by each identifier's keys, so that deciding a subject looks its
    /// keys up instead of comparing it with every candidate: N subjects against M candidates
    /// cost about N + M. `similar` identifiers compare only candidates that share a blocking
    /// key (the first two characters of the first two words), as record linkage does.
    /// [`OwnedIndex`] is the same index owning its candidates, updatable one by one.
    pub fn index<'c>(&'c self, candidates: &'c [Candidate]) -> Index<'c> {
        let mut table = Table::new(self, candidates.len());
        for (at, candidate) in candidates.iter().enumerate() {
            table.add(self, at, candidate);
        }
        Index {
            rules: self,
            candidates,
            table: std::borrow::Cow::Owned(table),
        }
    }

    /// Every built-in identifier that agrees for `candidate`, in priority order.
    pub fn evidence(&self, subject: &Subject, candidate: &Candidate) -> Vec<Evidence> {
        self.identifiers
            .iter()
            .filter_map(|i| i.score(subject, candidate))
            .collect()
    }

    /// Reads a rule set from TOML; `path` names the file in errors, which also give the line
    /// and the field.
    pub fn from_toml(text: &str, path: &Path) -> anyhow::Result<RuleSet> {
        let at = |span: std::ops::Range<usize>| {
            1 + text[..span.start.min(text.len())].matches('\n').count()
        };
        let raw: RawRuleSet = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(at)
                .map_or(String::new(), |l| format!(", line {l}"));
            anyhow!(
                "invalid rule set `{}`{line}: {}",
                path.display(),
                e.message()
            )
        })?;
        let mut identifiers = Vec::new();
        let mut custom = Vec::new();
        for (n, entry) in raw.identifier.iter().enumerate() {
            let raw_id = entry.get_ref();
            let field = |name: &str| format!("identifier[{}].{name}", n + 1);
            let bad = |span: std::ops::Range<usize>, name: &str, why: String| {
                anyhow!(
                    "invalid rule set `{}`, line {}, `{}`: {why}",
                    path.display(),
                    at(span),
                    field(name)
                )
            };
            if let Some(rule) = &raw_id.rule {
                custom.push(custom_rule(raw_id, rule, identifiers.len(), &bad)?);
                continue;
            }
            let (Some(name), Some(subject), Some(candidate), Some(compare)) = (
                &raw_id.name,
                &raw_id.subject,
                &raw_id.candidate,
                &raw_id.compare,
            ) else {
                return Err(bad(
                    entry.span(),
                    "compare",
                    "an identifier needs `name`, `subject`, `candidate` and `compare` (or `rule` and `candidates` for a custom rule)".into(),
                ));
            };
            let compare_span = compare.span();
            let compare = compare.get_ref().as_str();
            let comparator = match compare {
                "exact" => Comparator::Exact,
                "folded" => Comparator::Folded,
                "serial" => Comparator::Serial,
                "mac" => Comparator::Mac,
                "host-name" => Comparator::HostName,
                "ip" => Comparator::Ip,
                "company-name" => Comparator::CompanyName,
                "email" => Comparator::Email,
                "domain" => Comparator::Domain,
                "phone" => Comparator::Phone,
                "similar" => match &raw_id.threshold {
                    Some(t) if (0.5..=1.0).contains(t.get_ref()) => {
                        Comparator::Similar(*t.get_ref())
                    }
                    Some(t) => {
                        return Err(bad(
                            t.span(),
                            "threshold",
                            format!("`{}` is not between 0.5 and 1", t.get_ref()),
                        ));
                    }
                    None => {
                        return Err(bad(
                            compare_span.clone(),
                            "threshold",
                            "`similar` needs a `threshold` between 0.5 and 1 (0.92 is a good start)"
                                .into(),
                        ));
                    }
                },
                other => {
                    return Err(bad(
                        compare_span,
                        "compare",
                        format!(
                            "`{other}` is not a comparator; comparators: exact, folded, serial, mac, host-name, ip, company-name, email, domain, phone, similar"
                        ),
                    ));
                }
            };
            if let (Some(t), false) = (&raw_id.threshold, compare == "similar") {
                return Err(bad(
                    t.span(),
                    "threshold",
                    format!("only `similar` takes a threshold, not `{compare}`"),
                ));
            }
            identifiers.push(Identifier {
                name: name.clone(),
                subject_field: subject.clone(),
                candidate_field: candidate.clone(),
                comparator,
            });
        }
        if identifiers.is_empty() && custom.is_empty() {
            return Err(anyhow!(
                "invalid rule set `{}`: it has no `[[identifier]]`: list at least one, highest priority first",
                path.display()
            ));
        }
        let c = raw.conditions.unwrap_or_default();
        Ok(RuleSet {
            identifiers,
            custom,
            conditions: Conditions {
                active_only: c.active_only,
                same_company: c.same_company,
                same_kind: c.same_type,
            },
        })
    }

    /// Reads the rule set in the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<RuleSet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the rule set `{}`", path.display()))?;
        RuleSet::from_toml(&text, path)
    }
}

/// The lookup structures of an index, by candidate position.
#[derive(Clone, Debug, Default)]
struct Table {
    /// Per identifier: lookup key -> candidate positions.
    keys: Vec<HashMap<String, Vec<usize>>>,
    /// Per `similar` identifier: each candidate's folded values (empty for the others).
    folded: Vec<Vec<Vec<String>>>,
    /// Candidate positions by company.
    by_company: HashMap<Option<String>, Vec<usize>>,
    /// Whether the position holds a candidate ([`OwnedIndex`] frees positions).
    live: Vec<bool>,
}

impl Table {
    fn new(rules: &RuleSet, capacity: usize) -> Table {
        Table {
            keys: vec![HashMap::new(); rules.identifiers.len()],
            folded: vec![Vec::new(); rules.identifiers.len()],
            by_company: HashMap::new(),
            live: Vec::with_capacity(capacity),
        }
    }

    /// The lookup keys of `candidate` for `identifier`, without repeats.
    fn keys_of(identifier: &Identifier, candidate: &Candidate) -> Vec<String> {
        let mut keys: Vec<String> = candidate
            .fields
            .get(&identifier.candidate_field)
            .into_iter()
            .flatten()
            .filter_map(|value| identifier.lookup_key(value))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Indexes `candidate` at position `at` (free).
    fn add(&mut self, rules: &RuleSet, at: usize, candidate: &Candidate) {
        if self.live.len() <= at {
            self.live.resize(at + 1, false);
        }
        self.live[at] = true;
        for (n, identifier) in rules.identifiers.iter().enumerate() {
            for key in Self::keys_of(identifier, candidate) {
                self.keys[n].entry(key).or_default().push(at);
            }
            if let Comparator::Similar(_) = identifier.comparator {
                let folded = &mut self.folded[n];
                if folded.len() <= at {
                    folded.resize(at + 1, Vec::new());
                }
                folded[at] = candidate
                    .fields
                    .get(&identifier.candidate_field)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| identifier.comparator.key(v))
                    .collect();
            }
        }
        self.by_company
            .entry(candidate.company.clone())
            .or_default()
            .push(at);
    }

    /// Forgets `candidate`, indexed at position `at`: its keys are computed again, so only
    /// the lists it is in are touched.
    fn remove(&mut self, rules: &RuleSet, at: usize, candidate: &Candidate) {
        let drop_from = |map: &mut HashMap<_, Vec<usize>>, key| {
            if let Some(list) = map.get_mut(&key) {
                list.retain(|&x| x != at);
                if list.is_empty() {
                    map.remove(&key);
                }
            }
        };
        for (n, identifier) in rules.identifiers.iter().enumerate() {
            for key in Self::keys_of(identifier, candidate) {
                drop_from(&mut self.keys[n], key);
            }
            if let Some(folded) = self.folded[n].get_mut(at) {
                folded.clear();
            }
        }
        let mut drop_company = |key: Option<String>| {
            if let Some(list) = self.by_company.get_mut(&key) {
                list.retain(|&x| x != at);
                if list.is_empty() {
                    self.by_company.remove(&key);
                }
            }
        };
        drop_company(candidate.company.clone());
        self.live[at] = false;
    }
}

/// Candidates indexed for one rule set ([`RuleSet::index`], or [`OwnedIndex::view`]).
pub struct Index<'c> {
    rules: &'c RuleSet,
    candidates: &'c [Candidate],
    table: std::borrow::Cow<'c, Table>,
}

/// An index that owns its candidates and follows their changes: [`OwnedIndex::insert`] and
/// [`OwnedIndex::remove`] touch only the changed candidate's keys, so a host can keep it
/// beside a feed of changes instead of building it again for every request. Deciding goes
/// through [`OwnedIndex::view`], and answers as [`RuleSet::index`] of the same candidates.
#[derive(Clone, Debug)]
pub struct OwnedIndex {
    rules: RuleSet,
    /// By position; a freed position holds an empty candidate until it is reused.
    candidates: Vec<Candidate>,
    table: Table,
    /// Candidate id -> position.
    by_id: HashMap<String, usize>,
    /// Freed positions, reused first so the index does not grow with churn.
    free: Vec<usize>,
}

impl OwnedIndex {
    /// An empty index for `rules`.
    pub fn new(rules: RuleSet) -> OwnedIndex {
        OwnedIndex {
            table: Table::new(&rules, 0),
            rules,
            candidates: Vec::new(),
            by_id: HashMap::new(),
            free: Vec::new(),
        }
    }

    /// Adds `candidate`, replacing the one of the same id if any.
    pub fn insert(&mut self, candidate: Candidate) {
        self.remove(&candidate.id);
        let at = match self.free.pop() {
            Some(at) => at,
            None => {
                self.candidates.push(Candidate::default());
                self.candidates.len() - 1
            }
        };
        self.table.add(&self.rules, at, &candidate);
        self.by_id.insert(candidate.id.clone(), at);
        self.candidates[at] = candidate;
    }

    /// Removes the candidate `id`; it is returned when there was one.
    pub fn remove(&mut self, id: &str) -> Option<Candidate> {
        let at = self.by_id.remove(id)?;
        let candidate = std::mem::take(&mut self.candidates[at]);
        self.table.remove(&self.rules, at, &candidate);
        self.free.push(at);
        Some(candidate)
    }

    /// The candidate `id`, if indexed.
    pub fn get(&self, id: &str) -> Option<&Candidate> {
        self.by_id.get(id).map(|&at| &self.candidates[at])
    }

    /// How many candidates are indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The index to decide with (borrowed, nothing is copied).
    pub fn view(&self) -> Index<'_> {
        Index {
            rules: &self.rules,
            candidates: &self.candidates,
            table: std::borrow::Cow::Borrowed(&self.table),
        }
    }
}

impl<'c> Index<'c> {
    /// Decides `subject` as [`RuleSet::decide`] would, looking candidates up by key.
    pub fn decide(&self, subject: &Subject) -> Outcome {
        // A similarity compares folded texts: the subject's are folded once here, the
        // candidates' once when the index was built.
        let ours: Vec<Vec<String>> = (0..self.rules.identifiers.len())
            .map(|n| self.folded_subject(n, subject))
            .collect();
        self.rules.decide_among(
            subject,
            |n| self.among(n, subject),
            |n, at, c| self.score(n, &ours[n], subject, at, c),
        )
    }

    /// The candidates built-in identifier `n` finds for `subject` among those the conditions
    /// allow (and among positions `within` when given), best score first: the step the host
    /// takes around custom rules. Each comes with its position ([`Index::candidate`]).
    pub fn find(
        &self,
        n: usize,
        subject: &Subject,
        within: Option<&[usize]>,
    ) -> Vec<(usize, Found)> {
        let ours = self.folded_subject(n, subject);
        let mut found: Vec<(usize, Found)> = self
            .among(n, subject)
            .into_iter()
            .filter(|(at, _)| within.is_none_or(|w| w.contains(at)))
            .filter(|(_, c)| self.rules.conditions.allow(subject, c))
            .filter_map(|(at, c)| {
                let score = self.score(n, &ours, subject, at, c)?;
                Some((
                    at,
                    Found {
                        candidate: c.id.clone(),
                        score,
                        evidence: self.rules.evidence(subject, c),
                    },
                ))
            })
            .collect();
        found.sort_by(|(_, a), (_, b)| {
            b.score
                .total_cmp(&a.score)
                .then(a.candidate.cmp(&b.candidate))
        });
        found
    }

    /// The positions of the candidates the conditions allow that belong to the subject's
    /// company (every allowed one when the subject names no company), in index order.
    pub fn of_company(&self, subject: &Subject) -> Vec<usize> {
        let allowed = |at: &usize| {
            self.table.live[*at] && self.rules.conditions.allow(subject, &self.candidates[*at])
        };
        let mut at: Vec<usize> = match &subject.company {
            Some(company) => self
                .table
                .by_company
                .get(&Some(company.clone()))
                .into_iter()
                .flatten()
                .copied()
                .filter(allowed)
                .collect(),
            None => (0..self.candidates.len()).filter(allowed).collect(),
        };
        // An owned index reuses freed positions, so its lists are not always in order.
        at.sort_unstable();
        at
    }

    /// The candidate at `at`.
    pub fn candidate(&self, at: usize) -> &'c Candidate {
        &self.candidates[at]
    }

    /// The rule set.
    pub fn rules(&self) -> &'c RuleSet {
        self.rules
    }

    /// The subject's folded values for a `similar` identifier `n` (empty for the others).
    fn folded_subject(&self, n: usize, subject: &Subject) -> Vec<String> {
        let identifier = &self.rules.identifiers[n];
        match identifier.comparator {
            Comparator::Similar(_) => subject
                .fields
                .get(&identifier.subject_field)
                .into_iter()
                .flatten()
                .filter_map(|v| identifier.comparator.key(v))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The candidates worth comparing for identifier `n`: those sharing a key with the subject.
    fn among(&self, n: usize, subject: &Subject) -> Vec<(usize, &'c Candidate)> {
        let identifier = &self.rules.identifiers[n];
        let mut at: Vec<usize> = subject
            .fields
            .get(&identifier.subject_field)
            .into_iter()
            .flatten()
            .filter_map(|value| identifier.lookup_key(value))
            .filter_map(|key| self.table.keys[n].get(&key))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| (i, &self.candidates[i])).collect()
    }

    fn score(
        &self,
        n: usize,
        ours: &[String],
        subject: &Subject,
        at: usize,
        c: &Candidate,
    ) -> Option<f64> {
        match self.rules.identifiers[n].comparator {
            Comparator::Similar(threshold) => ours
                .iter()
                .flat_map(|a| {
                    self.table.folded[n][at]
                        .iter()
                        .map(move |b| strsim::jaro_winkler(a, b))
                })
                .filter(|s| *s >= threshold)
                .max_by(f64::total_cmp),
            _ => Some(self.rules.identifiers[n].score(subject, c)?.score),
        }
    }
}

impl Conditions {
    fn allow(&self, subject: &Subject, candidate: &Candidate) -> bool {
        (!self.active_only || candidate.active)
            && (!self.same_company
                || subject.company.is_none()
                || subject.company == candidate.company)
            && (!self.same_kind || subject.kind.is_none() || subject.kind == candidate.kind)
    }
}

impl Identifier {
    /// The key candidates are looked up by: the comparator's key, or for `similar` the
    /// blocking key: the first two characters of each of the first two words of the folded
    /// text (`westbrook landscaping` -> `wela`). Names alike enough to match almost always
    /// share it; a typo in those characters is left to the other identifiers.
    fn lookup_key(&self, value: &str) -> Option<String> {
        let key = self.comparator.key(value)?;
        Some(match self.comparator {
            Comparator::Similar(_) => key
                .split(' ')
                .take(2)
                .flat_map(|word| word.chars().take(2))
                .collect(),
            _ => key,
        })
    }

    /// The best agreement between any of the subject's values and any of the candidate's.
    fn score(&self, subject: &Subject, candidate: &Candidate) -> Option<Evidence> {
        let ours = subject.fields.get(&self.subject_field)?;
        let theirs = candidate.fields.get(&self.candidate_field)?;
        ours.iter()
            .flat_map(|a| theirs.iter().map(move |b| (a, b)))
            .filter_map(|(a, b)| {
                Some(Evidence {
                    identifier: self.name.clone(),
                    subject_value: a.clone(),
                    candidate_value: b.clone(),
                    score: self.comparator.score(a, b)?,
                    note: None,
                })
            })
            .max_by(|x, y| x.score.total_cmp(&y.score))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    conditions: Option<RawConditions>,
    #[serde(default)]
    identifier: Vec<Spanned<RawIdentifier>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConditions {
    #[serde(default)]
    active_only: bool,
    #[serde(default)]
    same_company: bool,
    #[serde(default)]
    same_type: bool,
}

/// A custom rule entry, validated: `rule` and `candidates`, nothing of a built-in identifier.
fn custom_rule(
    raw: &RawIdentifier,
    rule: &Spanned<String>,
    position: usize,
    bad: &impl Fn(std::ops::Range<usize>, &str, String) -> anyhow::Error,
) -> anyhow::Result<CustomRule> {
    if let Some((name, _)) = [
        ("subject", raw.subject.is_some()),
        ("candidate", raw.candidate.is_some()),
        ("compare", raw.compare.is_some()),
        ("threshold", raw.threshold.is_some()),
    ]
    .into_iter()
    .find(|(_, set)| *set)
    {
        return Err(bad(
            rule.span(),
            name,
            format!(
                "a custom rule (`rule = \"{}\"`) takes only `candidates` (and `name`): remove `{name}`",
                rule.get_ref()
            ),
        ));
    }
    if !is_rule_id(rule.get_ref()) {
        return Err(bad(
            rule.span(),
            "rule",
            format!(
                "`{}` is not a rule id: lowercase letters, digits and dashes, as the rule's `describe` says",
                rule.get_ref()
            ),
        ));
    }
    let candidates = match raw
        .candidates
        .as_ref()
        .map(|c| (c.get_ref().as_str(), c.span()))
    {
        Some(("preselected", span)) if position == 0 => {
            return Err(bad(
                span,
                "candidates",
                "`preselected` needs a built-in identifier above the rule to preselect candidates: put one above it or use `company`".into(),
            ));
        }
        Some(("preselected", _)) => RuleCandidates::Preselected,
        Some(("company", _)) => RuleCandidates::Company,
        Some((other, span)) => {
            return Err(bad(
                span,
                "candidates",
                format!("`{other}` is not a candidate set: `preselected` or `company`"),
            ));
        }
        None => {
            return Err(bad(
                rule.span(),
                "candidates",
                "a custom rule needs `candidates = \"preselected\"` (those the identifiers above found) or `\"company\"` (every candidate of the subject's company)".into(),
            ));
        }
    };
    Ok(CustomRule {
        rule: rule.get_ref().clone(),
        candidates,
        position,
    })
}

/// Lowercase ASCII letters, digits and single dashes, not at either end.
fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentifier {
    name: Option<String>,
    subject: Option<String>,
    candidate: Option<String>,
    compare: Option<Spanned<String>>,
    threshold: Option<Spanned<f64>>,
    rule: Option<Spanned<String>>,
    candidates: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = r#"
[conditions]
active-only = true
same-company = true

[[identifier]]
name = "serial"
subject = "serial"
candidate = "serial-number"
compare = "serial"

[[identifier]]
name = "mac"
subject = "macs"
candidate = "mac-address"
compare = "mac"

[[identifier]]
name = "host"
subject = "host"
candidate = "name"
compare = "host-name"
"#;

    fn rules() -> RuleSet {
        RuleSet::from_toml(DEVICES, Path::new("devices.toml")).unwrap()
    }

    fn fields(pairs: &[(&str, &[&str])]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn device(id: &str, company: &str, active: bool, f: &[(&str, &[&str])]) -> Candidate {
        Candidate {
            id: id.into(),
            fields: fields(f),
            active,
            company: Some(company.into()),
            kind: None,
        }
    }

    fn subject(f: &[(&str, &[&str])]) -> Subject {
        Subject {
            id: "dev-1".into(),
            fields: fields(f),
            company: Some("acme".into()),
            kind: None,
        }
    }

    #[test]
    fn the_first_identifier_with_candidates_decides() {
        let candidates = [
            device(
                "10",
                "acme",
                true,
                &[("serial-number", &["C02XK1"]), ("name", &["pc-01"])],
            ),
            device(
                "11",
                "acme",
                true,
                &[
                    ("serial-number", &["OTHER9"]),
                    ("name", &["PC-01.corp.example"]),
                ],
            ),
        ];
        // The serial finds 10, though the host name would have found both.
        let s = subject(&[("serial", &["c02-xk1"]), ("host", &["pc-01"])]);
        match rules().decide(&s, &candidates) {
            Outcome::Matched { identifier, found } => {
                assert_eq!(
                    (identifier.as_str(), found.candidate.as_str()),
                    ("serial", "10")
                );
                let names: Vec<&str> = found
                    .evidence
                    .iter()
                    .map(|e| e.identifier.as_str())
                    .collect();
                assert_eq!(
                    names,
                    ["serial", "host"],
                    "every agreeing identifier is evidence"
                );
            }
            other => panic!("{other:?}"),
        }
        // A placeholder serial identifies nothing: the host name decides, and finds two.
        let s = subject(&[
            ("serial", &["To be filled by O.E.M."]),
            ("host", &["pc-01"]),
        ]);
        match rules().decide(&s, &candidates) {
            Outcome::Ambiguous { identifier, found } => {
                assert_eq!(identifier, "host");
                let ids: Vec<&str> = found.iter().map(|f| f.candidate.as_str()).collect();
                assert_eq!(ids, ["10", "11"]);
            }
            other => panic!("{other:?}"),
        }
        // Any of several values may agree.
        let s = subject(&[("macs", &["aa:bb:cc:00:00:01", "00-1A-2B-3C-4D-5E"])]);
        let c = [device(
            "12",
            "acme",
            true,
            &[("mac-address", &["001a.2b3c.4d5e"])],
        )];
        assert!(
            matches!(rules().decide(&s, &c), Outcome::Matched { identifier, .. } if identifier == "mac")
        );
        assert_eq!(
            rules().decide(&subject(&[("serial", &["NOPE123"])]), &c),
            Outcome::None
        );
    }

    #[test]
    fn conditions_come_first() {
        let s = subject(&[("serial", &["C02XK1"])]);
        let inactive = [device(
            "10",
            "acme",
            false,
            &[("serial-number", &["C02XK1"])],
        )];
        assert_eq!(rules().decide(&s, &inactive), Outcome::None);
        let elsewhere = [device(
            "10",
            "globex",
            true,
            &[("serial-number", &["C02XK1"])],
        )];
        assert_eq!(rules().decide(&s, &elsewhere), Outcome::None);
        let mut anywhere = s.clone();
        anywhere.company = None;
        assert!(matches!(
            rules().decide(&anywhere, &elsewhere),
            Outcome::Matched { .. }
        ));
    }

    #[test]
    fn similarity_above_its_threshold() {
        let rules = RuleSet::from_toml(
            "[[identifier]]\nname = \"name\"\nsubject = \"name\"\ncandidate = \"name\"\ncompare = \"similar\"\nthreshold = 0.9\n",
            Path::new("customers.toml"),
        )
        .unwrap();
        let c = |id: &str, name: &str| Candidate {
            id: id.into(),
            fields: fields(&[("name", &[name])]),
            active: true,
            ..Candidate::default()
        };
        let candidates = [
            c("1", "Westbrook Landscaping LLC"),
            c("2", "Crescent Family Medicine"),
        ];
        let s = Subject {
            fields: fields(&[("name", &["Westbrook Landscapes"])]),
            ..Subject::default()
        };
        match rules.decide(&s, &candidates) {
            Outcome::Matched { found, .. } => {
                assert_eq!(found.candidate, "1");
                assert!(found.score >= 0.9 && found.score < 1.0, "{}", found.score);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_index_decides_as_the_scan_does() {
        // 600 devices of 3 companies: serials, MACs in several notations, host names with and
        // without domains; some share a host name, some are inactive, some serials are
        // placeholders.
        let candidates: Vec<Candidate> = (0..600)
            .map(|i| {
                let mac = format!("00:1a:2b:00:{:02x}:{:02x}", i / 256, i % 256);
                let serial = if i % 50 == 0 {
                    "Default string".to_string()
                } else {
                    format!("SN{i:05}")
                };
                let host = if i % 7 == 0 {
                    format!("pc-{:03}.corp.example", i / 2)
                } else {
                    format!("pc-{i:03}")
                };
                device(
                    &i.to_string(),
                    ["acme", "globex", "initech"][i % 3],
                    i % 11 != 0,
                    &[
                        ("serial-number", &[&serial]),
                        ("mac-address", &[&mac]),
                        ("name", &[&host]),
                    ],
                )
            })
            .collect();
        let rules = rules();
        let index = rules.index(&candidates);
        let mut outcomes = [0usize; 3];
        for i in 0..700 {
            let s = Subject {
                id: format!("s{i}"),
                fields: fields(&[
                    (
                        "serial",
                        &[&if i % 3 == 0 {
                            format!("sn-{i:05}")
                        } else {
                            "Unknown".into()
                        }],
                    ),
                    (
                        "macs",
                        // Every other subject has a MAC no candidate has.
                        &[&format!(
                            "0{}1a2b00{:02x}{:02x}",
                            i % 2 * 2,
                            i / 256,
                            i % 256
                        )],
                    ),
                    ("host", &[&format!("PC-{:03}", i / 2)]),
                ]),
                company: (i % 4 != 0).then(|| ["acme", "globex", "initech"][i % 3].to_string()),
                kind: None,
            };
            let scanned = rules.decide(&s, &candidates);
            assert_eq!(index.decide(&s), scanned, "subject {i}");
            outcomes[match scanned {
                Outcome::Matched { .. } => 0,
                Outcome::Ambiguous { .. } => 1,
                Outcome::None => 2,
            }] += 1;
        }
        assert!(
            outcomes.iter().all(|&n| n > 0),
            "every outcome is exercised: {outcomes:?}"
        );
    }

    #[test]
    fn an_owned_index_follows_changes_and_answers_as_a_fresh_one() {
        let rules = RuleSet::from_toml(
            &format!(
                "{DEVICES}\n[[identifier]]\nname = \"similar\"\nsubject = \"label\"\ncandidate = \"label\"\ncompare = \"similar\"\nthreshold = 0.9\n"
            ),
            Path::new("devices.toml"),
        )
        .unwrap();
        let make = |i: usize, generation: usize| {
            device(
                &i.to_string(),
                ["acme", "globex"][(i + generation) % 2],
                !i.is_multiple_of(5),
                &[
                    ("serial-number", &[&format!("SN{:04}", i / 2 + generation)]),
                    ("mac-address", &[&format!("00:1a:2b:00:00:{:02x}", i % 200)]),
                    ("name", &[&format!("pc-{}", i % 97)]),
                    ("label", &[&format!("westbrook landscaping {}", i % 13)]),
                ],
            )
        };
        let mut owned = OwnedIndex::new(rules.clone());
        for i in 0..300 {
            owned.insert(make(i, 0));
        }
        // Churn: a third removed, a third changed (other keys, other company), new ones
        // taking the freed positions.
        for i in (0..300).step_by(3) {
            assert!(owned.remove(&i.to_string()).is_some(), "{i} was indexed");
        }
        for i in (1..300).step_by(3) {
            owned.insert(make(i, 7));
        }
        for i in 300..350 {
            owned.insert(make(i, 0));
        }
        assert!(owned.remove("0").is_none(), "removed twice");
        let current: Vec<Candidate> = (0..350)
            .filter(|i| i % 3 != 0 || *i >= 300)
            .map(|i| make(i, if i % 3 == 1 && i < 300 { 7 } else { 0 }))
            .collect();
        assert_eq!(owned.len(), current.len());
        assert_eq!(owned.candidates.len(), 300, "freed positions are reused");
        let fresh = rules.index(&current);
        let view = owned.view();
        let mut matched = 0;
        for i in 0..400 {
            let s = Subject {
                id: format!("s{i}"),
                fields: fields(&[
                    ("serial", &[&format!("SN{:04}", i / 2)]),
                    ("macs", &[&format!("001a2b0000{:02x}", i % 256)]),
                    ("host", &[&format!("pc-{}", i % 120)]),
                    ("label", &[&format!("Westbrook Landscapin {}", i % 15)]),
                ]),
                company: (i % 3 != 0).then(|| ["acme", "globex"][i % 2].to_string()),
                kind: None,
            };
            let decided = view.decide(&s);
            assert_eq!(decided, fresh.decide(&s), "subject {i}");
            assert_eq!(decided, rules.decide(&s, &current), "subject {i}");
            matched += usize::from(matches!(decided, Outcome::Matched { .. }));
            for n in 0..rules.identifiers.len() {
                let ids = |found: Vec<(usize, Found)>| {
                    found.into_iter().map(|(_, f)| f).collect::<Vec<_>>()
                };
                assert_eq!(ids(view.find(n, &s, None)), ids(fresh.find(n, &s, None)));
            }
            let companies = |index: &Index<'_>| {
                let mut ids: Vec<String> = index
                    .of_company(&s)
                    .into_iter()
                    .map(|at| index.candidate(at).id.clone())
                    .collect();
                ids.sort();
                ids
            };
            assert_eq!(companies(&view), companies(&fresh), "subject {i}");
        }
        assert!(matched > 50, "the subjects match: {matched}");
    }

    #[test]
    fn bad_rule_sets_name_file_line_and_field() {
        let err = |text: &str| {
            RuleSet::from_toml(text, Path::new("rules/devices.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err(&DEVICES.replace("compare = \"mac\"", "compare = \"macaddr\""));
        assert!(
            e.contains("rules/devices.toml")
                && e.contains("line 16")
                && e.contains("identifier[2].compare")
                && e.contains("`macaddr`"),
            "{e}"
        );
        let e = err(
            "[[identifier]]\nname = \"n\"\nsubject = \"n\"\ncandidate = \"n\"\ncompare = \"similar\"\n",
        );
        assert!(
            e.contains("identifier[1].threshold") && e.contains("0.92"),
            "{e}"
        );
        let e = err(
            "[[identifier]]\nname = \"n\"\nsubject = \"n\"\ncandidate = \"n\"\ncompare = \"similar\"\nthreshold = 1.5\n",
        );
        assert!(e.contains("line 6") && e.contains("`1.5`"), "{e}");
        let e = err(
            "[[identifier]]\nname = \"n\"\nsubject = \"n\"\ncandidate = \"n\"\ncompare = \"exact\"\nthreshold = 0.9\n",
        );
        assert!(e.contains("only `similar` takes a threshold"), "{e}");
        let e = err("[conditions]\nactive-only = true\n");
        assert!(e.contains("no `[[identifier]]`"), "{e}");
        let e = err("[conditions]\nactiv-only = true\n");
        assert!(
            e.contains("rules/devices.toml") && e.contains("line 2") && e.contains("activ-only"),
            "{e}"
        );
    }

    #[test]
    fn custom_rules_stand_anywhere_in_the_priority_list() {
        let text = format!(
            "{DEVICES}\n[[identifier]]\nrule = \"neighbouring-mac\"\ncandidates = \"preselected\"\n\n[[identifier]]\nname = \"model\"\nsubject = \"model\"\ncandidate = \"model\"\ncompare = \"folded\"\n"
        );
        let text = text.replacen(
            "[[identifier]]",
            "[[identifier]]\nrule = \"first-rule\"\ncandidates = \"company\"\n\n[[identifier]]",
            1,
        );
        let rules = RuleSet::from_toml(&text, Path::new("devices.toml")).unwrap();
        let steps: Vec<String> = rules
            .steps()
            .iter()
            .map(|s| match s {
                Step::Identifier(n) => rules.identifiers[*n].name.clone(),
                Step::Rule(r) => format!("{}:{:?}", r.rule, r.candidates),
            })
            .collect();
        assert_eq!(
            steps,
            [
                "first-rule:Company",
                "serial",
                "mac",
                "host",
                "neighbouring-mac:Preselected",
                "model"
            ]
        );
    }

    #[test]
    fn bad_custom_rule_entries_say_what_to_do() {
        let err = |text: &str| {
            RuleSet::from_toml(text, Path::new("r.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err("[[identifier]]\nrule = \"x\"\ncandidates = \"preselected\"\n");
        assert!(e.contains("needs a built-in identifier above"), "{e}");
        let e = err("[[identifier]]\nrule = \"x\"\ncandidates = \"all\"\n");
        assert!(
            e.contains("line 3") && e.contains("`all`") && e.contains("`company`"),
            "{e}"
        );
        let e = err("[[identifier]]\nrule = \"x\"\n");
        assert!(e.contains("identifier[1].candidates"), "{e}");
        let e = err("[[identifier]]\nrule = \"x\"\ncandidates = \"company\"\ncompare = \"mac\"\n");
        assert!(e.contains("remove `compare`"), "{e}");
        let e = err("[[identifier]]\nrule = \"Not An Id\"\ncandidates = \"company\"\n");
        assert!(e.contains("`Not An Id` is not a rule id"), "{e}");
        let e = err("[[identifier]]\nname = \"n\"\nsubject = \"n\"\n");
        assert!(
            e.contains("line 1") && e.contains("needs `name`, `subject`"),
            "{e}"
        );
    }

    #[test]
    fn find_narrows_and_of_company_scopes() {
        let rules = rules();
        let candidates = [
            device("10", "acme", true, &[("name", &["pc-01"])]),
            device("11", "acme", true, &[("name", &["PC-01.corp"])]),
            device("12", "acme", false, &[("name", &["pc-01"])]),
            device("13", "other", true, &[("name", &["pc-01"])]),
        ];
        let index = rules.index(&candidates);
        let s = subject(&[("host", &["pc-01"])]);
        let ids = |found: Vec<(usize, Found)>| -> Vec<String> {
            found.into_iter().map(|(_, f)| f.candidate).collect()
        };
        // The conditions hold: inactive 12 and other company's 13 are not found.
        assert_eq!(ids(index.find(2, &s, None)), ["10", "11"]);
        assert_eq!(ids(index.find(2, &s, Some(&[1, 2, 3]))), ["11"]);
        assert!(index.find(0, &s, None).is_empty());
        assert_eq!(index.of_company(&s), [0, 1]);
        let nowhere = Subject {
            company: None,
            ..s.clone()
        };
        assert_eq!(index.of_company(&nowhere), [0, 1, 3]);
    }
}
