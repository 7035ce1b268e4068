//! Picklists: which BMS endpoint serves each reference kind, and reading them whole.
//!
//! BMS classifies tickets on three levels, mapped onto the contract like Autotask's: BMS's
//! ticket type (Incident, Service Request, Alert...) is the contract's *category*, BMS's issue
//! type the contract's *ticket type*, and BMS's sub-issue type (which belongs to one issue type)
//! the contract's *sub-type*.

use crate::client::Client;
use crate::map;
use psa_sdk::types::{Reference, ReferenceKind};
use psa_sdk::{Error, Result};

/// How a picklist is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list endpoint; `parent` names the entries' parent id property, if any.
    List {
        /// The path under `{origin}/api/`.
        path: &'static str,
        /// The property holding the parent's id (`issueTypeId`).
        parent: Option<&'static str>,
    },
    /// The dialect has no such list; the text says why.
    Unsupported(&'static str),
}

const fn list(path: &'static str) -> Source {
    Source::List { path, parent: None }
}

/// Why configuration picklists are missing.
const NO_CONFIGURATIONS: &str = "the Kaseya BMS connector does not read configuration items (BMS assets are synced from the RMM and the BMS API dialect psahost uses has no asset endpoints), so it has no configuration types, statuses, manufacturers or vendors";

/// The source of each reference kind.
pub fn source(kind: ReferenceKind) -> Source {
    match kind {
        ReferenceKind::Queue => list("v2/servicedesk/queues"),
        ReferenceKind::TicketStatus => list("v2/servicedesk/statuses"),
        ReferenceKind::TicketPriority => list("v2/servicedesk/priorities"),
        ReferenceKind::TicketCategory => list("v2/servicedesk/tickettypes"),
        ReferenceKind::TicketType => list("v2/servicedesk/issuetypes"),
        ReferenceKind::TicketSubType => Source::List {
            path: "v2/servicedesk/subissuetypes",
            parent: Some("issueTypeId"),
        },
        ReferenceKind::TicketSource => list("v2/servicedesk/sources"),
        ReferenceKind::NoteType => list("v2/servicedesk/notetypes"),
        ReferenceKind::CompanyType => list("v2/crm/accounttypes"),
        ReferenceKind::CompanyStatus => list("v2/crm/accountstatuses"),
        ReferenceKind::AgreementType => list("v2/finance/contracttypes"),
        ReferenceKind::ContractService => list("v2/finance/services"),
        ReferenceKind::ConfigurationType
        | ReferenceKind::ConfigurationStatus
        | ReferenceKind::Manufacturer
        | ReferenceKind::Vendor => Source::Unsupported(NO_CONFIGURATIONS),
    }
}

/// Reads a complete picklist, following every page.
pub fn read(client: &mut Client, kind: ReferenceKind) -> Result<Vec<Reference>> {
    match source(kind) {
        Source::Unsupported(why) => Err(Error::unsupported(why)),
        Source::List { path, parent } => client
            .get_all(path)?
            .iter()
            .map(|v| map::reference(v, parent))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_source() {
        use ReferenceKind::*;
        let expected = [
            (Queue, "v2/servicedesk/queues"),
            (TicketStatus, "v2/servicedesk/statuses"),
            (TicketPriority, "v2/servicedesk/priorities"),
            (TicketCategory, "v2/servicedesk/tickettypes"),
            (TicketType, "v2/servicedesk/issuetypes"),
            (TicketSource, "v2/servicedesk/sources"),
            (NoteType, "v2/servicedesk/notetypes"),
            (CompanyType, "v2/crm/accounttypes"),
            (CompanyStatus, "v2/crm/accountstatuses"),
            (AgreementType, "v2/finance/contracttypes"),
            (ContractService, "v2/finance/services"),
        ];
        for (kind, path) in expected {
            assert_eq!(
                source(kind),
                Source::List { path, parent: None },
                "{kind:?}"
            );
        }
        assert_eq!(
            source(TicketSubType),
            Source::List {
                path: "v2/servicedesk/subissuetypes",
                parent: Some("issueTypeId")
            }
        );
        for kind in [ConfigurationType, ConfigurationStatus, Manufacturer, Vendor] {
            match source(kind) {
                Source::Unsupported(why) => assert!(why.contains("configuration"), "{kind:?}"),
                other => panic!("{kind:?}: {other:?}"),
            }
        }
    }
}
