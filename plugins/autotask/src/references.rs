//! Picklists: which Autotask field or entity serves each reference kind, and reading them whole.
//!
//! Most lists are picklist fields of an entity, read from `GET {Entity}/entityInformation/fields`
//! (one request per list). Contract services are the `Services` entity; vendors are companies
//! whose company type is the one labelled `Vendor`.

use crate::client::Client;
use crate::map;
use crate::query::Filter;
use psa_sdk::http::Method;
use psa_sdk::types::{Reference, ReferenceKind};
use psa_sdk::{Error, Result};
use serde_json::Value;

/// How a picklist is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The picklist of `field` in `GET {entity}/entityInformation/fields`.
    Field {
        /// The Autotask entity (`Tickets`).
        entity: &'static str,
        /// The picklist field (`queueID`).
        field: &'static str,
    },
    /// `POST Services/query`: the services that can be put on a contract.
    Services,
    /// Companies of the company type labelled `Vendor`.
    Vendors,
    /// Autotask has no such list; the text says why.
    Unsupported(&'static str),
}

const fn field(entity: &'static str, field: &'static str) -> Source {
    Source::Field { entity, field }
}

/// The source of each reference kind.
pub fn source(kind: ReferenceKind) -> Source {
    match kind {
        ReferenceKind::Queue => field("Tickets", "queueID"),
        ReferenceKind::TicketStatus => field("Tickets", "status"),
        ReferenceKind::TicketPriority => field("Tickets", "priority"),
        ReferenceKind::TicketType => field("Tickets", "issueType"),
        ReferenceKind::TicketSubType => field("Tickets", "subIssueType"),
        ReferenceKind::TicketCategory => field("Tickets", "ticketCategory"),
        ReferenceKind::TicketSource => field("Tickets", "source"),
        ReferenceKind::NoteType => field("TicketNotes", "noteType"),
        ReferenceKind::ConfigurationType => field("ConfigurationItems", "configurationItemType"),
        ReferenceKind::CompanyType => field("Companies", "companyType"),
        ReferenceKind::AgreementType => field("Contracts", "contractType"),
        ReferenceKind::ContractService => Source::Services,
        ReferenceKind::Vendor => Source::Vendors,
        ReferenceKind::ConfigurationStatus => Source::Unsupported(
            "Autotask configuration items have no status, only active/inactive (`isActive`): use `active` on updates",
        ),
        ReferenceKind::CompanyStatus => Source::Unsupported(
            "Autotask companies have no status list, only active/inactive (`isActive`); classify them with the company type (`company-type`)",
        ),
        ReferenceKind::Manufacturer => Source::Unsupported(
            "Autotask has no manufacturer list: a configuration item's manufacturer is free text on its product, or comes read-only from the RMM audit",
        ),
    }
}

/// `GET {entity}/entityInformation/fields`.
fn fields(client: &mut Client, entity: &str) -> Result<Value> {
    client
        .send(
            Method::Get,
            crate::client::Target::Path(&format!("{entity}/entityInformation/fields")),
            None,
            &crate::client::ErrorContext::default(),
        )?
        .json()
}

/// The picklist of `field` of `entity`, read whole.
pub fn picklist(client: &mut Client, entity: &str, field: &str) -> Result<Vec<Reference>> {
    let info = fields(client, entity)?;
    map::picklist(&info, field).unwrap_or_else(|| {
        Err(Error::malformed(format!(
            "Autotask's {entity} field information has no picklist `{field}`"
        )))
    })
}

/// The company type value labelled `Vendor` in the `companyType` picklist.
pub fn vendor_type(company_types: &[Reference]) -> Option<&str> {
    company_types
        .iter()
        .find(|t| t.name.trim().eq_ignore_ascii_case("vendor"))
        .map(|t| t.id.as_str())
}

/// The filter that selects the companies of company type `value`.
pub fn vendor_filter(value: &str) -> Vec<Filter> {
    let value = value
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(value));
    vec![Filter::eq("companyType", value), Filter::id_after(0)]
}

/// Reads a complete picklist, following every page.
pub fn list(client: &mut Client, kind: ReferenceKind) -> Result<Vec<Reference>> {
    match source(kind) {
        Source::Unsupported(why) => Err(Error::unsupported(why)),
        Source::Field { entity, field } => picklist(client, entity, field),
        Source::Services => client
            .query_all("Services", vec![Filter::id_after(0)])?
            .iter()
            .map(map::service_reference)
            .collect(),
        Source::Vendors => {
            let types = picklist(client, "Companies", "companyType")?;
            let Some(vendor) = vendor_type(&types) else {
                return Ok(Vec::new());
            };
            client
                .query_all("Companies", vendor_filter(vendor))?
                .iter()
                .map(map::vendor_reference)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_source() {
        use ReferenceKind::*;
        let expected = [
            (Queue, field("Tickets", "queueID")),
            (TicketStatus, field("Tickets", "status")),
            (TicketPriority, field("Tickets", "priority")),
            (TicketType, field("Tickets", "issueType")),
            (TicketSubType, field("Tickets", "subIssueType")),
            (TicketCategory, field("Tickets", "ticketCategory")),
            (TicketSource, field("Tickets", "source")),
            (NoteType, field("TicketNotes", "noteType")),
            (
                ConfigurationType,
                field("ConfigurationItems", "configurationItemType"),
            ),
            (CompanyType, field("Companies", "companyType")),
            (AgreementType, field("Contracts", "contractType")),
            (ContractService, Source::Services),
            (Vendor, Source::Vendors),
        ];
        for (kind, src) in expected {
            assert_eq!(source(kind), src, "{kind:?}");
        }
        for kind in [ConfigurationStatus, CompanyStatus, Manufacturer] {
            assert!(matches!(source(kind), Source::Unsupported(_)), "{kind:?}");
        }
    }

    #[test]
    fn vendors_by_company_type_label() {
        let r = |id: &str, name: &str| Reference {
            id: id.into(),
            name: name.into(),
            active: true,
            parent_id: None,
            raw: "{}".into(),
        };
        let types = vec![r("1", "Customer"), r("7", "Vendor"), r("8", "Partner")];
        assert_eq!(vendor_type(&types), Some("7"));
        assert_eq!(vendor_type(&types[..1]), None);
        assert_eq!(
            vendor_filter("7"),
            vec![Filter::eq("companyType", 7), Filter::id_after(0)]
        );
        assert_eq!(
            vendor_filter("V")[0],
            Filter::eq("companyType", "V"),
            "a non-numeric value stays text"
        );
    }
}
