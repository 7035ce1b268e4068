//! The datasets `list-dataset` serves: BMS lists outside the typed entities, paged by keyset like
//! them (`orderBy=id asc`, `pageSize` up to 100, `pageNumber=1`, `idGreaterThan`, and
//! `modifiedSince` for an incremental sweep), each record the BMS object as sent, its
//! `updated-at` from `modifiedOn`. The first page's `totalRecords` is the sweep's total.

use crate::paging::MAX_PAGE_SIZE;
use crate::read_list;
use psa_sdk::dataset::{self, Fields};
use psa_sdk::prelude::*;

/// One dataset.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// The contract's name (`time-entries`), also the cursor's entity.
    pub name: &'static str,
    /// The display name.
    pub label: &'static str,
    /// What the records are.
    pub what: &'static str,
    /// The API path under `{origin}/api/`.
    pub path: &'static str,
}

/// Every BMS record has `id` and `modifiedOn`.
const FIELDS: Fields<'static> = Fields::new("id", Some("modifiedOn"));

/// The datasets, in `describe()` order.
pub const DATASETS: &[Dataset] = &[
    Dataset {
        name: "time-entries",
        label: "Time entries",
        what: "Time logs of employees on tickets",
        path: "v2/servicedesk/timelogs",
    },
    Dataset {
        name: "opportunities",
        label: "Opportunities",
        what: "CRM opportunities",
        path: "v2/crm/opportunities",
    },
    Dataset {
        name: "projects",
        label: "Projects",
        what: "Projects",
        path: "v2/projects/projects",
    },
    Dataset {
        name: "project-tasks",
        label: "Project tasks",
        what: "Tasks of projects",
        path: "v2/projects/tasks",
    },
    Dataset {
        name: "invoices",
        label: "Invoices",
        what: "Invoices",
        path: "v2/finance/invoices",
    },
    Dataset {
        name: "employees",
        label: "Employees",
        what: "Employees (the MSP's users)",
        path: "v2/admin/employees",
    },
    Dataset {
        name: "company-notes",
        label: "Company notes",
        what: "CRM notes of accounts",
        path: "v2/crm/notes",
    },
];

impl Dataset {
    /// The contract's description of the dataset.
    pub fn spec(&self) -> DatasetSpec {
        DatasetSpec::new(
            self.name,
            self.label,
            &format!(
                "{} (GET /api/{}, incremental by modifiedOn)",
                self.what, self.path
            ),
            MAX_PAGE_SIZE,
        )
        .incremental()
    }
}

/// One page of dataset `name`; an unknown name is `invalid-input` naming `dataset`.
pub fn list(name: &str, page: &PageRequest) -> Result<DatasetPage> {
    let dataset = dataset::find(DATASETS, name, |d| d.name)?;
    let (items, next_cursor, total) = read_list(dataset.name, dataset.path, page, |(_, raw)| {
        dataset::record(&raw, &FIELDS)
    })?;
    Ok(DatasetPage {
        items,
        next_cursor,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_their_endpoint() {
        let specs: Vec<DatasetSpec> = DATASETS.iter().map(Dataset::spec).collect();
        assert_eq!(specs.len(), 7);
        assert!(
            specs
                .iter()
                .all(|s| s.updated_since && s.max_page_size == 100)
        );
        assert!(
            specs[0]
                .description
                .contains("GET /api/v2/servicedesk/timelogs"),
            "{}",
            specs[0].description
        );
    }
}
