//! Origins (`scheme://host[:port]`) from the settings operators type.
//!
//! A connector's server setting (`site`, `server`, a discovery URL) is typed by a person, who may
//! write a bare host (`api-na.myconnectwise.net`), a host and port (`cw.example.com:8443`), a
//! full origin (`http://127.0.0.1:41234`, for a simulator) or paste the browser's address with a
//! path. [`parse`] reads all of them the same way:
//!
//! - no scheme means `https`; only `http` and `https` are accepted;
//! - a path, query or fragment is dropped ([`split`] returns it);
//! - the scheme and the host are lowercased; credentials (`user@host`) are refused;
//! - the host is a name (letters, digits, `.`, `-`, `_`) or a bracketed IPv6 address, and a port
//!   is a number from 1 to 65535.
//!
//! ```
//! use psa_sdk::origin;
//!
//! assert_eq!(origin::parse("API-NA.myconnectwise.net").unwrap(), "https://api-na.myconnectwise.net");
//! assert_eq!(origin::parse("http://127.0.0.1:41234/").unwrap(), "http://127.0.0.1:41234");
//! assert_eq!(
//!     origin::split("https://ww2.example.com/atservicesrest/v1.0?x=1").unwrap(),
//!     ("https://ww2.example.com".to_string(), "/atservicesrest/v1.0?x=1")
//! );
//! assert_eq!(origin::host("https://bms.example.com:8443/api"), "bms.example.com:8443");
//!
//! // The problem says what is wrong; the connector names its setting and shows an example.
//! let why = origin::parse("ftp://files.example.com").unwrap_err();
//! let error = psa_sdk::Error::invalid(
//!     "site",
//!     format!("`ftp://files.example.com` is not a ConnectWise site ({why}): use the API host"),
//! );
//! assert_eq!(why, origin::Problem::UnsupportedScheme);
//! # let _ = error;
//! ```

use core::fmt;

/// Why a text is not an origin. `Display` gives a short phrase for an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A scheme other than `http` or `https`.
    UnsupportedScheme,
    /// Nothing where the host should be.
    NoHost,
    /// `user[:password]@` before the host.
    Credentials,
    /// A character that no host name has (a space, `%`, ...).
    InvalidCharacters,
    /// A malformed host (`:8080`, an unclosed `[`, two colons outside brackets).
    InvalidHost,
    /// A port that is not a number from 1 to 65535.
    InvalidPort,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::UnsupportedScheme => "only http and https are supported",
            Problem::NoHost => "no host",
            Problem::Credentials => "credentials do not belong in it",
            Problem::InvalidCharacters => "invalid characters in the host",
            Problem::InvalidHost => "invalid host",
            Problem::InvalidPort => "invalid port",
        })
    }
}

impl core::error::Error for Problem {}

/// The origin of `value` (see the module documentation), and what followed the host: a path, a
/// query and a fragment, as given (empty when there was none).
pub fn split(value: &str) -> Result<(String, &str), Problem> {
    let value = value.trim();
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_string(), value),
    };
    if scheme != "https" && scheme != "http" {
        return Err(Problem::UnsupportedScheme);
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() {
        return Err(Problem::NoHost);
    }
    if authority.contains('@') {
        return Err(Problem::Credentials);
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    let (host_ok, port) = match authority.strip_prefix('[') {
        // `[v6address]` or `[v6address]:port`.
        Some(bracketed) => {
            let (address, after) = bracketed.split_once(']').ok_or(Problem::InvalidHost)?;
            let address_ok = address.contains(':')
                && address
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(Problem::InvalidHost)?),
            };
            (address_ok, port)
        }
        None => {
            if !authority.bytes().all(|b| allowed(b) || b == b':') {
                return Err(Problem::InvalidCharacters);
            }
            match authority.split_once(':') {
                None => (true, None),
                Some((host, port)) => (!host.is_empty() && !port.contains(':'), Some(port)),
            }
        }
    };
    if !host_ok {
        return Err(Problem::InvalidHost);
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(Problem::InvalidPort);
        }
    }
    Ok((
        format!("{scheme}://{}", authority.to_ascii_lowercase()),
        tail,
    ))
}

