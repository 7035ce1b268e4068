//! The datasets `list-dataset` serves: ConnectWise lists outside the typed entities, each record
//! the ConnectWise object as sent, its `updated-at` from `_info.lastUpdated`.
//!
//! Two shapes:
//! - a **flat** list (`time/entries`, ...) pages like the typed entities (the same cursor, the
//!   same `conditions=lastUpdated >= [...]`), with the count of the sweep on its first page;
//! - a list **per parent** (`company/companies/{parentId}/notes`, ...) walks the parents by id and
//!   reads each one's records by keyset (`id > last`, ascending), so a page can gather the
//!   records of several parents; its cursor (see [`ChildCursor`]) holds the last parent done,
//!   the parent in progress and its last record. It costs one request per parent (most have no
//!   notes, or a handful), plus one per [`PARENTS_PER_CALL`] parents to list them; it has no
//!   total.

use crate::client::Client;
use crate::conditions::{self, Conditions};
use crate::paging::{MAX_PAGE_SIZE, clamp_page_size};
use psa_sdk::cursor::{self, Reader, Writer};
use psa_sdk::dataset::{self, Fields};
use psa_sdk::prelude::*;

/// Where a dataset's records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list: the API path.
    Flat(&'static str),
    /// A list per parent record: the parents' path and the children's path with `{parentId}`.
    PerParent {
        /// The parents' list (`company/companies`).
        parents: &'static str,
        /// The children's list of one parent (`company/companies/{parentId}/notes`).
        children: &'static str,
    },
}

/// One dataset.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// The contract's name (`time-entries`), also the cursor's entity.
    pub name: &'static str,
    /// The display name.
    pub label: &'static str,
    /// What the records are.
    pub what: &'static str,
    /// Where they come from.
    pub source: Source,
}

/// Every record has `id` and `_info.lastUpdated`.
const FIELDS: Fields<'static> = Fields::new("id", Some("_info/lastUpdated"));

/// The datasets, in `describe()` order.
pub const DATASETS: &[Dataset] = &[
    Dataset {
        name: "time-entries",
        label: "Time entries",
        what: "Time entries of members against tickets, projects and activities",
        source: Source::Flat("time/entries"),
    },
    Dataset {
        name: "opportunities",
        label: "Opportunities",
        what: "Sales opportunities",
        source: Source::Flat("sales/opportunities"),
    },
    Dataset {
        name: "projects",
        label: "Projects",
        what: "Projects",
        source: Source::Flat("project/projects"),
    },
    Dataset {
        name: "project-tasks",
        label: "Project tasks",
        what: "Project tickets (the tasks of projects)",
        source: Source::Flat("project/tickets"),
    },
    Dataset {
        name: "invoices",
        label: "Invoices",
        what: "Invoices",
        source: Source::Flat("finance/invoices"),
    },
    Dataset {
        name: "members",
        label: "Members",
        what: "Members (the MSP's users)",
        source: Source::Flat("system/members"),
    },
    Dataset {
        name: "company-notes",
        label: "Company notes",
        what: "Notes of every company, read company by company (one request per company)",
        source: Source::PerParent {
            parents: "company/companies",
            children: "company/companies/{parentId}/notes",
        },
    },
    Dataset {
        name: "agreement-additions",
        label: "Agreement additions",
        what: "Additions (billed products) of every agreement, read agreement by agreement (one request per agreement)",
        source: Source::PerParent {
            parents: "finance/agreements",
            children: "finance/agreements/{parentId}/additions",
        },
    },
];

/// The parents one call visits at most: each costs a request, and a call has a deadline.
pub const PARENTS_PER_CALL: u32 = 25;

impl Dataset {
    /// The contract's description of the dataset.
    pub fn spec(&self) -> DatasetSpec {
        let endpoint = match self.source {
            Source::Flat(path) => format!("GET /{path}"),
            Source::PerParent { children, .. } => format!("GET /{children}"),
        };
        DatasetSpec::new(
            self.name,
            self.label,
            &format!(
                "{} ({endpoint}, incremental by _info.lastUpdated)",
                self.what
            ),
            MAX_PAGE_SIZE,
        )
        .incremental()
    }
}

/// The dataset named `name`, or `invalid-input` naming `dataset`.
pub fn find(name: &str) -> Result<&'static Dataset> {
    dataset::find(DATASETS, name, |d| d.name)
}

