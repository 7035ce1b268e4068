//! Pagers for the three paging styles of PSA APIs, each with its cursor (see [`crate::cursor`]).
//!
//! A `list-*` operation reads one page and returns the cursor of the next; the host keeps the
//! cursor in its checkpoint (for hours, across restarts) and passes it back. So a cursor pins
//! what decides which records a page holds, the entity, the page size and the updated-since
//! filter of the sweep's first page, and the next call uses the cursor's values whatever
//! `page-size` and `updated-since` the host passes again.
//!
//! - [`Keyset`]: "records with an id greater than the last one read", ordered by id
//!   (`idGreaterThan=1234`, `id gt 1234`). The sturdiest style: records created or deleted during
//!   the sweep cannot make it skip or repeat one. Cursor `v=1&e=accounts&size=100&after=1234`.
//! - [`PageNumber`]: `page=N` with a total count, adapting to a page size the PSA caps silently
//!   (ask 500, get 100 with `total: 950`: the next pages are asked at 100, and a short page is not
//!   mistaken for the last). Cursor `v=1&e=clients&size=100&page=3`.
//! - [`NextUrl`]: the PSA gives the URL of the next page (an RFC 8288 `Link: <...>; rel="next"`
//!   header, see [`crate::http::link_next`], or a `next` field). The cursor holds that URL, which
//!   must stay on the origin of the first request (the connector sends credentials to it) and
//!   must change from page to page. Cursor `v=1&e=tickets&size=50&url=https%3A%2F%2F...`.
//!
//! Every cursor also carries `since` (the sweep's updated-since, in the contract's UTC form) when
//! there is one. A cursor of another entity, another style or version, or with a bad field is an
//! `invalid-input` error naming `cursor`.
//!
//! ```
//! use psa_sdk::paging::{self, Keyset};
//! use psa_sdk::types::PageRequest;
//!
//! // The host's request: no cursor, so the first page.
//! let request = PageRequest { cursor: None, updated_since: None, page_size: 0 };
//! let page = Keyset::start("accounts", &request, 100, 500)?;
//! assert_eq!((page.page_size, page.after), (100, None));
//! // ... read `idGreaterThan={page.after}`, get ids 3, 5, 9 and `remaining: 250` ...
//! let next = page.next(&[3, 5, 9], page.more(3, Some(250)))?.expect("more pages");
//! assert_eq!(next.encode(), "v=1&e=accounts&size=100&after=9");
//!
//! // The next call: the cursor rules, whatever page size the host passes again.
//! let request = PageRequest { cursor: Some(next.encode()), updated_since: None, page_size: 7 };
//! assert_eq!(Keyset::start("accounts", &request, 100, 500)?, next);
//! # Ok::<(), psa_sdk::Error>(())
//! ```

use crate::cursor::{self, Reader, Writer};
use crate::error::{Error, Result};
use crate::types::PageRequest;

/// The version of the cursor formats of this module.
pub const CURSOR_VERSION: u32 = 1;

/// The page size to ask for: the host's `requested`, `default` when it asks 0, at most `max`
/// (the PSA's largest page) and at least 1.
///
/// ```
/// use psa_sdk::paging::page_size;
/// assert_eq!(page_size(0, 100, 500), 100);
/// assert_eq!(page_size(5000, 100, 500), 500);
/// assert_eq!(page_size(7, 100, 500), 7);
/// ```
pub fn page_size(requested: u32, default: u32, max: u32) -> u32 {
    let size = if requested == 0 { default } else { requested };
    size.clamp(1, max.max(1))
}

/// The host's `updated-since` of a first page in the contract's UTC form (an offset is
/// converted; a blank value is none); an invalid time is an error naming `updated-since`.
pub fn since(page: &PageRequest) -> Result<Option<String>> {
    page.updated_since
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| crate::time::utc_input("updated-since", s))
        .transpose()
}

/// The cursor of a request, if it has one (an empty cursor is none).
fn cursor_of(page: &PageRequest) -> Option<&str> {
    page.cursor.as_deref().filter(|c| !c.trim().is_empty())
}

/// Writes the fields every cursor starts with.
fn writer(entity: &str, page_size: u32) -> Writer {
    let mut w = Writer::new(CURSOR_VERSION, entity);
    w.field("size", page_size);
    w
}

fn read_size(c: &Reader, max: u32) -> Result<u32> {
    c.require("size", "bad page size", cursor::number_in(1..=max.max(1)))
}

