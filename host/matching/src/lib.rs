//! The matching engine: linking a tool's records (customers, devices, alert subjects) to PSA
//! records. Pure computation over fields: it knows no WIT type, store or sandbox, so the
//! workflows (customer linking, inventory, alert delivery) and custom rule components build on
//! it.
//!
//! - [`normalize`]: each identifier's text as the key it is compared by (serials without
//!   placeholders, MACs in any notation, host names, IPs, company names without legal forms,
//!   e-mails and company domains without free-mail, phones as national digits, similarity);
//! - [`Comparator`]: how two values of one identifier are compared, with the key used to index
//!   candidates for the exact comparators;
//! - [`rules`]: rule sets as data (TOML): identifiers in priority order and conditions, and
//!   the decision for one subject (`matched`, `ambiguous`, `none`, with the evidence).
//!
//! The indexes, custom rule components and the linking workflows build on these (issue 11).

pub mod normalize;
pub mod rules;

/// How the values of one identifier are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Comparator {
    /// Equal after trimming.
    Exact,
    /// Equal after case, space and punctuation folding ([`normalize::fold`]).
    Folded,
    /// Equal serial numbers, placeholders never equal ([`normalize::serial`]).
    Serial,
    /// Equal MAC addresses in any notation ([`normalize::mac`]).
    Mac,
    /// The same host, with or without its domain ([`normalize::same_host`]).
    HostName,
    /// Equal IP addresses in canonical form ([`normalize::ip`]).
    Ip,
    /// Equal company names without legal forms ([`normalize::company_name`]).
    CompanyName,
    /// Equal e-mail addresses ([`normalize::email`]).
    Email,
    /// The same company domain, from e-mails or websites, free-mail never
    /// ([`normalize::company_domain`]).
    Domain,
    /// Equal phone numbers as national digits ([`normalize::phone`]).
    Phone,
    /// Folded texts at least this similar (Jaro-Winkler, 0 to 1; [`normalize::similarity`]).
    Similar(f64),
}

impl Comparator {
    /// The key `value` is indexed and compared by; `None` when it identifies nothing (blank,
    /// a placeholder, free-mail). For [`Comparator::Similar`] the folded text, for
    /// [`Comparator::HostName`] the short name (both need [`Comparator::score`] to decide).
    pub fn key(self, value: &str) -> Option<String> {
        let key = match self {
            Comparator::Exact => Some(value.trim().to_string()),
            Comparator::Folded | Comparator::Similar(_) => Some(normalize::fold(value)),
            Comparator::Serial => normalize::serial(value),
            Comparator::Mac => normalize::mac(value),
            Comparator::HostName => normalize::host_name(value).map(|h| h.short),
            Comparator::Ip => normalize::ip(value).map(|a| a.to_string()),
            Comparator::CompanyName => normalize::company_name(value),
            Comparator::Email => normalize::email(value),
            Comparator::Domain => normalize::company_domain(value),
            Comparator::Phone => normalize::phone(value),
        };
        key.filter(|k| !k.is_empty())
    }

    /// How well `a` and `b` agree: `Some(score)` (1 for equal keys; the similarity for
    /// [`Comparator::Similar`]) when they match, `None` when they do not or either identifies
    /// nothing.
    pub fn score(self, a: &str, b: &str) -> Option<f64> {
        match self {
            Comparator::Similar(threshold) => {
                let (x, y) = (self.key(a)?, self.key(b)?);
                let s = strsim::jaro_winkler(&x, &y);
                (s >= threshold).then_some(s)
            }
            Comparator::HostName => {
                let (x, y) = (normalize::host_name(a)?, normalize::host_name(b)?);
                normalize::same_host(&x, &y).then_some(1.0)
            }
            _ => (self.key(a)? == self.key(b)?).then_some(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparators_match_what_their_normaliser_equates() {
        use Comparator::*;
        for (comparator, a, b, want) in [
            (Exact, " A-1 ", "A-1", Some(1.0)),
            (Exact, "a-1", "A-1", None),
            (Folded, "ACME,  Inc.", "acme inc", Some(1.0)),
            (Serial, "c02xk1abjgh5", "C02X-K1AB-JGH5", Some(1.0)),
            (
                Serial,
                "To be filled by O.E.M.",
                "To be filled by O.E.M.",
                None,
            ),
            (Serial, "0", "0", None),
            (Mac, "001a.2b3c.4d5e", "00-1A-2B-3C-4D-5E", Some(1.0)),
            (Mac, "00:00:00:00:00:00", "000000000000", None),
            (HostName, "PC-01", "pc-01.corp.example", Some(1.0)),
            (HostName, "pc-01.corp.example", "pc-01.lab.example", None),
            (Ip, "::ffff:10.0.0.5", "10.0.0.5/24", Some(1.0)),
            (CompanyName, "The Acme Company", "ACME, Inc.", Some(1.0)),
            (CompanyName, "Acme", "Apex", None),
            (Email, "Jo <JO@acme.example>", "jo@acme.example", Some(1.0)),
            (
                Domain,
                "jo@acme.example",
                "https://www.acme.example",
                Some(1.0),
            ),
            (Domain, "jo@gmail.com", "ann@gmail.com", None),
            (Phone, "+1 (415) 555-0100 x7", "415.555.0100", Some(1.0)),
            (Similar(0.99), "Acme Inc", "ACME inc.", Some(1.0)),
            (
                Similar(0.95),
                "Westbrook Landscaping",
                "Crescent Family Medicine",
                None,
            ),
            (Folded, "", "", None),
        ] {
            assert_eq!(comparator.score(a, b), want, "{comparator:?} {a:?} {b:?}");
        }
        let s = Comparator::Similar(0.9)
            .score("Westbrook Landscaping", "Westbrook Landscapes")
            .expect("similar");
        assert!((0.9..1.0).contains(&s), "{s}");
    }

    #[test]
    fn keys_index_the_exact_comparators() {
        assert_eq!(
            Comparator::Mac.key("001A2B3C4D5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            Comparator::HostName.key("PC-01.corp.example").as_deref(),
            Some("pc-01")
        );
        assert_eq!(Comparator::Serial.key("Default string"), None);
        assert_eq!(Comparator::Exact.key("   "), None);
    }
}
