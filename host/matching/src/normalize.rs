//! Normalisers: one identifier's text as the key it is compared by, or `None` when the text
//! identifies nothing (blank, a placeholder, a free-mail domain).
//!
//! Every function is pure and total: PSA records and a tool's exports hold whatever users
//! typed, so nothing here panics or allocates beyond the input's size.

use std::net::IpAddr;

/// Case, space and punctuation folded: lowercase, every run of characters that are neither
/// letters nor digits becomes one space, trimmed. `"  ACME,  Inc. "` -> `"acme inc"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Serial numbers that BIOSes, hypervisors and RMM agents report when the real one is unknown:
/// they are shared by thousands of machines and never identify one (compared folded, without
/// spaces).
const PLACEHOLDER_SERIALS: &[&str] = &[
    "unknown",
    "tobefilledbyoem",
    "tobefilledbyoemtobefilledbyoem",
    "defaultstring",
    "na",
    "none",
    "null",
    "systemserialnumber",
    "serialnumber",
    "chassisserialnumber",
    "baseboardserialnumber",
    "notspecified",
    "notapplicable",
    "notavailable",
    "oem",
    "invalid",
    "empty",
    "123456789",
    "1234567890",
    "0123456789",
    "vmware",
    "parallels",
    "xxxxxxxxxx",
];

/// A serial number as its key: letters and digits only, uppercase; `None` for a placeholder
/// (`Unknown`, `To be filled by O.E.M.`, `Default string`, `N/A`, `System Serial Number`...),
/// a value of one repeated character (`0`, `00000000`, `FFFFFFFF`), or fewer than 3 characters.
pub fn serial(text: &str) -> Option<String> {
    let key: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if key.len() < 3 || PLACEHOLDER_SERIALS.contains(&key.to_ascii_lowercase().as_str()) {
        return None;
    }
    let first = key.chars().next()?;
    if key.chars().all(|c| c == first) {
        return None;
    }
    Some(key)
}

/// A MAC address in any notation (`00:1A:2B:3C:4D:5E`, `00-1a-2b-3c-4d-5e`, `001a.2b3c.4d5e`,
/// `001A2B3C4D5E`) as lowercase colon-separated hex; `None` for anything else and for the
/// all-zero and broadcast addresses, which identify no device.
pub fn mac(text: &str) -> Option<String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    if hex == "000000000000" || hex == "ffffffffffff" {
        return None;
    }
    let pairs: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    Some(pairs.join(":"))
}

/// A host name, lowercase, without a trailing dot: its short name (the first label) and its
/// domain, if it has one. `None` for blank text or an IP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostName {
    /// `pc-01` of `pc-01.corp.example`.
    pub short: String,
    /// `corp.example` of `pc-01.corp.example`.
    pub domain: Option<String>,
}

/// Reads a host name (`PC-01`, `pc-01.corp.example.`); see [`HostName`].
pub fn host_name(text: &str) -> Option<HostName> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || ip(&name).is_some() || name.contains(char::is_whitespace) {
        return None;
    }
    Some(match name.split_once('.') {
        Some((short, domain)) if !short.is_empty() && !domain.is_empty() => HostName {
            short: short.to_string(),
            domain: Some(domain.to_string()),
        },
        _ => HostName {
            short: name.trim_matches('.').to_string(),
            domain: None,
        },
    })
}