/// The origin of `value`: `scheme://host[:port]`, without a trailing slash (see the module
/// documentation).
pub fn parse(value: &str) -> Result<String, Problem> {
    split(value).map(|(origin, _)| origin)
}

/// The host and port of an origin or URL (`bms.example.com:8443` of
/// `https://bms.example.com:8443/api`), for messages such as "connected to ...".
pub fn host(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for (given, origin) in [
            (
                "api-na.myconnectwise.net",
                "https://api-na.myconnectwise.net",
            ),
            (
                " API-EU.myconnectwise.net/ ",
                "https://api-eu.myconnectwise.net",
            ),
            ("bms.kaseya.com", "https://bms.kaseya.com"),
            ("cw.example.com:8443", "https://cw.example.com:8443"),
            ("http://127.0.0.1:41234", "http://127.0.0.1:41234"),
            ("http://127.0.0.1:41234/", "http://127.0.0.1:41234"),
            ("http://127.0.0.1:41234/api", "http://127.0.0.1:41234"),
            (
                "https://na.myconnectwise.net/v4_6_release/ConnectWise.aspx",
                "https://na.myconnectwise.net",
            ),
            (
                "https://bmsemea.kaseya.com/MySettings",
                "https://bmsemea.kaseya.com",
            ),
            ("https://host?x=1", "https://host"),
            ("https://host#top", "https://host"),
            ("HTTPS://[::1]:8080", "https://[::1]:8080"),
            ("http://[FE80::1]", "http://[fe80::1]"),
            (
                "http://[::ffff:127.0.0.1]:80",
                "http://[::ffff:127.0.0.1]:80",
            ),
            (
                "psa_server.internal:65535",
                "https://psa_server.internal:65535",
            ),
            ("localhost", "https://localhost"),
        ] {
            assert_eq!(parse(given).as_deref(), Ok(origin), "{given}");
        }
    }

    #[test]
    fn problems() {
        for (bad, problem) in [
            ("", Problem::NoHost),
            ("  ", Problem::NoHost),
            ("https://", Problem::NoHost),
            ("https:///path", Problem::NoHost),
            ("ftp://x", Problem::UnsupportedScheme),
            ("file:///etc/passwd", Problem::UnsupportedScheme),
            ("user:pw@host", Problem::Credentials),
            ("https://user@host", Problem::Credentials),
            ("ho st", Problem::InvalidCharacters),
            ("host%2e", Problem::InvalidCharacters),
            ("hôst.example", Problem::InvalidCharacters),
            ("host]", Problem::InvalidCharacters),
            (":8080", Problem::InvalidHost),
            ("a:b:c", Problem::InvalidHost),
            ("[::1", Problem::InvalidHost),
            ("[]", Problem::InvalidHost),
            ("[host]", Problem::InvalidHost),
            ("[::1]8080", Problem::InvalidHost),
            ("host:notaport", Problem::InvalidPort),
            ("host:", Problem::InvalidPort),
            ("host:99999", Problem::InvalidPort),
            ("host:0", Problem::InvalidPort),
            ("host:+80", Problem::InvalidCharacters),
            ("[::1]:x", Problem::InvalidPort),
        ] {
            assert_eq!(parse(bad), Err(problem), "{bad}");
        }
        assert_eq!(
            Problem::UnsupportedScheme.to_string(),
            "only http and https are supported"
        );
    }

    #[test]
    fn split_keeps_the_rest() {
        assert_eq!(
            split("WebServices2.autotask.net/ATServicesRest/V1.0/").unwrap(),
            (
                "https://webservices2.autotask.net".to_string(),
                "/ATServicesRest/V1.0/"
            )
        );
        assert_eq!(
            split("http://h:1?q#f").unwrap(),
            ("http://h:1".to_string(), "?q#f")
        );
        assert_eq!(split("h").unwrap(), ("https://h".to_string(), ""));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host("https://api-na.myconnectwise.net"),
            "api-na.myconnectwise.net"
        );
        assert_eq!(
            host("http://127.0.0.1:41234/atservicesrest"),
            "127.0.0.1:41234"
        );
        assert_eq!(host("https://[::1]:8080?x"), "[::1]:8080");
        assert_eq!(host("bms.kaseya.com"), "bms.kaseya.com");
    }
}
