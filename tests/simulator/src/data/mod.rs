//! The neutral data set every dialect serves: records, reference data, and the deterministic
//! generator that builds them from a seed.

mod datasets;
mod generate;
mod model;
mod names;
mod picklists;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use datasets::*;
pub use generate::{DATA_END, GenSpec};
pub use model::*;
pub(crate) use names::MEMBERS;
pub use picklists::*;

/// The kinds of records a data set holds (reference data excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// [`Company`] records.
    Company,
    /// [`Contact`] records.
    Contact,
    /// [`Agreement`] records.
    Agreement,
    /// [`AgreementLine`] records (agreement additions).
    AgreementLine,
    /// [`Configuration`] records.
    Configuration,
    /// [`Ticket`] records.
    Ticket,
    /// [`Note`] records (ticket notes).
    Note,
}

impl Entity {
    /// Every entity kind.
    pub const ALL: [Entity; 7] = [
        Entity::Company,
        Entity::Contact,
        Entity::Agreement,
        Entity::AgreementLine,
        Entity::Configuration,
        Entity::Ticket,
        Entity::Note,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// All records of a simulated PSA, each kind in a map ordered by id.
///
/// Built by [`DataSet::generate`]; mutated only through the simulator (API writes and the
/// [`SimState`](crate::SimState) test controls), which keep the id sequences consistent.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSet {
    /// Reference data.
    pub picklists: Picklists,
    /// Companies by id.
    pub companies: BTreeMap<Id, Company>,
    /// Contacts by id.
    pub contacts: BTreeMap<Id, Contact>,
    /// Agreements by id.
    pub agreements: BTreeMap<Id, Agreement>,
    /// Agreement lines (additions) by id.
    pub agreement_lines: BTreeMap<Id, AgreementLine>,
    /// Configurations by id.
    pub configurations: BTreeMap<Id, Configuration>,
    /// Tickets by id.
    pub tickets: BTreeMap<Id, Ticket>,
    /// Ticket notes by id.
    pub notes: BTreeMap<Id, Note>,
    /// The read-only datasets (time entries, invoices, ...) and company profiles.
    pub datasets: Datasets,
    /// The next id of each entity kind (ids are never reused, as in a real database).
    next_ids: [Id; 7],
    /// Fields written through a dialect that the neutral model has no place for (an Autotask
    /// ticket's `dueDateTime`, a BMS ticket's `typeId`, ...), by record; the dialect renders them
    /// back. Only one dialect runs per simulator, so their names never clash.
    pub(crate) extras: BTreeMap<(Entity, Id), Map<String, Value>>,
}

impl DataSet {
    /// Generates the data set of `spec`: the same spec always gives the same data.
    pub fn generate(spec: &GenSpec) -> DataSet {
        generate::generate(spec)
    }

    /// Number of records of a kind (deleted companies included).
    pub fn count(&self, entity: Entity) -> usize {
        match entity {
            Entity::Company => self.companies.len(),
            Entity::Contact => self.contacts.len(),
            Entity::Agreement => self.agreements.len(),
            Entity::AgreementLine => self.agreement_lines.len(),
            Entity::Configuration => self.configurations.len(),
            Entity::Ticket => self.tickets.len(),
            Entity::Note => self.notes.len(),
        }
    }

    /// Ids of the records of a kind, ascending.
    pub fn ids(&self, entity: Entity) -> Vec<Id> {
        match entity {
            Entity::Company => self.companies.keys().copied().collect(),
            Entity::Contact => self.contacts.keys().copied().collect(),
            Entity::Agreement => self.agreements.keys().copied().collect(),
            Entity::AgreementLine => self.agreement_lines.keys().copied().collect(),
            Entity::Configuration => self.configurations.keys().copied().collect(),
            Entity::Ticket => self.tickets.keys().copied().collect(),
            Entity::Note => self.notes.keys().copied().collect(),
        }
    }

