//! Page positions and the opaque cursor of the paged reads.
//!
//! The connector pages by keyset: every page asks for `id gt {last id of the previous page}` with
//! the same other filters and the same `MaxRecords`, relying on Autotask returning query results
//! in ascending id order. Autotask's own `pageDetails.nextPageUrl` only says *whether* there is a
//! next page: the URL itself embeds the ids of the next pages (kilobytes for 500-record pages) and
//! points at one zone host, which may move between two calls of a sweep; a keyset position
//! survives both, and a sweep suspended for hours by a rate limit resumes exactly where it stopped.
//!
//! A cursor pins what decides which records a page holds: the entity, the page size and the
//! updated-since time of the first page. The next call uses the cursor's values whatever
//! `updated-since` and `page-size` the host passes again, so the pages of one sweep always belong
//! to the same query.
//!
//! Format (version 1): a query string, each value percent-encoded, for example
//! `v=1&e=companies&size=500&after=29684712&since=2026-01-01T00%3A00%3A00Z` (`since` absent for a
//! full sweep).

use crate::query::{Filter, MAX_RECORDS};
use psa_sdk::Error;
use psa_sdk::cursor;
use serde_json::Value;

/// The version of the cursor format.
const CURSOR_VERSION: u32 = 1;
/// The fields of a cursor besides the version and the entity.
const CURSOR_FIELDS: &[&str] = &["size", "after", "since"];

/// The page size used when the host asks for 0: Autotask's maximum, since every request counts
/// against the hourly budget.
pub const DEFAULT_PAGE_SIZE: u32 = MAX_RECORDS;

/// Clamps the host's page size to Autotask's maximum (and the entity's `max`); 0 means the default.
pub fn clamp_page_size(requested: u32, max: u32) -> u32 {
    let size = if requested == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        requested
    };
    size.clamp(1, max.min(MAX_RECORDS))
}

/// One page of one sweep: what the request sends and what the cursor encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageState {
    /// The entity the cursor belongs to (`companies`, `tickets`, ...).
    pub entity: String,
    /// Records per page (1..=500).
    pub page_size: u32,
    /// The updated-since time of the sweep (UTC, `YYYY-MM-DDTHH:MM:SSZ`), if incremental.
    pub since: Option<String>,
    /// Records with an id greater than this (0 on the first page).
    pub after: u64,
}

