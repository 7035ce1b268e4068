//! The datasets `list-dataset` serves: Autotask entities outside the typed ones, read with
//! `POST /V1.0/{Entity}/query` and paged by keyset like the typed entities (the same cursor,
//! 500 records a page), each record the Autotask object as sent.
//!
//! `updated-since` filters on the entity's last-modified (or last-activity) field where the
//! Autotask REST API has one (the vendor's Swagger); entities without one (invoices, resources,
//! contract service units and blocks, SLA results, survey results) are read in full sweeps
//! (`updated-since: false`), their records without `updated-at`.

use crate::query::MAX_RECORDS;
use crate::{Paged, read_page_with};
use psa_sdk::dataset::{self, Fields};
use psa_sdk::prelude::*;

/// One dataset.
pub struct Dataset {
    /// The contract's name (`time-entries`).
    pub name: &'static str,
    /// The display name.
    pub label: &'static str,
    /// What the records are.
    pub what: &'static str,
    /// The sweep: the cursor's entity is the dataset's name, the path the Autotask entity, and
    /// at most one last-modified field.
    pub sweep: Paged,
}

/// A dataset of Autotask entity `path`, incremental by `since` when it has such a field.
const fn dataset(
    name: &'static str,
    label: &'static str,
    what: &'static str,
    path: &'static str,
    since: &'static [&'static str],
) -> Dataset {
    Dataset {
        name,
        label,
        what,
        sweep: Paged {
            name,
            path,
            since_fields: since,
            max_page: MAX_RECORDS,
        },
    }
}

/// The datasets, in `describe()` order.
pub const DATASETS: &[Dataset] = &[
    dataset(
        "time-entries",
        "Time entries",
        "Time entries of resources on tickets, tasks and general time",
        "TimeEntries",
        &["lastModifiedDateTime"],
    ),
    dataset(
        "opportunities",
        "Opportunities",
        "Sales opportunities",
        "Opportunities",
        &["lastActivity"],
    ),
    dataset(
        "projects",
        "Projects",
        "Projects",
        "Projects",
        &["lastActivityDateTime"],
    ),
    dataset(
        "project-tasks",
        "Project tasks",
        "Tasks of projects",
        "Tasks",
        &["lastActivityDateTime"],
    ),
    dataset("invoices", "Invoices", "Invoices", "Invoices", &[]),
    dataset(
        "resources",
        "Resources",
        "Resources (the MSP's users)",
        "Resources",
        &[],
    ),
    dataset(
        "company-notes",
        "Company notes",
        "Notes of companies",
        "CompanyNotes",
        &["lastModifiedDate"],
    ),
    dataset(
        "contract-service-units",
        "Contract service units",
        "Units of contract services per period",
        "ContractServiceUnits",
        &[],
    ),
    dataset(
        "contract-blocks",
        "Contract blocks",
        "Purchased blocks of block-hour contracts",
        "ContractBlocks",
        &[],
    ),
    dataset(
        "sla-results",
        "SLA results",
        "Service level agreement results of tickets",
        "ServiceLevelAgreementResults",
        &[],
    ),
    dataset(
        "survey-results",
        "Survey results",
        "Customer survey results",
        "SurveyResults",
        &[],
    ),
];

impl Dataset {
    /// The record fields: `id` and the last-modified field, if any.
    fn fields(&self) -> Fields<'static> {
        Fields::new("id", self.sweep.since_fields.first().copied())
    }

    /// The contract's description of the dataset.
    pub fn spec(&self) -> DatasetSpec {
        let since = match self.sweep.since_fields.first() {
            Some(field) => format!("incremental by {field}"),
            None => "full sweeps only: the entity has no modification time".to_string(),
        };
        let spec = DatasetSpec::new(
            self.name,
            self.label,
            &format!(
                "{} (POST /V1.0/{}/query, {since})",
                self.what, self.sweep.path
            ),
            self.sweep.max_page,
        );
        if self.sweep.incremental() {
            spec.incremental()
        } else {
            spec
        }
    }
}

/// One page of dataset `name`; an unknown name is `invalid-input` naming `dataset`.
pub fn list(name: &str, page: &PageRequest) -> Result<DatasetPage> {
    let dataset = dataset::find(DATASETS, name, |d| d.name)?;
    let fields = dataset.fields();
    let page = read_page_with(
        &dataset.sweep,
        page,
        |client, query| client.query_records(dataset.sweep.path, query, &fields),
        |r: &DatasetRecord| r.id.parse().ok(),
    )?;
    Ok(DatasetPage {
        items: page.items,
        next_cursor: page.next_cursor,
        total: page.total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_say_which_are_incremental() {
        let specs: Vec<(String, bool, u32)> = DATASETS
            .iter()
            .map(|d| d.spec())
            .map(|s| (s.name, s.updated_since, s.max_page_size))
            .collect();
        let incremental: Vec<&str> = specs.iter().filter(|s| s.1).map(|s| s.0.as_str()).collect();
        assert_eq!(
            incremental,
            [
                "time-entries",
                "opportunities",
                "projects",
                "project-tasks",
                "company-notes"
            ]
        );
        assert_eq!(specs.len(), 11);
        assert!(specs.iter().all(|s| s.2 == 500));
        let sla = DATASETS[9].spec();
        assert_eq!(sla.name, "sla-results");
        assert!(
            sla.description
                .contains("POST /V1.0/ServiceLevelAgreementResults/query"),
            "{}",
            sla.description
        );
    }
}
