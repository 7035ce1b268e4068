//! Origin patterns: what a plugin requests (`https://{site}`) and what an operator grants
//! (`https://*.myconnectwise.net`, `http://127.0.0.1:*`).

use crate::capabilities::settings::Settings;
use anyhow::{Context, anyhow, bail};
use std::fmt;
use std::net::IpAddr;
use url::Url;

/// A URL scheme the host speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    fn parse(s: &str) -> Option<Scheme> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The host part of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this host name or IP literal (lowercase, IPv6 without brackets).
    Exact(String),
    /// Any subdomain of this domain (`*.example.com`), not the domain itself.
    Subdomains(String),
}

/// The port part of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortPattern {
    /// Exactly this port.
    Exact(u16),
    /// Any port (`:*`, operator grants only).
    Any,
}

/// `scheme://host:port`, where the host may be `*.domain` and the port `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPattern {
    /// The scheme; `https` when the pattern gives none.
    pub scheme: Scheme,
    /// The host.
    pub host: HostPattern,
    /// The port; the scheme's default when the pattern gives none.
    pub port: PortPattern,
}

impl OriginPattern {
    /// Parses a pattern. A pattern without a scheme means https; a trailing `/` is allowed,
    /// any other path is not.
    pub fn parse(text: &str) -> anyhow::Result<OriginPattern> {
        let trimmed = text.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, rest)) => (
                Scheme::parse(s)
                    .ok_or_else(|| anyhow!("scheme `{s}` is not supported: use http or https"))?,
                rest,
            ),
            None => (Scheme::Https, trimmed),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            bail!("no host");
        }
        if rest.contains(['/', '?', '#', '@']) {
            bail!("an origin has no path, query or user: `{rest}`");
        }
        let (host, port) = split_host_port(rest)?;
        let port = match port {
            None => PortPattern::Exact(scheme.default_port()),
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(
                p.parse()
                    .map_err(|_| anyhow!("port `{p}` is not a number from 1 to 65535"))?,
            ),
        };
        let host = host.to_ascii_lowercase();
        let host = match host.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                let domain = domain.trim_end_matches('.');
                if psl::domain_str(domain).is_none() {
                    bail!(
                        "`{host}`: `{domain}` is a public suffix (or not a domain name), so `*.{domain}` would match unrelated sites: name the domain under it"
                    );
                }
                HostPattern::Subdomains(domain.to_string())
            }
            _ if host.contains('*') => {
                bail!("`{host}`: a wildcard is only allowed as a leading `*.`")
            }
            // An IP literal in its canonical form, as URLs are compared (`::7f00:1`).
            _ => HostPattern::Exact(match host.parse::<IpAddr>() {
                Ok(ip) => ip.to_string(),
                Err(_) => host,
            }),
        };
        Ok(OriginPattern { scheme, host, port })
    }

    /// Whether `url`'s origin matches.
    pub fn matches(&self, url: &Url) -> bool {
        let Some(scheme) = Scheme::parse(url.scheme()) else {
            return false;
        };
        let Some(host) = url_host(url) else {
            return false;
        };
        let port = url.port_or_known_default().unwrap_or(0);
        scheme == self.scheme
            && match self.port {
                PortPattern::Any => true,
                PortPattern::Exact(p) => p == port,
            }
            && match &self.host {
                HostPattern::Exact(h) => *h == host,
                HostPattern::Subdomains(d) => host
                    .strip_suffix(d.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
            }
    }

    /// Whether this is one of the forms only an operator may write (any port, `:*`).
    pub fn operator_only(&self) -> bool {
        self.port == PortPattern::Any
    }

    /// The IP address, when the host is an IP literal.
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match &self.host {
            HostPattern::Exact(h) => h.parse().ok(),
            HostPattern::Subdomains(_) => None,
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        match &self.host {
            HostPattern::Exact(h) if h.contains(':') => write!(f, "[{h}]")?,
            HostPattern::Exact(h) => f.write_str(h)?,
            HostPattern::Subdomains(d) => write!(f, "*.{d}")?,
        }
        match self.port {
            PortPattern::Any => f.write_str(":*"),
            PortPattern::Exact(p) if p == self.scheme.default_port() => Ok(()),
            PortPattern::Exact(p) => write!(f, ":{p}"),
        }
    }
}

