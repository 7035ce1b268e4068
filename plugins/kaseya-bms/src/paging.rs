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
//! Format (version 1): a query string, each value percent-encoded, for example
//! `v=1&e=accounts&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z` (`since` only when the
//! sweep is incremental).

use psa_sdk::Error;
use psa_sdk::cursor;

/// The version of the cursor format.
const CURSOR_VERSION: u32 = 1;
/// The fields of a cursor besides the version and the entity.
const CURSOR_FIELDS: &[&str] = &["size", "after", "since"];

/// The largest page BMS serves (larger values are silently clamped by BMS).
pub const MAX_PAGE_SIZE: u32 = 100;
/// The page size used when the host asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// One page of one query: what the request sends and what the cursor encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageState {
    /// The entity the cursor belongs to (`accounts`, `tickets`, ...).
    pub entity: String,
    /// Records per page (1..=100).
    pub page_size: u32,
    /// The `modifiedSince` filter of the whole sweep (`YYYY-MM-DDTHH:MM:SSZ`).
    pub since: Option<String>,
    /// The last id read; the page holds the records with a greater id.
    pub after: Option<u64>,
}

/// Clamps the host's page size to BMS's maximum; 0 means the default.
pub fn clamp_page_size(requested: u32) -> u32 {
    let size = if requested == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        requested
    };
    size.clamp(1, MAX_PAGE_SIZE)
}