fn read_since(c: &Reader) -> Result<Option<String>> {
    c.parse("since", "bad updated-since", cursor::utc_time)
}

// ---------------------------------------------------------------------------------------------

/// A keyset page: the records with an id greater than `after` (all of them on the first page),
/// ordered by id ascending, at most `page_size` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    /// The entity the cursor belongs to (`accounts`, `tickets`).
    pub entity: String,
    /// Records per page.
    pub page_size: u32,
    /// The sweep's updated-since filter (`YYYY-MM-DDTHH:MM:SSZ`), if incremental.
    pub since: Option<String>,
    /// The last id read: the page holds the records with a greater id. `None` on the first page.
    pub after: Option<u64>,
}

impl Keyset {
    const FIELDS: &[&str] = &["size", "after", "since"];

    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, since: Option<String>) -> Self {
        Keyset {
            entity: entity.to_string(),
            page_size,
            since,
            after: None,
        }
    }

    /// The page a request asks for: its cursor's, else the first page with the host's page
    /// size (see [`page_size`]) and updated-since (see [`since`]).
    pub fn start(
        entity: &str,
        page: &PageRequest,
        default_size: u32,
        max_size: u32,
    ) -> Result<Self> {
        match cursor_of(page) {
            Some(text) => Keyset::decode(entity, text, max_size),
            None => Ok(Keyset::first(
                entity,
                page_size(page.page_size, default_size, max_size),
                since(page)?,
            )),
        }
    }

    /// The cursor text: `v=1&e={entity}&size={n}`, then `after` and `since` when set.
    pub fn encode(&self) -> String {
        let mut w = writer(&self.entity, self.page_size);
        w.optional("after", self.after)
            .optional("since", self.since.as_deref());
        w.finish()
    }

    /// Reads a keyset cursor of `entity` whose page size is at most `max_size`. A cursor always
    /// has a position (the first page has no cursor).
    pub fn decode(entity: &str, text: &str, max_size: u32) -> Result<Self> {
        let c = Reader::decode(CURSOR_VERSION, entity, text, Self::FIELDS)?;
        Ok(Keyset {
            entity: entity.to_string(),
            page_size: read_size(&c, max_size)?,
            since: read_since(&c)?,
            after: Some(c.require("after", "no position", cursor::number)?),
        })
    }

    /// Whether more records follow a page of `count` records: when the PSA says how many
    /// records matched this page's filters (`remaining`, this page included), whether that is
    /// more than the page; otherwise whether the page is full.
    pub fn more(&self, count: usize, remaining: Option<u64>) -> bool {
        let count = count as u64;
        match remaining {
            Some(remaining) => remaining > count,
            None => count >= u64::from(self.page_size),
        }
    }

    /// The next page after a page whose records have `ids` (in the order the PSA sent them),
    /// when `more` records follow (see [`Keyset::more`]); `None` after the last page or an
    /// empty one.
    ///
    /// The ids must ascend and lie after this page's position: a PSA that ignored the order or
    /// the filter would otherwise make the sweep skip records or loop forever, so that answer is
    /// a malformed-response error.
    pub fn next(&self, ids: &[u64], more: bool) -> Result<Option<Self>> {
        let mut previous = self.after;
        for &id in ids {
            if let Some(p) = previous.filter(|p| id <= *p) {
                return Err(Error::malformed(format!(
                    "the {} page after id {} has ids out of ascending order or not after it ({id} after {p}): the PSA did not apply the id filter or the order by id",
                    self.entity,
                    self.after
                        .map_or_else(|| "(start)".to_string(), |a| a.to_string()),
                )));
            }
            previous = Some(id);
        }
        let Some(&last) = ids.last() else {
            return Ok(None);
        };
        Ok(more.then(|| Keyset {
            after: Some(last),
            ..self.clone()
        }))
    }
}

// ---------------------------------------------------------------------------------------------

