//! Page positions and the opaque cursor of the paged reads.
//!
//! BMS lists take `pageSize`/`pageNumber` with a `{"result": [...], "totalRecords": n}` envelope.
//! Counting pages by number goes wrong while a sweep runs: a record deleted from an earlier page
//! shifts every later record one place back, so one record is never read, and a complete sweep
//! then reports it as deleted. The connector therefore pages by *keyset*: every request asks for
//! the first page (`pageNumber=1`) of the records with an id greater than the last id already
//! read (`idGreaterThan`), ordered by id ascending. Records deleted, created or changed during the
//! sweep can no longer make it skip one.
//!
//! A cursor pins everything that decides which records a page holds: the entity, the page size
//! and the `modifiedSince` filter of the first page. The next call sends the same filter and page
//! size whatever `updated-since` and `page-size` the host passes again, so the pages of one sweep
//! always belong to the same query.
//!
//! The pages and their cursors are the SDK's [`psa_sdk::paging::Keyset`] (format version 1, for
//! example `v=1&e=accounts&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z`, `since` only
//! when the sweep is incremental); this module says how BMS asks for them. Picklists, read whole
//! within one call, page by number ([`psa_sdk::paging::PageNumber`]) until `totalRecords`.

use psa_sdk::Result;
use psa_sdk::paging::{Keyset, PageNumber};
use psa_sdk::types::PageRequest;

/// The largest page BMS serves (larger values are silently clamped by BMS).
pub const MAX_PAGE_SIZE: u32 = 100;
/// The page size used when the host asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// One keyset page of one query: what the request sends and what the cursor encodes.
pub type PageState = Keyset;

/// The page state of a request: the cursor's when there is one (its filter and page size rule
/// the whole sweep), else the first page built from `updated-since` and `page-size`.
pub fn page_state(entity: &str, page: &PageRequest) -> Result<PageState> {
    Keyset::start(entity, page, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// The query parameters of a keyset page's request: order, page size, page number 1, and the
/// filters (`modifiedSince` on every page, `idGreaterThan` after the first).
pub fn query(state: &PageState) -> Vec<(String, String)> {
    let mut q = vec![
        ("orderBy".to_string(), "id asc".to_string()),
        ("pageSize".to_string(), state.page_size.to_string()),
        ("pageNumber".to_string(), "1".to_string()),
    ];
    if let Some(since) = &state.since {
        q.push(("modifiedSince".to_string(), since.clone()));
    }
    if let Some(after) = state.after {
        q.push(("idGreaterThan".to_string(), after.to_string()));
    }
    q
}

/// The query parameters of a numbered page (picklists): order, page size, page number.
pub fn number_query(page: &PageNumber) -> Vec<(String, String)> {
    vec![
        ("orderBy".to_string(), "id asc".to_string()),
        ("pageSize".to_string(), page.page_size.to_string()),
        ("pageNumber".to_string(), page.page.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PageState {
        PageState::first("accounts", 100, Some("2026-01-01T00:00:00Z".into()))
    }

    #[test]
    fn first_page_query() {
        assert_eq!(
            query(&state()),
            vec![
                ("orderBy".to_string(), "id asc".to_string()),
                ("pageSize".to_string(), "100".to_string()),
                ("pageNumber".to_string(), "1".to_string()),
                (
                    "modifiedSince".to_string(),
                    "2026-01-01T00:00:00Z".to_string()
                ),
            ]
        );
        let full = PageState::first("contacts", 7, None);
        assert_eq!(query(&full).len(), 3);
    }

    #[test]
    fn next_pages_keep_the_filter_and_move_the_keyset() {
        let first = state();
        let second = first
            .next(&[3, 5, 9], first.more(3, Some(250)))
            .unwrap()
            .unwrap();
        let q = query(&second);
        assert_eq!(q[..4], query(&first)[..]);
        assert_eq!(q[4], ("idGreaterThan".to_string(), "9".to_string()));
    }

    #[test]
    fn cursors_of_earlier_versions_still_read() {
        // Written by this connector before the SDK's pager: the same format.
        let text = "v=1&e=accounts&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z";
        let s = PageState::decode("accounts", text, MAX_PAGE_SIZE).unwrap();
        assert_eq!(
            (s.after, s.since.as_deref()),
            (Some(1234), Some("2026-01-01T00:00:00Z"))
        );
        assert_eq!(s.encode(), text);
        assert!(
            PageState::decode("accounts", "v=1&e=accounts&size=500&after=2", MAX_PAGE_SIZE)
                .is_err()
        );
    }

    #[test]
    fn numbered_pages() {
        let p = PageNumber::first("v2/system/lookup/priorities", MAX_PAGE_SIZE, None);
        assert_eq!(
            number_query(&p.next(100, Some(250)).unwrap()),
            vec![
                ("orderBy".to_string(), "id asc".to_string()),
                ("pageSize".to_string(), "100".to_string()),
                ("pageNumber".to_string(), "2".to_string()),
            ]
        );
    }
}
