//! Page positions and the opaque cursor of the paged reads.
//!
//! A cursor pins everything that decides which records a page holds: the entity, the page size
//! and the exact `conditions` text of the first page. The next call sends the same conditions and
//! page size whatever `updated-since` and `page-size` the host passes again, so the pages of one
//! sweep always belong to the same query (a dropped condition on page 2 is a classic sync bug).
//!
//! Format (version 1): a query string, each value percent-encoded, for example
//! `v=1&e=companies&size=100&page=3&c=lastUpdated%20%3E%3D%20%5B2026-01-01T00%3A00%3A00Z%5D%20and%20deletedFlag%20%3D%20false`.
//! `page` is the 1-based page number from the `Link: <...>; rel="next"` header; when ConnectWise
//! answers in forward-only mode the header carries `pageId` instead and the cursor holds `pid`.
//!
//! Not the SDK's [`psa_sdk::paging::NextUrl`] on purpose: that cursor holds the URL the PSA gave,
//! while this one rebuilds every page's query from the sweep's own `conditions`, so a `Link`
//! that dropped or changed them cannot change the sweep.

use psa_sdk::Error;
use psa_sdk::cursor;
use psa_sdk::http::{link_next, query_param};

/// The version of the cursor format.
const CURSOR_VERSION: u32 = 1;
/// The fields of a cursor besides the version and the entity.
const CURSOR_FIELDS: &[&str] = &["size", "page", "pid", "c"];

/// The largest page ConnectWise serves.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The page size used when the host asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagePos {
    /// A 1-based page number (`page=N`).
    Page(u32),
    /// Forward-only paging: records with an id greater than this (`pageId=X`).
    After(String),
}

/// One page of one query: what the request sends and what the cursor encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageState {
    /// The entity the cursor belongs to (`companies`, `tickets`, ...).
    pub entity: String,
    /// Records per page (1..=1000).
    pub page_size: u32,
    /// The fixed `conditions` of the whole sweep.
    pub conditions: Option<String>,
    /// Which page.
    pub pos: PagePos,
}

/// Clamps the host's page size to ConnectWise's maximum (and `max` of the entity); 0 means the
/// default.
pub fn clamp_page_size(requested: u32, max: u32) -> u32 {
    psa_sdk::paging::page_size(requested, DEFAULT_PAGE_SIZE, max.min(MAX_PAGE_SIZE))
}

impl PageState {
    /// The first page of a sweep.
    pub fn first(entity: &str, page_size: u32, conditions: Option<String>) -> Self {
        PageState {
            entity: entity.to_string(),
            page_size,
            conditions,
            pos: PagePos::Page(1),
        }
    }