/// A numbered page (`page=N`, 1-based) of `page_size` records, for PSAs that say how many
/// records match in all (`total`).
///
/// A PSA that caps the page size silently (asked 500, sends 100) is followed: when a page holds
/// fewer records than asked while the total says more follow, the page size becomes the number
/// received, and the page number is counted in that size from then on. Without a total, a
/// short page ends the sweep.
///
/// ```
/// use psa_sdk::paging::PageNumber;
///
/// let first = PageNumber::first("clients", 500, None);
/// // The PSA sent 100 of 950: it caps pages at 100.
/// let second = first.next(100, Some(950)).expect("more pages");
/// assert_eq!((second.page, second.page_size), (2, 100));
/// assert_eq!(second.encode(), "v=1&e=clients&size=100&page=2");
/// // ... pages 3 to 9 ...
/// let last = PageNumber { page: 10, ..second.clone() };
/// assert_eq!(last.next(50, Some(950)), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNumber {
    /// The entity the cursor belongs to.
    pub entity: String,
    /// Records per page.
    pub page_size: u32,
    /// The sweep's updated-since filter, if incremental.
    pub since: Option<String>,
    /// The page number, from 1.
    pub page: u32,
}

impl PageNumber {
    const FIELDS: &[&str] = &["size", "page", "since"];

    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, since: Option<String>) -> Self {
        PageNumber {
            entity: entity.to_string(),
            page_size,
            since,
            page: 1,
        }
    }

    /// The page a request asks for: its cursor's, else the first page (see [`Keyset::start`]).
    pub fn start(
        entity: &str,
        page: &PageRequest,
        default_size: u32,
        max_size: u32,
    ) -> Result<Self> {
        match cursor_of(page) {
            Some(text) => PageNumber::decode(entity, text, max_size),
            None => Ok(PageNumber::first(
                entity,
                page_size(page.page_size, default_size, max_size),
                since(page)?,
            )),
        }
    }

    /// How many records the pages before this one held.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }

    /// The cursor text: `v=1&e={entity}&size={n}&page={p}`, then `since` when set.
    pub fn encode(&self) -> String {
        let mut w = writer(&self.entity, self.page_size);
        w.field("page", self.page)
            .optional("since", self.since.as_deref());
        w.finish()
    }

    /// Reads a page-number cursor of `entity` whose page size is at most `max_size`.
    pub fn decode(entity: &str, text: &str, max_size: u32) -> Result<Self> {
        let c = Reader::decode(CURSOR_VERSION, entity, text, Self::FIELDS)?;
        Ok(PageNumber {
            entity: entity.to_string(),
            page_size: read_size(&c, max_size)?,
            since: read_since(&c)?,
            page: c.require("page", "bad page", cursor::number_in(1..=u32::MAX))?,
        })
    }

    /// The next page after this one, which held `count` records of `total` (all the records
    /// matching the sweep's filters, when the PSA says); `None` after the last page.
    ///
    /// The sweep ends on an empty page, when the records read reach the total, or (without a
    /// total) on a page shorter than asked. A short page before the total is a silent cap: the
    /// next page is asked at the size received, which keeps the page numbers on the PSA's grid
    /// only while every earlier page was of that size; otherwise the sweep ends, since no page
    /// number would start exactly at the next record.
    pub fn next(&self, count: u32, total: Option<u64>) -> Option<Self> {
        if count == 0 {
            return None;
        }
        let read = self.offset() + u64::from(count);
        let capped = count < self.page_size;
        match total {
            Some(total) if read >= total => return None,
            None if capped => return None,
            _ => {}
        }
        let size = if capped { count } else { self.page_size };
        if !read.is_multiple_of(u64::from(size)) {
            return None;
        }
        let page = u32::try_from(read / u64::from(size) + 1).ok()?;
        Some(PageNumber {
            page_size: size,
            page,
            ..self.clone()
        })
    }
}

// ---------------------------------------------------------------------------------------------

/// A page whose URL the PSA gave with the previous one (`Link: <...>; rel="next"`, a `next` or
/// `nextPageUrl` field). `url` is `None` on the first page, which the connector builds itself.
///
/// ```
/// use psa_sdk::paging::NextUrl;
///
/// let first = NextUrl::first("tickets", 50, None);
/// let link = r#"<https://api.acme.example/v1/tickets?cursor=abc>; rel="next""#;
/// let next = first
///     .next(psa_sdk::http::link_next(link), "https://api.acme.example")?
///     .expect("a next page");
/// assert_eq!(next.url.as_deref(), Some("https://api.acme.example/v1/tickets?cursor=abc"));
/// // A next page on another origin is refused: the connector would send it the credentials.
/// assert!(first.next(Some("https://evil.example/x".into()), "https://api.acme.example").is_err());
/// # Ok::<(), psa_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextUrl {
    /// The entity the cursor belongs to.
    pub entity: String,
    /// Records per page (the first page asks for it; later URLs carry their own).
    pub page_size: u32,
    /// The sweep's updated-since filter, if incremental.
    pub since: Option<String>,
    /// The URL of this page, as the PSA gave it; `None` on the first page.
    pub url: Option<String>,
}