    /// The change-tracking information of one record, for updates.
    pub(crate) fn info_mut(&mut self, entity: Entity, id: Id) -> Option<&mut Info> {
        match entity {
            Entity::Company => self.companies.get_mut(&id).map(|r| &mut r.info),
            Entity::Contact => self.contacts.get_mut(&id).map(|r| &mut r.info),
            Entity::Agreement => self.agreements.get_mut(&id).map(|r| &mut r.info),
            Entity::AgreementLine => self.agreement_lines.get_mut(&id).map(|r| &mut r.info),
            Entity::Configuration => self.configurations.get_mut(&id).map(|r| &mut r.info),
            Entity::Ticket => self.tickets.get_mut(&id).map(|r| &mut r.info),
            Entity::Note => self.notes.get_mut(&id).map(|r| &mut r.info),
        }
    }

    /// Marks a record changed at `at` by `by`; false when there is no such record.
    pub(crate) fn touch(&mut self, entity: Entity, id: Id, at: OffsetDateTime, by: &str) -> bool {
        match self.info_mut(entity, id) {
            Some(info) => {
                info.last_updated = at;
                info.updated_by = by.to_string();
                true
            }
            None => false,
        }
    }

    /// Removes a record for good; a ticket takes its notes along and an agreement its lines.
    /// False when there is no such record.
    pub(crate) fn remove(&mut self, entity: Entity, id: Id) -> bool {
        self.extras.remove(&(entity, id));
        match entity {
            Entity::Company => self.companies.remove(&id).is_some(),
            Entity::Contact => self.contacts.remove(&id).is_some(),
            Entity::Agreement => {
                let found = self.agreements.remove(&id).is_some();
                if found {
                    self.agreement_lines.retain(|_, l| l.agreement_id != id);
                }
                found
            }
            Entity::AgreementLine => self.agreement_lines.remove(&id).is_some(),
            Entity::Configuration => self.configurations.remove(&id).is_some(),
            Entity::Ticket => {
                let found = self.tickets.remove(&id).is_some();
                if found {
                    self.notes.retain(|_, n| n.ticket_id != id);
                }
                found
            }
            Entity::Note => self.notes.remove(&id).is_some(),
        }
    }

    /// Allocates the next id of a kind.
    pub(crate) fn next_id(&mut self, entity: Entity) -> Id {
        let slot = &mut self.next_ids[entity.index()];
        let id = *slot;
        *slot += 1;
        id
    }

    /// Lines of one agreement, by id.
    pub fn lines_of(&self, agreement_id: Id) -> impl DoubleEndedIterator<Item = &AgreementLine> {
        self.agreement_lines
            .values()
            .filter(move |l| l.agreement_id == agreement_id)
    }

    /// Notes of one ticket, by id.
    pub fn notes_of(&self, ticket_id: Id) -> impl DoubleEndedIterator<Item = &Note> {
        self.notes
            .values()
            .filter(move |n| n.ticket_id == ticket_id)
    }

    /// Whether the ticket's status is a closed one.
    pub fn ticket_closed(&self, ticket: &Ticket) -> bool {
        self.picklists
            .board_status(ticket.status_id)
            .is_some_and(|s| s.closed)
    }

    /// Whether a company exists and is not deleted (the Autotask and Kaseya BMS dialects serve
    /// neither deleted companies nor their contacts).
    pub fn company_live(&self, id: Id) -> bool {
        self.companies.get(&id).is_some_and(|c| !c.deleted)
    }

    /// Stores a new ticket under the next id; a non-blank `description` becomes its first
    /// discussion note (as ConnectWise keeps a ticket's initial description).
    pub(crate) fn insert_ticket(&mut self, mut ticket: Ticket, description: Option<String>) -> Id {
        let id = self.next_id(Entity::Ticket);
        ticket.id = id;
        let info = ticket.info.clone();
        self.tickets.insert(id, ticket);
        if let Some(text) = description.filter(|d| !d.trim().is_empty()) {
            self.insert_note(Note {
                id: 0,
                ticket_id: id,
                text,
                detail_description: true,
                internal_analysis: false,
                resolution: false,
                date_created: info.last_updated,
                created_by: info.updated_by.clone(),
                info,
            });
        }
        id
    }

    /// Stores a new note under the next id; its ticket counts as changed when the note was made.
    pub(crate) fn insert_note(&mut self, mut note: Note) -> Id {
        let id = self.next_id(Entity::Note);
        note.id = id;
        if let Some(ticket) = self.tickets.get_mut(&note.ticket_id) {
            ticket.info = note.info.clone();
        }
        self.notes.insert(id, note);
        id
    }