/// One page of dataset `name`.
pub fn list(name: &str, page: &PageRequest) -> Result<DatasetPage> {
    let dataset = find(name)?;
    match dataset.source {
        Source::Flat(path) => {
            let (items, next_cursor, total) = crate::read_page_counted(
                dataset.name,
                path,
                &[],
                MAX_PAGE_SIZE,
                page,
                |_, body| dataset::records(body, &FIELDS),
            )?;
            Ok(DatasetPage {
                items,
                next_cursor,
                total,
            })
        }
        Source::PerParent { parents, children } => {
            let state = ChildCursor::start(dataset.name, page)?;
            let mut client = Client::connect()?;
            let (items, next) = per_parent(&mut client, parents, children, state)?;
            Ok(DatasetPage {
                items,
                next_cursor: next.map(|n| n.encode()),
                total: None,
            })
        }
    }
}

/// The version of [`ChildCursor`]'s format.
const CHILD_CURSOR_VERSION: u32 = 1;

/// Where a per-parent sweep stands: `v=1&e={dataset}&size=N&after={parent}&parent={id}&last={id}&c={conditions}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCursor {
    /// The dataset.
    pub dataset: String,
    /// Records per page.
    pub page_size: u32,
    /// The children's `lastUpdated` condition of the whole sweep.
    pub conditions: Option<String>,
    /// Every parent with an id up to this one is done (0: none yet).
    pub after: u64,
    /// The parent in progress and its last record read.
    pub current: Option<(u64, u64)>,
}

impl ChildCursor {
    /// The cursor's state, or the first page's from `updated-since` and `page-size`.
    pub fn start(dataset: &str, page: &PageRequest) -> Result<Self> {
        if let Some(text) = page.cursor.as_deref().filter(|c| !c.is_empty()) {
            return Self::decode(dataset, text);
        }
        Ok(ChildCursor {
            dataset: dataset.to_string(),
            page_size: clamp_page_size(page.page_size, MAX_PAGE_SIZE),
            conditions: conditions::incremental(page.updated_since.as_deref(), &[])?,
            after: 0,
            current: None,
        })
    }

    /// The cursor text.
    pub fn encode(&self) -> String {
        let mut w = Writer::new(CHILD_CURSOR_VERSION, &self.dataset);
        w.field("size", self.page_size).field("after", self.after);
        if let Some((parent, last)) = self.current {
            w.field("parent", parent).field("last", last);
        }
        w.optional("c", self.conditions.as_deref());
        w.finish()
    }

    /// Reads a cursor of `dataset`; anything else is `invalid-input` naming `cursor`.
    pub fn decode(dataset: &str, text: &str) -> Result<Self> {
        let r = Reader::decode(
            CHILD_CURSOR_VERSION,
            dataset,
            text,
            &["size", "after", "parent", "last", "c"],
        )?;
        let parent: Option<u64> = r.parse("parent", "bad parent", cursor::number)?;
        let last: Option<u64> = r.parse("last", "bad position", cursor::number)?;
        let current = match (parent, last) {
            (Some(p), Some(l)) => Some((p, l)),
            (None, None) => None,
            _ => return Err(r.invalid("a parent without a position")),
        };
        Ok(ChildCursor {
            dataset: dataset.to_string(),
            page_size: r.require(
                "size",
                "bad page size",
                cursor::number_in(1..=MAX_PAGE_SIZE),
            )?,
            conditions: r.get("c").map(str::to_string),
            after: r.require("after", "bad position", cursor::number)?,
            current,
        })
    }

    /// The children's conditions after record `last` of a parent (`None`: all of them).
    fn child_conditions(&self, last: u64) -> Option<String> {
        let after = (last > 0).then(|| {
            let mut c = Conditions::new();
            c.push("id", ">", last);
            c.build().unwrap_or_default()
        });
        match (self.conditions.as_deref(), after) {
            (Some(base), Some(after)) => Some(format!("{base} and {after}")),
            (base, after) => base.map(str::to_string).or(after),
        }
    }
}

/// The ids of a list answer's records.
fn ids(records: &[DatasetRecord]) -> Result<Vec<u64>> {
    records
        .iter()
        .map(|r| {
            r.id.parse::<u64>().map_err(|_| {
                Error::malformed(format!(
                    "a ConnectWise record with a non-numeric id `{}`",
                    r.id
                ))
            })
        })
        .collect()
}