fn split_host_port(s: &str) -> anyhow::Result<(&str, Option<&str>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| anyhow!("unclosed `[` in `{s}`"))?;
        return match after {
            "" => Ok((host, None)),
            _ => Ok((
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| anyhow!("unexpected `{after}` after `]`"))?,
                ),
            )),
        };
    }
    Ok(match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

/// The host of `url`, lowercase, IPv6 without brackets.
pub fn url_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(d) => Some(d.to_ascii_lowercase()),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

/// `scheme://host:port` of a URL, for messages.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Expands `{name}` placeholders of a plugin's requested pattern with the connection's settings.
/// A setting that holds a whole URL (`https://webservices2.autotask.net/atservicesrest`) stands
/// for its origin: the path, query and fragment are dropped.
pub fn expand(pattern: &str, settings: &Settings) -> anyhow::Result<String> {
    let expanded = expand_placeholders(pattern, settings)?;
    let (scheme, rest) = match expanded.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, expanded.as_str()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    Ok(match scheme {
        Some(scheme) => format!("{scheme}://{authority}"),
        None => authority.to_string(),
    })
}

fn expand_placeholders(pattern: &str, settings: &Settings) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .with_context(|| format!("unclosed `{{` in `{pattern}`"))?;
        let name = &rest[start + 1..start + end];
        let value = settings
            .get(name)
            .filter(|v| !v.is_empty())
            .with_context(|| format!("`{pattern}` uses setting `{name}`, which is not set"))?;
        out.push_str(value.trim().trim_end_matches('/'));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn defaults_to_https_and_default_port() {
        let p = OriginPattern::parse("api-na.myconnectwise.net").unwrap();
        assert!(p.matches(&url(
            "https://api-na.myconnectwise.net/v4_6_release/apis/3.0/x"
        )));
        assert!(p.matches(&url("https://API-NA.myconnectwise.net:443/")));
        assert!(!p.matches(&url("http://api-na.myconnectwise.net/")));
        assert!(!p.matches(&url("https://api-na.myconnectwise.net:8443/")));
        assert!(!p.matches(&url("https://api-na.myconnectwise.net.evil.com/")));
        assert_eq!(p.to_string(), "https://api-na.myconnectwise.net");
    }

    #[test]
    fn wildcards() {
        let p = OriginPattern::parse("https://*.autotask.net").unwrap();
        assert!(p.matches(&url("https://webservices2.autotask.net/atservicesrest")));
        assert!(!p.matches(&url("https://autotask.net/")));
        assert!(!p.matches(&url("https://evilautotask.net/")));
        assert!(OriginPattern::parse("https://*.example.co.uk").is_ok());
        assert!(OriginPattern::parse("https://*.myconnectwise.net").is_ok());
        let p = OriginPattern::parse("http://127.0.0.1:*").unwrap();
        assert!(p.matches(&url("http://127.0.0.1:41234/x")));
        assert_eq!(p.ip_literal(), Some("127.0.0.1".parse().unwrap()));
        let p = OriginPattern::parse("http://[::1]:8080").unwrap();
        assert!(p.matches(&url("http://[::1]:8080/")));
        assert_eq!(p.to_string(), "http://[::1]:8080");
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in [
            "ftp://x",
            "https://x/path",
            "https://a.*.com",
            "https://x:99999",
            "https://*.com",
            "https://*.co.uk",
            "http://*.com:*",
            "https://*.github.io",
            "https://*.corp",
            "https://*.com.",
            "",
            "https://",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expands_settings() {
        let mut s = Settings::default();
        s.insert("site", "http://127.0.0.1:5000/", false);
        assert_eq!(expand("{site}", &s).unwrap(), "http://127.0.0.1:5000");
        s.insert(
            "zone-url",
            "https://webservices2.autotask.net/atservicesrest?x#y",
            false,
        );
        assert_eq!(
            expand("{zone-url}", &s).unwrap(),
            "https://webservices2.autotask.net"
        );
        s.insert("server", "bms.kaseya.com/api", false);
        assert_eq!(expand("{server}", &s).unwrap(), "bms.kaseya.com");
        assert_eq!(
            expand("https://x.{missing}", &s).unwrap_err().to_string(),
            "`https://x.{missing}` uses setting `missing`, which is not set"
        );
    }
}
