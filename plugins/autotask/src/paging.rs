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
//! The pages and their cursors are the SDK's [`psa_sdk::paging::Keyset`] (format version 1, for
//! example `v=1&e=companies&size=500&after=29684712&since=2026-01-01T00%3A00%3A00Z`, `since`
//! absent for a full sweep); this module says how Autotask asks for them.

use crate::query::{Filter, MAX_RECORDS};
use psa_sdk::paging::Keyset;

/// The page size used when the host asks for 0: Autotask's maximum, since every request counts
/// against the hourly budget.
pub const DEFAULT_PAGE_SIZE: u32 = MAX_RECORDS;

/// One page of one sweep: what the request sends and what the cursor encodes.
pub type PageState = Keyset;

/// The filter items of a page: the entity's incremental filter (built by the caller from
/// `since`) and `id gt after` (0 on the first page), in that order.
pub fn filter(state: &PageState, incremental: Option<Filter>) -> Vec<Filter> {
    incremental
        .into_iter()
        .chain([Filter::id_after(state.after.unwrap_or(0))])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PageState {
        PageState::first("companies", 500, Some("2026-01-01T00:00:00Z".into()))
    }

    #[test]
    fn cursors_of_earlier_versions_still_read() {
        // Written by this connector before the SDK's pager: the same format.
        let text = "v=1&e=companies&size=500&after=29684712&since=2026-01-01T00%3A00%3A00Z";
        let s = PageState::decode("companies", text, MAX_RECORDS).unwrap();
        assert_eq!(
            s,
            PageState {
                after: Some(29684712),
                ..state()
            }
        );
        assert_eq!(s.encode(), text);
        // A page=N cursor of the ConnectWise connector is not ours.
        assert!(
            PageState::decode("companies", "v=1&e=companies&size=100&page=3", MAX_RECORDS).is_err()
        );
    }

    #[test]
    fn filters_keep_the_sweep_on_every_page() {
        let first = state();
        let since = Filter::cmp("gte", "lastModifiedTime", "2026-01-01T00:00:00Z");
        assert_eq!(
            filter(&first, Some(since.clone())),
            vec![since.clone(), Filter::id_after(0)]
        );
        let second = first.next(&[3, 5, 9], true).unwrap().unwrap();
        assert_eq!(second.after, Some(9));
        assert_eq!(second.since, first.since);
        assert_eq!(
            filter(&second, Some(since.clone())),
            vec![since, Filter::id_after(9)]
        );
        assert_eq!(filter(&second, None), vec![Filter::id_after(9)]);
    }
}
