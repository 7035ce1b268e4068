//! Picklists: which ConnectWise endpoint serves each reference kind, and reading them whole.

use crate::client::Client;
use crate::conditions;
use crate::map;
use psa_sdk::types::{Reference, ReferenceKind};
use psa_sdk::{Error, Result};
use serde_json::Value;

/// How a picklist is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list endpoint; entries named by `name` (or `description`).
    List(&'static str),
    /// `procurement/catalog`: products, named by their identifier.
    Catalog,
    /// `service/boards/{board}/{suffix}` for every board; the parent is the board.
    PerBoard(&'static str),
    /// Companies whose types include `Vendor`.
    Vendors,
    /// ConnectWise has no such list; the text says why.
    Unsupported(&'static str),
}

/// The source of each reference kind.
pub fn source(kind: ReferenceKind) -> Source {
    match kind {
        ReferenceKind::Queue => Source::List("service/boards"),
        ReferenceKind::TicketStatus => Source::PerBoard("statuses"),
        ReferenceKind::TicketPriority => Source::List("service/priorities"),
        ReferenceKind::TicketType => Source::PerBoard("types"),
        ReferenceKind::TicketSubType => Source::PerBoard("subtypes"),
        ReferenceKind::TicketSource => Source::List("service/sources"),
        ReferenceKind::ConfigurationType => Source::List("company/configurations/types"),
        ReferenceKind::ConfigurationStatus => Source::List("company/configurations/statuses"),
        ReferenceKind::Manufacturer => Source::List("procurement/manufacturers"),
        ReferenceKind::Vendor => Source::Vendors,
        ReferenceKind::ContractService => Source::Catalog,
        ReferenceKind::CompanyStatus => Source::List("company/companies/statuses"),
        ReferenceKind::CompanyType => Source::List("company/companies/types"),
        ReferenceKind::AgreementType => Source::List("finance/agreements/types"),
        ReferenceKind::TicketCategory => Source::Unsupported(
            "ConnectWise tickets have no category (that is an Autotask field): classify ConnectWise tickets with the board's types, sub-types and items",
        ),
        ReferenceKind::NoteType => Source::Unsupported(
            "ConnectWise ticket notes have no note type: a note is marked discussion (public), internal analysis or resolution by flags",
        ),
    }
}

/// The `childConditions` that select vendor companies.
pub fn vendor_child_conditions() -> String {
    format!("types/name = {}", conditions::string("Vendor"))
}

/// Reads a complete picklist, following every page.
pub fn list(client: &mut Client, kind: ReferenceKind) -> Result<Vec<Reference>> {
    match source(kind) {
        Source::Unsupported(why) => Err(Error::unsupported(why)),
        Source::List(path) => client
            .get_all(path, None, &[])?
            .iter()
            .map(|v| map::reference(v, None))
            .collect(),
        Source::Catalog => client
            .get_all("procurement/catalog", None, &[])?
            .iter()
            .map(map::catalog_reference)
            .collect(),
        Source::Vendors => {
            let extra = [("childConditions".to_string(), vendor_child_conditions())];
            client
                .get_all("company/companies", None, &extra)?
                .iter()
                .map(map::vendor_reference)
                .collect()
        }
        Source::PerBoard(suffix) => {
            let boards = client.get_all("service/boards", None, &[])?;
            let mut out = Vec::new();
            for board in &boards {
                let Some(board_id) = board.get("id").and_then(psa_sdk::json::id) else {
                    return Err(Error::malformed(
                        "a ConnectWise service board without an id",
                    ));
                };
                let path = format!("service/boards/{board_id}/{suffix}");
                for entry in client.get_all(&path, None, &[])? {
                    out.push(map::reference(&entry, Some(board_of(&entry, &board_id)))?);
                }
            }
            Ok(out)
        }
    }
}

/// The board an entry belongs to: its own `board.id`, else the board it was listed under.
fn board_of(entry: &Value, listed_under: &str) -> String {
    entry
        .get("board")
        .and_then(|b| b.get("id"))
        .and_then(psa_sdk::json::id)
        .unwrap_or_else(|| listed_under.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_has_a_source() {
        use ReferenceKind::*;
        let expected = [
            (Queue, Source::List("service/boards")),
            (TicketStatus, Source::PerBoard("statuses")),
            (TicketPriority, Source::List("service/priorities")),
            (TicketType, Source::PerBoard("types")),
            (TicketSubType, Source::PerBoard("subtypes")),
            (TicketSource, Source::List("service/sources")),
            (
                ConfigurationType,
                Source::List("company/configurations/types"),
            ),
            (
                ConfigurationStatus,
                Source::List("company/configurations/statuses"),
            ),
            (Manufacturer, Source::List("procurement/manufacturers")),
            (Vendor, Source::Vendors),
            (ContractService, Source::Catalog),
            (CompanyStatus, Source::List("company/companies/statuses")),
            (CompanyType, Source::List("company/companies/types")),
            (AgreementType, Source::List("finance/agreements/types")),
        ];
        for (kind, src) in expected {
            assert_eq!(source(kind), src, "{kind:?}");
        }
        for kind in [TicketCategory, NoteType] {
            assert!(matches!(source(kind), Source::Unsupported(_)), "{kind:?}");
        }
    }

    #[test]
    fn vendor_conditions_are_quoted() {
        assert_eq!(vendor_child_conditions(), r#"types/name = "Vendor""#);
    }

    #[test]
    fn board_parent() {
        assert_eq!(board_of(&json!({"id": 1, "board": {"id": 7}}), "3"), "7");
        assert_eq!(board_of(&json!({"id": 1}), "3"), "3");
    }
}