/// One page of a per-parent dataset: the children of the parents after `state.after` (resuming
/// the parent in progress), until the page is full, the parents run out or
/// [`PARENTS_PER_CALL`] parents were visited. The next state, `None` when every parent is done.
pub fn per_parent(
    client: &mut Client,
    parents: &str,
    children: &str,
    mut state: ChildCursor,
) -> Result<(Vec<DatasetRecord>, Option<ChildCursor>)> {
    let mut items: Vec<DatasetRecord> = Vec::new();
    let mut visited = 0;
    // The parent in progress first, then the next parents by id.
    let mut queue: Vec<(u64, u64)> = state.current.take().into_iter().collect();
    let mut parents_exhausted = false;
    loop {
        if queue.is_empty() {
            if parents_exhausted || visited >= PARENTS_PER_CALL {
                break;
            }
            let want = PARENTS_PER_CALL - visited;
            let found = parent_ids(client, parents, state.after, want)?;
            parents_exhausted = (found.len() as u32) < want;
            queue = found.into_iter().map(|id| (id, 0)).collect();
            queue.reverse();
            if queue.is_empty() {
                break;
            }
        }
        let (parent, last) = queue.pop().expect("a parent in the queue");
        visited += 1;
        let room = state.page_size - items.len() as u32;
        let mut query = vec![
            ("orderBy".to_string(), "id asc".to_string()),
            ("pageSize".to_string(), room.to_string()),
        ];
        if let Some(c) = state.child_conditions(last) {
            query.insert(0, ("conditions".to_string(), c));
        }
        let path = children.replace("{parentId}", &parent.to_string());
        let response = client.send(psa_sdk::http::Method::Get, &path, &query, &[], None, None)?;
        let page = dataset::records(&response.body, &FIELDS)?;
        let full = page.len() as u32 >= room;
        let page_last = ids(&page)?.into_iter().max();
        items.extend(page);
        if full {
            // This parent may have more: resume it after its last record.
            state.current = Some((parent, page_last.unwrap_or(last)));
            return Ok((items, Some(state)));
        }
        state.after = parent;
        if items.len() as u32 >= state.page_size || visited >= PARENTS_PER_CALL {
            break;
        }
    }
    let more = !(parents_exhausted && queue.is_empty());
    Ok((items, more.then_some(state)))
}

/// Up to `want` parent ids after `after`, ascending.
fn parent_ids(client: &mut Client, parents: &str, after: u64, want: u32) -> Result<Vec<u64>> {
    let query = vec![
        ("conditions".to_string(), format!("id > {after}")),
        ("orderBy".to_string(), "id asc".to_string()),
        ("fields".to_string(), "id".to_string()),
        ("pageSize".to_string(), want.to_string()),
    ];
    let response = client.send(psa_sdk::http::Method::Get, parents, &query, &[], None, None)?;
    ids(&dataset::records(&response.body, &Fields::new("id", None))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_their_endpoint_and_are_incremental() {
        let names: Vec<&str> = DATASETS.iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "time-entries",
                "opportunities",
                "projects",
                "project-tasks",
                "invoices",
                "members",
                "company-notes",
                "agreement-additions"
            ]
        );
        let notes = find("company-notes").unwrap().spec();
        assert!(notes.updated_since);
        assert_eq!(notes.max_page_size, 1000);
        assert!(
            notes
                .description
                .contains("GET /company/companies/{parentId}/notes"),
            "{}",
            notes.description
        );
        assert!(notes.description.contains("one request per company"));
        assert_eq!(find("tickets").unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn child_cursors_round_trip_and_pin_the_sweep() {
        let first = ChildCursor::start(
            "company-notes",
            &PageRequest {
                cursor: None,
                updated_since: Some("2026-01-01T00:00:00Z".into()),
                page_size: 5000,
            },
        )
        .unwrap();
        assert_eq!(first.page_size, 1000);
        let mut at = first.clone();
        at.after = 17;
        at.current = Some((19, 400));
        let text = at.encode();
        let again = ChildCursor::start(
            "company-notes",
            &PageRequest {
                cursor: Some(text.clone()),
                updated_since: None,
                page_size: 10,
            },
        )
        .unwrap();
        assert_eq!(again, at);
        assert_eq!(
            again.child_conditions(400).as_deref(),
            Some("lastUpdated >= [2026-01-01T00:00:00Z] and id > 400")
        );
        assert_eq!(again.child_conditions(0), again.conditions);
        let all = ChildCursor {
            conditions: None,
            ..again.clone()
        };
        assert_eq!(all.child_conditions(0), None);
        assert_eq!(all.child_conditions(9).as_deref(), Some("id > 9"));
        assert!(ChildCursor::decode("agreement-additions", &text).is_err());
        assert!(
            ChildCursor::decode(
                "company-notes",
                "v=1&e=company-notes&size=10&after=1&parent=2"
            )
            .is_err()
        );
    }
}