    /// Stores a new configuration under the next id.
    pub(crate) fn insert_configuration(&mut self, mut configuration: Configuration) -> Id {
        let id = self.next_id(Entity::Configuration);
        configuration.id = id;
        self.configurations.insert(id, configuration);
        id
    }

    /// A field a dialect stored for a record (see `extras`).
    pub(crate) fn extra(&self, entity: Entity, id: Id, key: &str) -> Option<&Value> {
        self.extras.get(&(entity, id)).and_then(|m| m.get(key))
    }

    /// Stores fields a dialect keeps for a record (an empty map changes nothing).
    pub(crate) fn set_extras(&mut self, entity: Entity, id: Id, fields: Map<String, Value>) {
        if !fields.is_empty() {
            self.extras.entry((entity, id)).or_default().extend(fields);
        }
    }

    /// A small data set for unit tests: `companies` companies from `seed`.
    #[cfg(test)]
    pub(crate) fn sample(seed: u64, companies: usize) -> DataSet {
        DataSet::generate(&GenSpec {
            seed,
            companies,
            configurations: None,
        })
    }

    /// Lookups built on first use, for rendering many records in one request.
    pub(crate) fn index(&self) -> Index<'_> {
        Index {
            data: self,
            descriptions: OnceCell::new(),
            lines: OnceCell::new(),
        }
    }
}

/// Now, in whole seconds (every stored timestamp has whole seconds).
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

impl Info {
    /// Changed now by `by`.
    pub(crate) fn now(by: &str) -> Info {
        Info {
            last_updated: now(),
            updated_by: by.to_string(),
        }
    }
}

impl Ticket {
    /// A ticket with nothing set but the PSA's defaults (priority, source), entered at `info`;
    /// its id is allocated when it is stored.
    pub(crate) fn blank(picklists: &Picklists, info: Info) -> Ticket {
        Ticket {
            id: 0,
            summary: String::new(),
            board_id: 0,
            status_id: 0,
            priority_id: picklists.default_priority(),
            company_id: 0,
            contact_id: None,
            type_id: None,
            subtype_id: None,
            item_id: None,
            source_id: picklists.default_source(),
            agreement_id: None,
            date_entered: info.last_updated,
            entered_by: info.updated_by.clone(),
            info,
        }
    }
}

impl Configuration {
    /// An active configuration with the default status and nothing else set, changed at `info`;
    /// its id is allocated when it is stored.
    pub(crate) fn blank(picklists: &Picklists, info: Info) -> Configuration {
        Configuration {
            id: 0,
            company_id: 0,
            name: String::new(),
            type_id: 0,
            status_id: picklists.default_configuration_status(),
            contact_id: None,
            active: true,
            serial_number: None,
            model_number: None,
            tag_number: None,
            mac_address: None,
            ip_address: None,
            device_identifier: None,
            manufacturer_id: None,
            vendor_id: None,
            notes: None,
            installation_date: None,
            warranty_expiration: None,
            questions: Vec::new(),
            info,
        }
    }
}

/// Per-request lookups over a [`DataSet`], each built on first use in one pass.
pub(crate) struct Index<'a> {
    pub(crate) data: &'a DataSet,
    descriptions: OnceCell<HashMap<Id, &'a Note>>,
    lines: OnceCell<HashMap<Id, Vec<&'a AgreementLine>>>,
}

impl<'a> Index<'a> {
    /// A ticket's description: its first note, when that note is a discussion note.
    pub(crate) fn description(&self, ticket_id: Id) -> Option<&'a Note> {
        self.descriptions
            .get_or_init(|| {
                let mut first: HashMap<Id, &Note> = HashMap::new();
                for note in self.data.notes.values() {
                    first.entry(note.ticket_id).or_insert(note);
                }
                first.retain(|_, n| n.detail_description);
                first
            })
            .get(&ticket_id)
            .copied()
    }

    /// The lines of an agreement, by id.
    pub(crate) fn lines(&self, agreement_id: Id) -> &[&'a AgreementLine] {
        self.lines
            .get_or_init(|| {
                let mut by: HashMap<Id, Vec<&AgreementLine>> = HashMap::new();
                for line in self.data.agreement_lines.values() {
                    by.entry(line.agreement_id).or_default().push(line);
                }
                by
            })
            .get(&agreement_id)
            .map_or(&[], Vec::as_slice)
    }
}