/// Whether two host names name the same host: equal short names, and equal domains when both
/// have one (`pc-01` is `pc-01.corp.example`; `pc-01.corp.example` is not `pc-01.lab.example`).
pub fn same_host(a: &HostName, b: &HostName) -> bool {
    a.short == b.short
        && match (&a.domain, &b.domain) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// An IP address in its canonical form: IPv4 dotted, IPv6 compressed lowercase, an
/// IPv4-mapped IPv6 address as its IPv4 address; a prefix length (`/24`), an IPv6 zone
/// (`%eth0`) and brackets are dropped.
pub fn ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_start_matches('[');
    let text = text.split(['/', '%', ']']).next()?;
    text.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

/// Legal forms and their abbreviations, folded, dropped from the end of a company name (longest
/// first, repeatedly: `Acme Holdings Pty Ltd` -> `acme holdings`).
const LEGAL_SUFFIXES: &[&str] = &[
    "pty ltd",
    "pvt ltd",
    "co ltd",
    "l l c",
    "s a",
    "s a s",
    "s r l",
    "s p a",
    "b v",
    "n v",
    "incorporated",
    "corporation",
    "company",
    "limited",
    "holdings",
    "group",
    "gmbh",
    "mbh",
    "inc",
    "llc",
    "llp",
    "ltd",
    "plc",
    "pty",
    "pvt",
    "corp",
    "co",
    "lp",
    "ag",
    "kg",
    "ohg",
    "ug",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "kk",
    "pte",
    "pc",
];

/// A company name as its key: folded, a leading "the" and trailing legal forms (Inc, LLC, Ltd,
/// GmbH, S.A., Pty Ltd, & Co...) dropped; `None` when nothing is left. "Holdings" and "Group"
/// count as legal forms: a tool rarely keeps them.
pub fn company_name(text: &str) -> Option<String> {
    let folded = fold(&text.replace('&', " "));
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    'strip: while words.len() > 1 {
        for suffix in LEGAL_SUFFIXES {
            let parts: Vec<&str> = suffix.split(' ').collect();
            if words.len() > parts.len() && words.ends_with(&parts) {
                words.truncate(words.len() - parts.len());
                continue 'strip;
            }
        }
        break;
    }
    let key = words.join(" ");
    (!key.is_empty()).then_some(key)
}

/// An e-mail address, lowercase, from `a@b.example`, `mailto:a@b.example` or
/// `Name <a@b.example>`; `None` without exactly one `@` between a local part and a dotted
/// domain.
pub fn email(text: &str) -> Option<String> {
    let text = text.trim();
    let text = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    let text = text
        .trim()
        .trim_start_matches("mailto:")
        .to_ascii_lowercase();
    let (local, domain) = text.split_once('@')?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || text.contains(char::is_whitespace)
    {
        return None;
    }
    Some(text)
}

/// Free-mail and ISP mail domains: an address there says nothing of the company behind it.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "t-online.de",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "btinternet.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "bigpond.com",
    "shaw.ca",
    "rogers.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
];

/// The domain an e-mail address or a website names (`a@Acme.example`, `https://www.acme.example/x`
/// -> `acme.example`), without `www.`; `None` for a free-mail domain, which identifies no
/// company.
pub fn company_domain(text: &str) -> Option<String> {
    let domain = match email(text) {
        Some(address) => address.split_once('@')?.1.to_string(),
        None => {
            let text = text.trim().to_ascii_lowercase();
            let rest = text.split_once("://").map_or(text.as_str(), |(_, r)| r);
            let host = rest.split(['/', '?', '#']).next()?;
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let host = host.split(':').next()?.trim_end_matches('.');
            if !host.contains('.') || host.contains(char::is_whitespace) || ip(host).is_some() {
                return None;
            }
            host.to_string()
        }
    };
    let domain = domain.strip_prefix("www.").unwrap_or(&domain).to_string();
    (!FREE_MAIL.contains(&domain.as_str())).then_some(domain)
}

/// E.164 country codes are prefix-free: these are the one- and two-digit ones; every other
/// code has three digits.
fn country_code_len(digits: &str) -> usize {
    let two: u32 = digits.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0);
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if matches!(two, 20 | 27 | 30..=34 | 36 | 39 | 40 | 41 | 43..=49 | 51..=58 | 60..=66 | 81 | 82 | 84 | 86 | 90..=95 | 98) => {
            2
        }
        _ => 3,
    }
}

