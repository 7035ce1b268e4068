//! The companies of a connection kept indexed between linking requests: per (connection, rule
//! set) an [`OwnedIndex`] of the companies as candidates, with the change-feed sequence it
//! reflects. A request reads the feed after that sequence and rebuilds only the candidates of
//! the companies that changed, or whose contacts did (a contact's e-mails and phones are its
//! company's), instead of loading every company and contact again.
//!
//! The kept indexes are bounded in number ([`CompanyIndexes::new`]); the least recently used
//! is evicted. A feed longer than [`MAX_APPLIED_CHANGES`] since the last request is not
//! replayed: the index is built again from the store, which is then cheaper.

use crate::records;
use crate::views::companies_and_contacts;
use crate::views::eligible::{self, Eligibility};
use psahost_matching::rules::{Candidate, Fields, OwnedIndex, RuleSet};
use psahost_sandbox::bindings::psa::connector::types::{Company, Contact};
use psahost_store::{Entity, RecordStore};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::Records;

/// The most changes replayed onto a kept index; past it, it is built again.
pub const MAX_APPLIED_CHANGES: usize = 20_000;

/// The kept indexes of a process when the caller does not say ([`CompanyIndexes::new`]).
pub const DEFAULT_KEPT_INDEXES: usize = 16;

/// How the kept indexes have been brought up to date, since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Indexes built from every company and contact of the store.
    pub cold_builds: u64,
    /// Requests that found their index and replayed the change feed onto it.
    pub warm_requests: u64,
    /// Company candidates rebuilt or removed from the change feed (each changed company once
    /// per request).
    pub candidates_rebuilt: u64,
    /// Indexes dropped to keep the number bound.
    pub evicted: u64,
}

/// The companies of one connection, indexed for one rule set.
pub(crate) struct KeptCompanies {
    /// The last change-feed sequence the index reflects.
    seq: u64,
    index: OwnedIndex,
    companies: HashMap<String, Company>,
    contacts: HashMap<String, Contact>,
    /// Company id -> its contacts' ids.
    of_company: HashMap<String, BTreeSet<String>>,
    eligibility: HashMap<String, Eligibility>,
}

impl KeptCompanies {
    /// Every company and contact of `connection`, indexed by `rules`.
    async fn build(
        store: &dyn RecordStore,
        connection: &str,
        rules: RuleSet,
    ) -> anyhow::Result<KeptCompanies> {
        // The feed's end is read first: a change made while the records are read is replayed
        // by the next request (replaying re-reads the record, so twice is harmless).
        let seq = feed_end(store, connection).await?;
        let (companies, contacts) = companies_and_contacts(store, connection).await?;
        let eligibility = eligible::eligible_companies(&companies, &contacts);
        let mut kept = KeptCompanies {
            seq,
            index: OwnedIndex::new(rules),
            companies: HashMap::with_capacity(companies.len()),
            contacts: HashMap::with_capacity(contacts.len()),
            of_company: HashMap::new(),
            eligibility: eligibility
                .into_iter()
                .map(|e| (e.company_id.clone(), e))
                .collect(),
        };
        for contact in contacts {
            kept.add_contact(contact);
        }
        for company in companies {
            let candidate = kept.candidate(&company);
            kept.index.insert(candidate);
            kept.companies.insert(company.id.clone(), company);
        }
        Ok(kept)
    }