    /// The query parameters of this page's request: conditions, `orderBy=id asc`, page size and
    /// position.
    pub fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::with_capacity(4);
        if let Some(c) = &self.conditions {
            q.push(("conditions".to_string(), c.clone()));
        }
        match &self.pos {
            PagePos::Page(n) => {
                q.push(("orderBy".to_string(), "id asc".to_string()));
                q.push(("pageSize".to_string(), self.page_size.to_string()));
                q.push(("page".to_string(), n.to_string()));
            }
            // Forward-only paging is always by id ascending and takes no orderBy.
            PagePos::After(id) => {
                q.push(("pageSize".to_string(), self.page_size.to_string()));
                q.push(("pageId".to_string(), id.clone()));
            }
        }
        q
    }

    /// Whether the request must carry `pagination-type: forward-only`.
    pub fn forward_only(&self) -> bool {
        matches!(self.pos, PagePos::After(_))
    }

    /// The same query at another position.
    pub fn at(&self, pos: PagePos) -> Self {
        PageState {
            pos,
            ..self.clone()
        }
    }

    /// The cursor text.
    pub fn encode(&self) -> String {
        let mut w = cursor::Writer::new(CURSOR_VERSION, &self.entity);
        w.field("size", self.page_size);
        match &self.pos {
            PagePos::Page(n) => w.field("page", n),
            PagePos::After(id) => w.field("pid", id),
        };
        w.optional("c", self.conditions.as_deref());
        w.finish()
    }

    /// Reads a cursor of `entity`; any other text is an `invalid-input` error naming `cursor`.
    pub fn decode(entity: &str, text: &str) -> Result<Self, Error> {
        let c = cursor::Reader::decode(CURSOR_VERSION, entity, text, CURSOR_FIELDS)?;
        let page = c.parse("page", "bad page", cursor::number_in(1..=u32::MAX))?;
        let pid = c.parse("pid", "bad page id", |v| {
            (!v.is_empty()).then(|| v.to_string())
        })?;
        let pos = match (page, pid) {
            (Some(n), None) => PagePos::Page(n),
            (None, Some(id)) => PagePos::After(id),
            (None, None) => return Err(c.invalid("no position")),
            (Some(_), Some(_)) => return Err(c.invalid("two positions")),
        };
        Ok(PageState {
            entity: entity.to_string(),
            page_size: c.require(
                "size",
                "bad page size",
                cursor::number_in(1..=MAX_PAGE_SIZE),
            )?,
            conditions: c.get("c").map(str::to_string),
            pos,
        })
    }

    /// The state of the next page given the response's `Link` header, or `None` on the last
    /// page. A `rel="next"` that does not move forward is treated as the end, so a misbehaving
    /// server cannot make a sweep loop forever.
    pub fn next(&self, link_header: Option<&str>) -> Option<Self> {
        let url = link_next(link_header?)?;
        let pos = if let Some(page) = query_param(&url, "page").and_then(|p| p.parse::<u32>().ok())
        {
            PagePos::Page(page)
        } else {
            PagePos::After(query_param(&url, "pageId").filter(|p| !p.is_empty())?)
        };
        let forward = match (&self.pos, &pos) {
            (PagePos::Page(a), PagePos::Page(b)) => b > a,
            (PagePos::After(a), PagePos::After(b)) => match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(a), Ok(b)) => b > a,
                _ => a != b,
            },
            (PagePos::Page(_), PagePos::After(_)) => true,
            (PagePos::After(_), PagePos::Page(_)) => false,
        };
        forward.then(|| self.at(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PageState {
        PageState::first(
            "companies",
            100,
            Some("lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false".into()),
        )
    }

    #[test]
    fn clamps_page_sizes() {
        assert_eq!(clamp_page_size(0, MAX_PAGE_SIZE), DEFAULT_PAGE_SIZE);
        assert_eq!(clamp_page_size(5, MAX_PAGE_SIZE), 5);
        assert_eq!(clamp_page_size(5000, MAX_PAGE_SIZE), 1000);
        assert_eq!(clamp_page_size(1000, 100), 100);
    }

    #[test]
    fn cursor_round_trips() {
        let s = state().at(PagePos::Page(3));
        let text = s.encode();
        assert_eq!(
            text,
            "v=1&e=companies&size=100&page=3&c=lastUpdated%20%3E%3D%20%5B2026-01-01T00%3A00%3A00Z%5D%20and%20deletedFlag%20%3D%20false"
        );
        assert_eq!(PageState::decode("companies", &text).unwrap(), s);

        let f = PageState::first("tickets", 7, Some(r#"summary = "a&b=c \"d\" +e""#.into()))
            .at(PagePos::After("1234".into()));
        assert_eq!(PageState::decode("tickets", &f.encode()).unwrap(), f);

        let none = PageState::first("contacts", 1000, None).at(PagePos::Page(2));
        assert_eq!(none.encode(), "v=1&e=contacts&size=1000&page=2");
        assert_eq!(PageState::decode("contacts", &none.encode()).unwrap(), none);
    }

    #[test]
    fn rejects_foreign_cursors() {
        let text = state().at(PagePos::Page(2)).encode();
        for (entity, cursor) in [
            ("contacts", text.as_str()),
            ("companies", "garbage"),
            ("companies", "v=2&e=companies&size=10&page=2"),
            ("companies", "v=1&e=companies&size=0&page=2"),
            ("companies", "v=1&e=companies&size=5000&page=2"),
            ("companies", "v=1&e=companies&size=10&page=0"),
            ("companies", "v=1&e=companies&size=10"),
            ("companies", "v=1&e=companies&size=10&page=2&x=1"),
        ] {
            match PageState::decode(entity, cursor) {
                Err(Error::InvalidInput(p)) => assert_eq!(p.field, "cursor"),
                other => panic!("{cursor}: {other:?}"),
            }
        }
    }

    #[test]
    fn query_keeps_conditions_on_every_page() {
        let first = state();
        let q = first.query();
        assert_eq!(
            q,
            vec![
                (
                    "conditions".to_string(),
                    "lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false".to_string()
                ),
                ("orderBy".to_string(), "id asc".to_string()),
                ("pageSize".to_string(), "100".to_string()),
                ("page".to_string(), "1".to_string()),
            ]
        );
        // A Link header whose next URL dropped the conditions does not drop ours.
        let next = first
            .next(Some(
                r#"<https://h/v4_6_release/apis/3.0/company/companies?page=2>; rel="next""#,
            ))
            .unwrap();
        assert_eq!(next.conditions, first.conditions);
        assert_eq!(next.query()[3], ("page".to_string(), "2".to_string()));
        let decoded = PageState::decode("companies", &next.encode()).unwrap();
        assert_eq!(decoded.query()[0], q[0]);
    }

    #[test]
    fn follows_link_next() {
        let s = state();
        let link = r#"<https://h/x?conditions=a&pageSize=100&page=2>; rel="next", <https://h/x?page=9>; rel="last""#;
        assert_eq!(s.next(Some(link)).unwrap().pos, PagePos::Page(2));
        assert_eq!(s.next(Some(r#"<https://h/x?page=1>; rel="first""#)), None);
        assert_eq!(s.next(None), None);
        // Not moving forward ends the sweep.
        let p2 = s.at(PagePos::Page(2));
        assert_eq!(p2.next(Some(r#"<https://h/x?page=2>; rel="next""#)), None);
        // Forward-only links carry pageId.
        let f = s
            .next(Some(r#"<https://h/x?pageSize=100&pageId=250>; rel="next""#))
            .unwrap();
        assert_eq!(f.pos, PagePos::After("250".into()));
        assert!(f.forward_only());
        assert!(!f.query().iter().any(|(k, _)| k == "orderBy"));
        assert_eq!(
            f.next(Some(r#"<https://h/x?pageId=250>; rel="next""#)),
            None
        );
        assert_eq!(
            f.next(Some(r#"<https://h/x?pageId=500>; rel="next""#))
                .unwrap()
                .pos,
            PagePos::After("500".into())
        );
    }
}
