//! The neutral data set every dialect serves: records, reference data, and the deterministic
//! generator that builds them from a seed.

mod generate;
mod model;
mod names;
mod picklists;

use std::collections::BTreeMap;

use time::OffsetDateTime;

pub use generate::{DATA_END, GenSpec};
pub use model::*;
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
    /// The next id of each entity kind (ids are never reused, as in a real database).
    next_ids: [Id; 7],
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
}