    /// Replays the change feed after [`KeptCompanies::seq`]: the candidates rebuilt, or
    /// `None` when the feed is longer than [`MAX_APPLIED_CHANGES`] (build it again).
    async fn refresh(
        &mut self,
        store: &dyn RecordStore,
        connection: &str,
    ) -> anyhow::Result<Option<u64>> {
        let mut companies = HashSet::new();
        let mut contacts = HashSet::new();
        let mut seq = self.seq;
        loop {
            let page = store.changes(connection, seq, 1000).await?;
            let Some(last) = page.last() else { break };
            seq = last.seq;
            for change in page {
                match change.entity {
                    Entity::Companies => companies.insert(change.id),
                    Entity::Contacts => contacts.insert(change.id),
                    _ => false,
                };
            }
            if companies.len() + contacts.len() > MAX_APPLIED_CHANGES {
                return Ok(None);
            }
        }
        for id in contacts {
            if let Some(old) = self.contacts.remove(&id)
                && let Some(company) = &old.company_id
            {
                companies.insert(company.clone());
                if let Some(set) = self.of_company.get_mut(company) {
                    set.remove(&id);
                }
            }
            if let Some(record) = store.get(connection, Entity::Contacts, &id).await? {
                let contact = records::contact_from_json(&record.record)?;
                if let Some(company) = &contact.company_id {
                    companies.insert(company.clone());
                }
                self.add_contact(contact);
            }
        }
        let mut rebuilt = 0;
        for id in companies {
            match store.get(connection, Entity::Companies, &id).await? {
                Some(record) => {
                    let company = records::company_from_json(&record.record)?;
                    let contacts: Vec<Contact> = self.contacts_of(&id).cloned().collect();
                    if let Some(e) =
                        eligible::eligible_companies(std::slice::from_ref(&company), &contacts)
                            .pop()
                    {
                        self.eligibility.insert(id.clone(), e);
                    }
                    let candidate = self.candidate(&company);
                    self.index.insert(candidate);
                    self.companies.insert(id, company);
                    rebuilt += 1;
                }
                None => {
                    // Also reached for a company already gone (its contacts moved after it).
                    if self.index.remove(&id).is_some() {
                        rebuilt += 1;
                    }
                    self.companies.remove(&id);
                    self.eligibility.remove(&id);
                }
            }
        }
        self.seq = seq;
        Ok(Some(rebuilt))
    }

    fn add_contact(&mut self, contact: Contact) {
        if let Some(company) = &contact.company_id {
            self.of_company
                .entry(company.clone())
                .or_default()
                .insert(contact.id.clone());
        }
        self.contacts.insert(contact.id.clone(), contact);
    }

    fn contacts_of<'a>(&'a self, company: &str) -> impl Iterator<Item = &'a Contact> + 'a {
        self.of_company
            .get(company)
            .into_iter()
            .flatten()
            .filter_map(|id| self.contacts.get(id))
    }

    /// The company as a candidate, with its contacts' e-mails, e-mail domains and phones.
    fn candidate(&self, company: &Company) -> Candidate {
        let mut fields = Fields::new();
        let mut add = |field: &str, value: &str| {
            fields
                .entry(field.to_string())
                .or_default()
                .push(value.to_string());
        };
        add("name", &company.name);
        if let Some(website) = &company.website {
            add("domain", website);
        }
        for phone in company
            .phone
            .iter()
            .chain(company.sites.iter().filter_map(|s| s.phone.as_ref()))
        {
            add("phone", phone);
        }
        for contact in self.contacts_of(&company.id) {
            for email in &contact.emails {
                add("email", email);
                add("domain", email);
            }
            for phone in &contact.phones {
                add("phone", phone);
            }
        }
        Candidate {
            id: company.id.clone(),
            fields,
            active: company.active,
            company: Some(company.id.clone()),
            kind: None,
        }
    }

    /// The index to decide with.
    pub(crate) fn index(&self) -> &OwnedIndex {
        &self.index
    }

    /// The company `id`'s name and eligibility.
    pub(crate) fn company(&self, id: &str) -> Option<(&str, Option<&Eligibility>)> {
        let company = self.companies.get(id)?;
        Some((&company.name, self.eligibility.get(id)))
    }
}

impl Records for KeptCompanies {
    fn entity(&self) -> &str {
        "company"
    }

    fn raw(&self, _: usize, candidate: &Candidate) -> String {
        self.companies
            .get(&candidate.id)
            .map(|c| c.raw.clone())
            .unwrap_or_else(|| "{}".into())
    }
}