impl PageState {
    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, since: Option<String>) -> Self {
        PageState {
            entity: entity.to_string(),
            page_size,
            since,
            after: 0,
        }
    }

    /// The filter items of this page: the entity's incremental filter (built by the caller from
    /// `since`) and `id gt after`, in that order.
    pub fn filter(&self, incremental: Option<Filter>) -> Vec<Filter> {
        incremental
            .into_iter()
            .chain([Filter::id_after(self.after)])
            .collect()
    }

    /// The cursor text.
    pub fn encode(&self) -> String {
        let mut w = cursor::Writer::new(CURSOR_VERSION, &self.entity);
        w.field("size", self.page_size)
            .field("after", self.after)
            .optional("since", self.since.as_deref());
        w.finish()
    }

    /// Reads a cursor of `entity`; any other text is an `invalid-input` error naming `cursor`.
    pub fn decode(entity: &str, text: &str) -> Result<Self, Error> {
        let c = cursor::Reader::decode(CURSOR_VERSION, entity, text, CURSOR_FIELDS)?;
        Ok(PageState {
            entity: entity.to_string(),
            page_size: c.require("size", "bad page size", cursor::number_in(1..=MAX_RECORDS))?,
            since: c.parse("since", "bad updated-since", cursor::utc_time)?,
            after: c.require("after", "bad position", cursor::number)?,
        })
    }

    /// The state of the next page after a page holding `items`, when Autotask announced a next
    /// page (`pageDetails.nextPageUrl` not null). `None` ends the sweep: no next page, or a page
    /// whose largest id does not move past this page's position (a misbehaving answer must not
    /// make a sweep loop forever).
    pub fn next(&self, items: &[Value], has_next: bool) -> Option<Self> {
        if !has_next {
            return None;
        }
        let last = items
            .iter()
            .filter_map(|v| v.get("id").and_then(Value::as_u64))
            .max()?;
        (last > self.after).then(|| PageState {
            after: last,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> PageState {
        PageState::first("companies", 500, Some("2026-01-01T00:00:00Z".into()))
    }

    #[test]
    fn clamps_page_sizes() {
        assert_eq!(clamp_page_size(0, MAX_RECORDS), 500);
        assert_eq!(clamp_page_size(5, MAX_RECORDS), 5);
        assert_eq!(clamp_page_size(5000, MAX_RECORDS), 500);
        assert_eq!(clamp_page_size(500, 100), 100);
        assert_eq!(clamp_page_size(0, 100), 100);
    }

    #[test]
    fn cursor_round_trips() {
        let s = PageState {
            after: 29684712,
            ..state()
        };
        let text = s.encode();
        assert_eq!(
            text,
            "v=1&e=companies&size=500&after=29684712&since=2026-01-01T00%3A00%3A00Z"
        );
        assert_eq!(PageState::decode("companies", &text).unwrap(), s);
        let full = PageState::first("tickets", 7, None);
        assert_eq!(full.encode(), "v=1&e=tickets&size=7&after=0");
        assert_eq!(PageState::decode("tickets", &full.encode()).unwrap(), full);
    }

    #[test]
    fn rejects_foreign_cursors() {
        let text = state().encode();
        for (entity, cursor) in [
            ("contacts", text.as_str()),
            ("companies", "garbage"),
            ("companies", "v=2&e=companies&size=10&after=2"),
            ("companies", "v=1&e=companies&size=0&after=2"),
            ("companies", "v=1&e=companies&size=501&after=2"),
            ("companies", "v=1&e=companies&size=10&after=-1"),
            ("companies", "v=1&e=companies&size=10"),
            ("companies", "v=1&e=companies&size=10&after=2&x=1"),
            (
                "companies",
                "v=1&e=companies&size=10&after=2&since=yesterday",
            ),
            (
                "companies",
                "v=1&e=companies&size=10&after=2&since=2026-01-01T01%3A00%3A00%2B01%3A00",
            ),
            // A page=N cursor of the ConnectWise connector is not ours.
            ("companies", "v=1&e=companies&size=100&page=3"),
        ] {
            match PageState::decode(entity, cursor) {
                Err(Error::InvalidInput(p)) => assert_eq!(p.field, "cursor"),
                other => panic!("{cursor}: {other:?}"),
            }
        }
    }

    #[test]
    fn filters_keep_the_sweep_on_every_page() {
        let first = state();
        let since = Filter::cmp("gte", "lastModifiedTime", "2026-01-01T00:00:00Z");
        assert_eq!(
            first.filter(Some(since.clone())),
            vec![since.clone(), Filter::id_after(0)]
        );
        let items = vec![json!({"id": 3}), json!({"id": 9}), json!({"id": 5})];
        let second = first.next(&items, true).unwrap();
        assert_eq!(second.after, 9);
        assert_eq!(second.since, first.since);
        assert_eq!(
            second.filter(Some(since.clone())),
            vec![since, Filter::id_after(9)]
        );
        assert_eq!(second.filter(None), vec![Filter::id_after(9)]);
    }

    #[test]
    fn next_page_only_when_announced_and_forward() {
        let s = PageState {
            after: 9,
            ..state()
        };
        assert_eq!(s.next(&[json!({"id": 12})], false), None);
        assert_eq!(s.next(&[], true), None);
        assert_eq!(s.next(&[json!({"id": 9}), json!({"id": 4})], true), None);
        assert_eq!(s.next(&[json!({"name": "no id"})], true), None);
        assert_eq!(s.next(&[json!({"id": 12})], true).unwrap().after, 12);
    }
}