/// A phone number as its national significant digits: the extension (`x12`, `ext. 12`,
/// `#12`, `;ext=12`) and punctuation dropped, the country code dropped when the number is
/// international (`+44 20 7946 0000`, `0044...`) or a North American 11-digit number
/// (`1-415-...`), a national trunk `0` dropped (`(0)20 ...`, `020 ...`). `None` for fewer than
/// 6 digits.
pub fn phone(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("tel:").unwrap_or(&lower);
    let cut = ["ext", "x", "#", ";"]
        .iter()
        .filter_map(|mark| lower.find(mark))
        .min()
        .unwrap_or(lower.len());
    let number = &lower[..cut];
    let international = number.trim_start().starts_with('+');
    let mut digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if !international && let Some(rest) = digits.strip_prefix("00") {
        digits = rest.to_string();
        digits = digits[country_code_len(&digits).min(digits.len())..].to_string();
    } else if international {
        digits = digits[country_code_len(&digits).min(digits.len())..].to_string();
    } else if digits.len() == 11 && digits.starts_with('1') {
        digits.remove(0);
    }
    let digits = digits.trim_start_matches('0').to_string();
    (digits.len() >= 6).then_some(digits)
}

/// How alike two texts are once folded, from 0 (nothing in common) to 1 (equal): Jaro-Winkler,
/// which weighs a shared beginning, as names that differ by a suffix or a typo do.
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(&fold(a), &fold(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_space_and_punctuation() {
        for (input, want) in [
            ("  ACME,  Inc. ", "acme inc"),
            ("O'Brien & Sons", "o brien sons"),
            ("Müller-Lüdenscheidt GmbH", "müller lüdenscheidt gmbh"),
            ("\t\n", ""),
            ("a\u{1b}[31mb", "a 31mb"),
        ] {
            assert_eq!(fold(input), want, "{input:?}");
        }
    }

    #[test]
    fn serials_without_placeholders() {
        for (input, want) in [
            ("C02XK1ABJGH5", Some("C02XK1ABJGH5")),
            (" 5cg-1234 xyz ", Some("5CG1234XYZ")),
            ("Unknown", None),
            ("To be filled by O.E.M.", None),
            ("Default string", None),
            ("0", None),
            ("N/A", None),
            ("System Serial Number", None),
            ("00000000", None),
            ("FFFFFFFFFFFF", None),
            ("aaaa", None),
            ("Not Specified", None),
            ("123456789", None),
            ("ab", None),
            ("", None),
            ("VMware-56 4d 1a 2b", Some("VMWARE564D1A2B")),
        ] {
            assert_eq!(serial(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn macs_in_every_notation() {
        for (input, want) in [
            ("00:1A:2B:3C:4D:5E", Some("00:1a:2b:3c:4d:5e")),
            ("00-1a-2b-3c-4d-5e", Some("00:1a:2b:3c:4d:5e")),
            ("001a.2b3c.4d5e", Some("00:1a:2b:3c:4d:5e")),
            ("001A2B3C4D5E", Some("00:1a:2b:3c:4d:5e")),
            (" 00 1a 2b 3c 4d 5e ", Some("00:1a:2b:3c:4d:5e")),
            ("00:00:00:00:00:00", None),
            ("ff:ff:ff:ff:ff:ff", None),
            ("00:1a:2b:3c:4d", None),
            ("00:1a:2b:3c:4d:5g", None),
            ("", None),
        ] {
            assert_eq!(mac(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn host_names_with_and_without_their_domain() {
        let h = |s: &str| host_name(s).unwrap();
        assert_eq!(
            h("PC-01.Corp.Example."),
            HostName {
                short: "pc-01".into(),
                domain: Some("corp.example".into())
            }
        );
        assert_eq!(h("pc-01").domain, None);
        assert!(same_host(&h("pc-01"), &h("PC-01.corp.example")));
        assert!(same_host(
            &h("pc-01.corp.example"),
            &h("pc-01.corp.example.")
        ));
        assert!(!same_host(
            &h("pc-01.corp.example"),
            &h("pc-01.lab.example")
        ));
        assert!(!same_host(&h("pc-01"), &h("pc-02")));
        for nothing in ["", "  ", "10.0.0.1", "::1", "two words"] {
            assert_eq!(host_name(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn ip_addresses_in_canonical_form() {
        for (input, want) in [
            ("10.0.0.5", Some("10.0.0.5")),
            (" 10.0.0.5/24 ", Some("10.0.0.5")),
            (
                "2001:0DB8:0000:0000:0000:0000:0000:0001",
                Some("2001:db8::1"),
            ),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("fe80::1%eth0", Some("fe80::1")),
            ("::ffff:192.0.2.7", Some("192.0.2.7")),
            ("10.0.0.256", None),
            ("host.example", None),
            ("", None),
        ] {
            assert_eq!(
                ip(input).map(|a| a.to_string()).as_deref(),
                want,
                "{input:?}"
            );
        }
    }

    #[test]
    fn company_names_without_legal_forms() {
        for (input, want) in [
            ("Acme, Inc.", Some("acme")),
            ("ACME LLC", Some("acme")),
            ("Acme Ltd", Some("acme")),
            ("Acme Limited", Some("acme")),
            ("Acme GmbH", Some("acme")),
            ("Acme S.A.", Some("acme")),
            ("Acme Pty Ltd", Some("acme")),
            ("Acme Holdings Pty. Ltd.", Some("acme")),
            ("The Acme Company", Some("acme")),
            ("Sunrise Builders & Co.", Some("sunrise builders")),
            (
                "Westbrook Landscaping L.L.C.",
                Some("westbrook landscaping"),
            ),
            ("The Co", Some("co")),
            ("Inc", Some("inc")),
            ("The", Some("the")),
            ("  ", None),
        ] {
            assert_eq!(company_name(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn email_addresses_and_company_domains() {
        for (input, want) in [
            ("Jo.Smith@Acme.Example", Some("jo.smith@acme.example")),
            ("mailto:jo@acme.example", Some("jo@acme.example")),
            ("Jo Smith <jo@acme.example>", Some("jo@acme.example")),
            ("jo@acme", None),
            ("jo@@acme.example", None),
            ("@acme.example", None),
            ("jo smith@acme.example", None),
            ("", None),
        ] {
            assert_eq!(email(input).as_deref(), want, "{input:?}");
        }
        for (input, want) in [
            ("jo@acme.example", Some("acme.example")),
            ("https://www.Acme.example/contact?x=1", Some("acme.example")),
            ("www.acme.example", Some("acme.example")),
            ("acme.example:8443", Some("acme.example")),
            ("jo@gmail.com", None),
            ("jo@Outlook.com", None),
            ("someone@yahoo.co.uk", None),
            ("jo@gmx.de", None),
            ("https://192.0.2.7/", None),
            ("acme", None),
        ] {
            assert_eq!(company_domain(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn phones_as_national_digits() {
        for (input, want) in [
            ("(415) 555-0100", Some("4155550100")),
            ("1-415-555-0100", Some("4155550100")),
            ("+1 415 555 0100", Some("4155550100")),
            ("415.555.0100 x12", Some("4155550100")),
            ("415-555-0100 ext. 7", Some("4155550100")),
            ("415 555 0100 #3", Some("4155550100")),
            ("tel:+1-415-555-0100;ext=9", Some("4155550100")),
            ("+44 20 7946 0000", Some("2079460000")),
            ("+44 (0)20 7946 0000", Some("2079460000")),
            ("0044 20 7946 0000", Some("2079460000")),
            ("020 7946 0000", Some("2079460000")),
            ("+49 30 123456", Some("30123456")),
            ("+353 1 234 5678", Some("12345678")),
            ("12345", None),
            ("", None),
        ] {
            assert_eq!(phone(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn similarity_is_jaro_winkler_of_the_folded_texts() {
        assert_eq!(similarity("ACME Inc.", "acme inc"), 1.0);
        assert!(similarity("Westbrook Landscaping", "Westbrook Landscapes") > 0.9);
        assert!(similarity("Westbrook Landscaping", "Crescent Family Medicine") < 0.6);
        assert_eq!(similarity("", "acme"), 0.0);
    }
}