/// The end of `connection`'s change feed (0 when empty), found with `changes(after, 1)`
/// probes: the store has no call for it, and the feed's sequence has no gaps, so a doubling
/// then a bisection take about 2 log2(end) probes.
async fn feed_end(store: &dyn RecordStore, connection: &str) -> anyhow::Result<u64> {
    async fn after(store: &dyn RecordStore, connection: &str, seq: u64) -> anyhow::Result<bool> {
        Ok(!store.changes(connection, seq, 1).await?.is_empty())
    }
    let any_after = |seq| after(store, connection, seq);
    if !any_after(0).await? {
        return Ok(0);
    }
    // Invariant: a change after `lo`, none after `hi`.
    let mut lo = 0;
    let mut hi = 1;
    while any_after(hi).await? {
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if any_after(mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

type Slot = Arc<tokio::sync::Mutex<Option<KeptCompanies>>>;

/// The kept company indexes of a process, per (connection, rule set), at most a given number,
/// the least recently used evicted first.
pub struct CompanyIndexes {
    capacity: usize,
    /// Least recently used first.
    slots: Mutex<Vec<(String, Slot)>>,
    stats: Mutex<IndexStats>,
}

impl CompanyIndexes {
    /// At most `capacity` kept indexes (at least one).
    pub fn new(capacity: usize) -> CompanyIndexes {
        CompanyIndexes {
            capacity: capacity.max(1),
            slots: Mutex::new(Vec::new()),
            stats: Mutex::new(IndexStats::default()),
        }
    }

    /// How the indexes have been brought up to date so far.
    pub fn stats(&self) -> IndexStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many indexes are kept.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, connection: &str, rules: &RuleSet) -> Slot {
        // Only the built-in identifiers and the conditions shape the index; custom rules are
        // asked at decision time, so rule sets differing only in them share one.
        let key = format!(
            "{connection}\n{:?}\n{:?}",
            rules.identifiers, rules.conditions
        );
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match slots.iter().position(|(k, _)| *k == key) {
            Some(at) => slots.remove(at).1,
            None => Slot::default(),
        };
        slots.push((key, slot.clone()));
        if slots.len() > self.capacity {
            // An in-flight request still holding the evicted one finishes with it.
            slots.remove(0);
            self.stats.lock().unwrap_or_else(|e| e.into_inner()).evicted += 1;
        }
        slot
    }

    /// The kept companies of `connection` for `rules`, brought up to date, locked for the
    /// caller: requests for one index wait for each other rather than build it twice.
    pub(crate) async fn up_to_date(
        &self,
        store: &dyn RecordStore,
        connection: &str,
        rules: &RuleSet,
    ) -> anyhow::Result<tokio::sync::OwnedMutexGuard<Option<KeptCompanies>>> {
        let mut kept = self.slot(connection, rules).lock_owned().await;
        let refreshed = match kept.as_mut() {
            Some(k) => match k.refresh(store, connection).await {
                Ok(refreshed) => refreshed,
                Err(e) => {
                    // Half replayed (a contact moved, its old company not yet rebuilt): the
                    // next request builds it again rather than trust it.
                    *kept = None;
                    return Err(e);
                }
            },
            None => None,
        };
        let mut stats = IndexStats::default();
        match refreshed {
            Some(rebuilt) => {
                stats.warm_requests = 1;
                stats.candidates_rebuilt = rebuilt;
            }
            None => {
                // Dropped first: the old and the new index are never both in memory.
                *kept = None;
                *kept = Some(KeptCompanies::build(store, connection, rules.clone()).await?);
                stats.cold_builds = 1;
            }
        }
        let mut total = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        total.warm_requests += stats.warm_requests;
        total.candidates_rebuilt += stats.candidates_rebuilt;
        total.cold_builds += stats.cold_builds;
        Ok(kept)
    }
}

impl Default for CompanyIndexes {
    fn default() -> CompanyIndexes {
        CompanyIndexes::new(DEFAULT_KEPT_INDEXES)
    }
}