impl NextUrl {
    const FIELDS: &[&str] = &["size", "url", "since"];

    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, since: Option<String>) -> Self {
        NextUrl {
            entity: entity.to_string(),
            page_size,
            since,
            url: None,
        }
    }

    /// The page a request asks for: its cursor's (its URL on `origin`), else the first page
    /// (see [`Keyset::start`]).
    pub fn start(
        entity: &str,
        page: &PageRequest,
        default_size: u32,
        max_size: u32,
        origin: &str,
    ) -> Result<Self> {
        match cursor_of(page) {
            Some(text) => NextUrl::decode(entity, text, max_size, origin),
            None => Ok(NextUrl::first(
                entity,
                page_size(page.page_size, default_size, max_size),
                since(page)?,
            )),
        }
    }

    /// The cursor text: `v=1&e={entity}&size={n}`, then `url` and `since` when set.
    pub fn encode(&self) -> String {
        let mut w = writer(&self.entity, self.page_size);
        w.optional("url", self.url.as_deref())
            .optional("since", self.since.as_deref());
        w.finish()
    }

    /// Reads a next-URL cursor of `entity`; its URL must be on `origin`
    /// (`scheme://host[:port]`, as [`crate::origin::parse`] gives it).
    pub fn decode(entity: &str, text: &str, max_size: u32, origin: &str) -> Result<Self> {
        let c = Reader::decode(CURSOR_VERSION, entity, text, Self::FIELDS)?;
        let url = c.require("url", "no next-page URL", |u| {
            on_origin(u, origin).then(|| u.to_string())
        })?;
        Ok(NextUrl {
            entity: entity.to_string(),
            page_size: read_size(&c, max_size)?,
            since: read_since(&c)?,
            url: Some(url),
        })
    }

    /// The next page, at the URL the PSA gave with this one (`None`, or a blank URL, after the
    /// last page). The URL must be on `origin`, else the answer is a malformed-response error
    /// (the connector would send the credentials elsewhere); a URL equal to this page's ends the
    /// sweep, so a misbehaving PSA cannot make it loop. A relative URL (`/v1/x?page=2`) is
    /// resolved against `origin`.
    pub fn next(&self, next_url: Option<String>, origin: &str) -> Result<Option<Self>> {
        let Some(url) = next_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let url = if url.starts_with('/') && !url.starts_with("//") {
            format!("{}{url}", origin.trim_end_matches('/'))
        } else {
            url
        };
        if !on_origin(&url, origin) {
            return Err(Error::malformed(format!(
                "the PSA gave the next {} page on another origin than {origin} ({}); not following it with the credentials",
                self.entity,
                crate::message::excerpt(&url, 100)
            )));
        }
        if self.url.as_deref() == Some(url.as_str()) {
            return Ok(None);
        }
        Ok(Some(NextUrl {
            url: Some(url),
            ..self.clone()
        }))
    }
}