impl PageState {
    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, since: Option<String>) -> Self {
        PageState {
            entity: entity.to_string(),
            page_size,
            since,
            after: None,
        }
    }

    /// The query parameters of this page's request: order, page size, page number 1, and the
    /// filters (`modifiedSince` on every page, `idGreaterThan` after the first).
    pub fn query(&self) -> Vec<(String, String)> {
        let mut q = vec![
            ("orderBy".to_string(), "id asc".to_string()),
            ("pageSize".to_string(), self.page_size.to_string()),
            ("pageNumber".to_string(), "1".to_string()),
        ];
        if let Some(since) = &self.since {
            q.push(("modifiedSince".to_string(), since.clone()));
        }
        if let Some(after) = self.after {
            q.push(("idGreaterThan".to_string(), after.to_string()));
        }
        q
    }

    /// The cursor text.
    pub fn encode(&self) -> String {
        let mut w = cursor::Writer::new(CURSOR_VERSION, &self.entity);
        w.field("size", self.page_size)
            .optional("after", self.after)
            .optional("since", self.since.as_deref());
        w.finish()
    }

    /// Reads a cursor of `entity`; any other text is an `invalid-input` error naming `cursor`.
    /// A cursor always has a position: the first page has no cursor.
    pub fn decode(entity: &str, text: &str) -> Result<Self, Error> {
        let c = cursor::Reader::decode(CURSOR_VERSION, entity, text, CURSOR_FIELDS)?;
        Ok(PageState {
            entity: entity.to_string(),
            page_size: c.require(
                "size",
                "bad page size",
                cursor::number_in(1..=MAX_PAGE_SIZE),
            )?,
            since: c.parse("since", "bad modified-since time", cursor::utc_time)?,
            after: Some(c.require("after", "no position", cursor::number)?),
        })
    }

    /// The state of the next page, given the ids of this page's records in the order BMS sent
    /// them and its `totalRecords` (the records matching this page's filters, this page
    /// included); `None` after the last page.
    ///
    /// The ids must ascend and lie after this page's position: a server that ignored the order or
    /// the keyset filter would otherwise make the sweep skip records or loop forever, so that
    /// answer is a malformed-response error. Without `totalRecords` a full page means more.
    pub fn next(&self, ids: &[u64], total: Option<u64>) -> Result<Option<Self>, Error> {
        let mut previous = self.after;
        for &id in ids {
            if previous.is_some_and(|p| id <= p) {
                return Err(Error::malformed(format!(
                    "BMS answered the {} page after id {} with ids out of ascending order or not after it ({id} after {}): the keyset filter `idGreaterThan` or `orderBy=id asc` was not applied",
                    self.entity,
                    self.after.map_or("(start)".to_string(), |a| a.to_string()),
                    previous.unwrap_or_default(),
                )));
            }
            previous = Some(id);
        }
        let Some(&last) = ids.last() else {
            return Ok(None);
        };
        let more = match total {
            Some(total) => total > ids.len() as u64,
            None => ids.len() as u64 >= u64::from(self.page_size),
        };
        Ok(more.then(|| PageState {
            after: Some(last),
            ..self.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PageState {
        PageState::first("accounts", 100, Some("2026-01-01T00:00:00Z".into()))
    }

    fn field(e: Error) -> String {
        match e {
            Error::InvalidInput(p) => p.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clamps_page_sizes() {
        assert_eq!(clamp_page_size(0), DEFAULT_PAGE_SIZE);
        assert_eq!(clamp_page_size(5), 5);
        assert_eq!(clamp_page_size(100), 100);
        assert_eq!(clamp_page_size(5000), 100);
    }

    #[test]
    fn first_page_query() {
        assert_eq!(
            state().query(),
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
        assert_eq!(full.query().len(), 3);
    }

    #[test]
    fn next_pages_keep_the_filter_and_move_the_keyset() {
        let first = state();
        let second = first.next(&[3, 5, 9], Some(250)).unwrap().unwrap();
        assert_eq!(second.after, Some(9));
        assert_eq!(second.since, first.since);
        assert_eq!(second.page_size, 100);
        let q = second.query();
        assert_eq!(q[..4], first.query()[..]);
        assert_eq!(q[4], ("idGreaterThan".to_string(), "9".to_string()));
        // totalRecords counts the remaining records: this page holds all of them.
        assert_eq!(second.next(&[10, 11], Some(2)).unwrap(), None);
        // An empty page ends the sweep whatever totalRecords says.
        assert_eq!(second.next(&[], Some(40)).unwrap(), None);
        // Without totalRecords: a full page means more.
        let small = PageState::first("tickets", 2, None);
        assert_eq!(small.next(&[1, 2], None).unwrap().unwrap().after, Some(2));
        assert_eq!(small.next(&[1], None).unwrap(), None);
        // A page silently clamped by the server below the asked size still continues.
        let big = PageState::first("tickets", 100, None);
        assert_eq!(big.next(&[1, 2], Some(5)).unwrap().unwrap().after, Some(2));
    }

    #[test]
    fn next_refuses_answers_that_ignore_order_or_keyset() {
        let second = state().next(&[3, 9], Some(10)).unwrap().unwrap();
        for ids in [&[9u64, 10][..], &[8], &[10, 10], &[12, 11]] {
            match second.next(ids, Some(10)) {
                Err(Error::Remote(p)) => {
                    assert_eq!(p.code.as_deref(), Some("malformed-response"), "{ids:?}")
                }
                other => panic!("{ids:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn cursor_round_trips() {
        let s = state().next(&[1234], Some(5)).unwrap().unwrap();
        let text = s.encode();
        assert_eq!(
            text,
            "v=1&e=accounts&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z"
        );
        assert_eq!(PageState::decode("accounts", &text).unwrap(), s);
        let full = PageState {
            after: Some(7),
            ..PageState::first("contracts", 25, None)
        };
        assert_eq!(full.encode(), "v=1&e=contracts&size=25&after=7");
        assert_eq!(
            PageState::decode("contracts", &full.encode()).unwrap(),
            full
        );
    }

    #[test]
    fn rejects_foreign_cursors() {
        let text = state().next(&[1], Some(9)).unwrap().unwrap().encode();
        for (entity, cursor) in [
            ("contacts", text.as_str()),
            ("accounts", "garbage"),
            ("accounts", "v=2&e=accounts&size=10&after=2"),
            ("accounts", "v=1&e=accounts&size=0&after=2"),
            ("accounts", "v=1&e=accounts&size=500&after=2"),
            ("accounts", "v=1&e=accounts&size=10&after=-1"),
            ("accounts", "v=1&e=accounts&size=10"),
            ("accounts", "v=1&e=accounts&size=10&after=2&page=3"),
            ("accounts", "v=1&e=accounts&size=10&after=2&since=yesterday"),
            (
                "accounts",
                "v=1&e=accounts&size=10&after=2&since=2026-01-01T00%3A00%3A00%2B02%3A00",
            ),
        ] {
            assert_eq!(
                field(PageState::decode(entity, cursor).unwrap_err()),
                "cursor",
                "{cursor}"
            );
        }
    }
}