/// Whether `url` is an absolute URL on `origin` (scheme and authority compared without case,
/// default ports ignored).
fn on_origin(url: &str, origin: &str) -> bool {
    let normal = |text: &str| {
        let o = crate::origin::parse(text).ok()?;
        let default_port = if o.starts_with("https:") {
            ":443"
        } else {
            ":80"
        };
        Some(
            o.strip_suffix(default_port)
                .map(str::to_string)
                .unwrap_or(o),
        )
    };
    url.contains("://") && normal(url).is_some() && normal(url) == normal(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cursor: Option<&str>, since: Option<&str>, size: u32) -> PageRequest {
        PageRequest {
            cursor: cursor.map(str::to_string),
            updated_since: since.map(str::to_string),
            page_size: size,
        }
    }

    fn cursor_field(e: Error) -> String {
        match e {
            Error::InvalidInput(p) => p.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn page_sizes_and_since() {
        assert_eq!(page_size(0, 100, 500), 100);
        assert_eq!(page_size(0, 1000, 500), 500);
        assert_eq!(page_size(1, 100, 500), 1);
        assert_eq!(page_size(501, 100, 500), 500);
        assert_eq!(page_size(5, 100, 0), 1);
        assert_eq!(
            since(&request(None, Some("2026-01-01T01:00:00+01:00"), 0)).unwrap(),
            Some("2026-01-01T00:00:00Z".into())
        );
        assert_eq!(since(&request(None, Some("  "), 0)).unwrap(), None);
        assert_eq!(since(&request(None, None, 0)).unwrap(), None);
        assert_eq!(
            cursor_field(since(&request(None, Some("yesterday"), 0)).unwrap_err()),
            "updated-since"
        );
    }

    #[test]
    fn keyset_pages() {
        let first = Keyset::start(
            "accounts",
            &request(Some(""), Some("2026-01-01T00:00:00Z"), 0),
            100,
            100,
        )
        .unwrap();
        assert_eq!(
            first,
            Keyset::first("accounts", 100, Some("2026-01-01T00:00:00Z".into()))
        );
        let second = first
            .next(&[3, 5, 9], first.more(3, Some(250)))
            .unwrap()
            .unwrap();
        assert_eq!(second.after, Some(9));
        let text = second.encode();
        assert_eq!(
            text,
            "v=1&e=accounts&size=100&after=9&since=2026-01-01T00%3A00%3A00Z"
        );
        assert_eq!(Keyset::decode("accounts", &text, 100).unwrap(), second);
        // The cursor rules over the host's values.
        assert_eq!(
            Keyset::start(
                "accounts",
                &request(Some(&text), Some("2030-01-01T00:00:00Z"), 5),
                100,
                100
            )
            .unwrap(),
            second
        );
        // remaining counts this page: all read.
        assert!(!second.more(2, Some(2)));
        assert_eq!(second.next(&[10, 11], false).unwrap(), None);
        // An empty page ends the sweep.
        assert_eq!(second.next(&[], true).unwrap(), None);
        // Without a count: a full page means more.
        let small = Keyset::first("t", 2, None);
        assert!(small.more(2, None));
        assert!(!small.more(1, None));
        // A silently capped page still continues when the count says so.
        let big = Keyset::first("t", 100, None);
        assert_eq!(
            big.next(&[1, 2], big.more(2, Some(5)))
                .unwrap()
                .unwrap()
                .after,
            Some(2)
        );
    }

    #[test]
    fn keyset_refuses_answers_ignoring_order_or_filter() {
        let second = Keyset {
            after: Some(9),
            ..Keyset::first("accounts", 10, None)
        };
        for ids in [&[9u64, 10][..], &[8], &[10, 10], &[12, 11]] {
            match second.next(ids, true) {
                Err(Error::Remote(p)) => {
                    assert_eq!(p.code.as_deref(), Some("malformed-response"), "{ids:?}");
                    assert!(p.message.contains("after id 9"), "{}", p.message);
                }
                other => panic!("{ids:?}: {other:?}"),
            }
        }
        assert!(Keyset::first("a", 10, None).next(&[5, 3], true).is_err());
    }

    #[test]
    fn keyset_cursors_of_others_are_refused() {
        let text = Keyset {
            after: Some(1),
            ..Keyset::first("accounts", 10, None)
        }
        .encode();
        for (entity, cursor) in [
            ("contacts", text.as_str()),
            ("accounts", "garbage"),
            ("accounts", "v=2&e=accounts&size=10&after=2"),
            ("accounts", "v=1&e=accounts&size=0&after=2"),
            ("accounts", "v=1&e=accounts&size=101&after=2"),
            ("accounts", "v=1&e=accounts&size=10&after=-1"),
            ("accounts", "v=1&e=accounts&size=10"),
            ("accounts", "v=1&e=accounts&size=10&page=2"),
            ("accounts", "v=1&e=accounts&size=10&after=2&since=yesterday"),
        ] {
            assert_eq!(
                cursor_field(Keyset::decode(entity, cursor, 100).unwrap_err()),
                "cursor",
                "{cursor}"
            );
        }
    }

    #[test]
    fn page_numbers_follow_totals_and_silent_caps() {
        let first = PageNumber::start("clients", &request(None, None, 0), 50, 200).unwrap();
        assert_eq!((first.page, first.page_size, first.offset()), (1, 50, 0));
        // Full pages until the total.
        let p2 = first.next(50, Some(120)).unwrap();
        assert_eq!((p2.page, p2.page_size, p2.offset()), (2, 50, 50));
        let p3 = p2.next(50, Some(120)).unwrap();
        assert_eq!(p3.page, 3);
        assert_eq!(p3.next(20, Some(120)), None);
        // Exactly at the total: no empty extra page.
        assert_eq!(p2.next(50, Some(100)), None);
        // A silent cap: asked 200, got 100 of 950.
        let big = PageNumber::first("clients", 200, None);
        let capped = big.next(100, Some(950)).unwrap();
        assert_eq!(
            (capped.page, capped.page_size, capped.offset()),
            (2, 100, 100)
        );
        assert_eq!(capped.next(100, Some(950)).unwrap().page, 3);
        // A cap discovered after pages of another size cannot land on the grid: stop.
        let late = PageNumber {
            page: 2,
            ..PageNumber::first("c", 100, None)
        };
        assert_eq!(late.next(30, Some(500)), None);
        // Without a total: a short page is the last, a full one means more.
        assert_eq!(first.next(49, None), None);
        assert_eq!(first.next(50, None).unwrap().page, 2);
        // An empty page ends the sweep whatever the total says.
        assert_eq!(first.next(0, Some(1000)), None);
        // The cursor.
        let with_since = PageNumber {
            since: Some("2026-01-01T00:00:00Z".into()),
            ..capped.clone()
        };
        let text = with_since.encode();
        assert_eq!(
            text,
            "v=1&e=clients&size=100&page=2&since=2026-01-01T00%3A00%3A00Z"
        );
        assert_eq!(
            PageNumber::decode("clients", &text, 200).unwrap(),
            with_since
        );
        for bad in [
            "v=1&e=clients&size=100",
            "v=1&e=clients&size=100&page=0",
            "v=1&e=clients&size=300&page=2",
            "v=1&e=clients&size=100&after=2",
        ] {
            assert_eq!(
                cursor_field(PageNumber::decode("clients", bad, 200).unwrap_err()),
                "cursor",
                "{bad}"
            );
        }
    }

    #[test]
    fn next_urls_stay_on_the_origin_and_move() {
        let origin = "https://api.acme.example";
        let first = NextUrl::start("tickets", &request(None, None, 0), 50, 100, origin).unwrap();
        assert_eq!(first.next(None, origin).unwrap(), None);
        assert_eq!(first.next(Some(" ".into()), origin).unwrap(), None);
        let second = first
            .next(
                Some("https://API.acme.example:443/v1/tickets?after=x&n=50".into()),
                origin,
            )
            .unwrap()
            .unwrap();
        let text = second.encode();
        assert_eq!(
            text,
            "v=1&e=tickets&size=50&url=https%3A%2F%2FAPI.acme.example%3A443%2Fv1%2Ftickets%3Fafter%3Dx%26n%3D50"
        );
        assert_eq!(
            NextUrl::start("tickets", &request(Some(&text), None, 9), 50, 100, origin).unwrap(),
            second
        );
        // The same URL again ends the sweep.
        assert_eq!(second.next(second.url.clone(), origin).unwrap(), None);
        // A relative URL is on the origin.
        let rel = second
            .next(Some("/v1/tickets?after=y".into()), origin)
            .unwrap()
            .unwrap();
        assert_eq!(
            rel.url.as_deref(),
            Some("https://api.acme.example/v1/tickets?after=y")
        );
        for other in [
            "https://evil.example/v1/tickets",
            "http://api.acme.example/v1/tickets",
            "https://api.acme.example:8443/v1",
            "//evil.example/x",
            "tickets?page=2",
        ] {
            match first.next(Some(other.into()), origin) {
                Err(Error::Remote(p)) => {
                    assert_eq!(p.code.as_deref(), Some("malformed-response"), "{other}")
                }
                r => panic!("{other}: {r:?}"),
            }
        }
        // A cursor whose URL left the origin (a tampered checkpoint) is refused.
        let evil = NextUrl {
            url: Some("https://evil.example/x".into()),
            ..first.clone()
        }
        .encode();
        assert_eq!(
            cursor_field(NextUrl::decode("tickets", &evil, 100, origin).unwrap_err()),
            "cursor"
        );
        assert_eq!(
            cursor_field(
                NextUrl::decode("tickets", "v=1&e=tickets&size=5", 100, origin).unwrap_err()
            ),
            "cursor"
        );
    }
}
