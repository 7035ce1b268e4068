//! Which IP addresses a connector may reach: public ones, and private, loopback or link-local
//! ones only when the operator granted them. Names are checked after resolution (in the HTTP
//! client's resolver), so a public name that resolves to a private address is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is on the public internet: not in a special-purpose range of the IANA IPv4 and
/// IPv6 registries unless that range is globally reachable, and for IPv6 in global unicast
/// (`2000::/3`). IPv6 forms that embed an IPv4 address (`::a.b.c.d`, `::ffff:a.b.c.d`,
/// `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) are classified by that address; Teredo
/// (`2001::/32`, whose client address is obfuscated) is never public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 form stands for, if it is one of those forms.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // `::1` and `::` are the IPv6 loopback and unspecified addresses, not IPv4-compatible.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(low), // ::/96 IPv4-compatible
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low), // ::ffff:0:0/96 IPv4-mapped
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low), // ::ffff:0:0:0/96 IPv4-translated
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low), // 64:ff9b::/96 NAT64
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )), // 2002::/16 6to4
        _ => None,
    }
}

/// `(network, prefix length, globally reachable)`: the IANA IPv4 special-purpose registry, plus
/// multicast and the limited broadcast address.
const V4_SPECIAL: &[([u8; 4], u8, bool)] = &[
    ([0, 0, 0, 0], 8, false),       // "this network"
    ([10, 0, 0, 0], 8, false),      // private
    ([100, 64, 0, 0], 10, false),   // shared address space
    ([127, 0, 0, 0], 8, false),     // loopback
    ([169, 254, 0, 0], 16, false),  // link-local
    ([172, 16, 0, 0], 12, false),   // private
    ([192, 0, 0, 9], 32, true),     // PCP anycast
    ([192, 0, 0, 10], 32, true),    // TURN anycast
    ([192, 0, 0, 0], 24, false),    // IETF protocol assignments (incl. DS-Lite, NAT64 /29s)
    ([192, 0, 2, 0], 24, false),    // TEST-NET-1
    ([192, 31, 196, 0], 24, true),  // AS112-v4
    ([192, 52, 193, 0], 24, true),  // AMT
    ([192, 88, 99, 0], 24, false),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16, false),  // private
    ([192, 175, 48, 0], 24, true),  // direct delegation AS112
    ([198, 18, 0, 0], 15, false),   // benchmarking
    ([198, 51, 100, 0], 24, false), // TEST-NET-2
    ([203, 0, 113, 0], 24, false),  // TEST-NET-3
    ([224, 0, 0, 0], 4, false),     // multicast
    ([240, 0, 0, 0], 4, false),     // reserved (and 255.255.255.255, limited broadcast)
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let ip = u32::from(ip);
    // The first (most specific, listed before its enclosing range) match decides.
    V4_SPECIAL
        .iter()
        .find(|(net, len, _)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
            ip & mask == u32::from_be_bytes(*net) & mask
        })
        .is_none_or(|(_, _, global)| *global)
}

/// `(network, prefix length, globally reachable)`: the IANA IPv6 special-purpose registry (the
/// embedded-IPv4 forms are handled before), most specific first.
const V6_SPECIAL: &[(u128, u8, bool)] = &[
    (0x0064_ff9b_0001 << 80, 48, false), // 64:ff9b:1::/48 local translation
    (0x0100 << 112, 64, false),          // 100::/64 discard-only
    (0x0100_0000_0000_0001 << 64, 64, false), // 100:0:0:1::/64 dummy prefix
    (0x2001_0001_0000_0000_0000_0000_0000_0001, 128, true), // 2001:1::1 PCP anycast
    (0x2001_0001_0000_0000_0000_0000_0000_0002, 128, true), // 2001:1::2 TURN anycast
    (0x2001_0001_0000_0000_0000_0000_0000_0003, 128, true), // 2001:1::3 DNS-SD SRP anycast
    (0x2001_0003 << 96, 32, true),       // 2001:3::/32 AMT
    (0x2001_0004_0112 << 80, 48, true),  // 2001:4:112::/48 AS112-v6
    (0x2001_0020 << 96, 28, true),       // 2001:20::/28 ORCHIDv2
    (0x2001_0030 << 96, 28, true),       // 2001:30::/28 drone remote ID
    (0x2001 << 112, 32, false),          // 2001::/32 Teredo
    (0x2001_0002 << 96, 48, false),      // 2001:2::/48 benchmarking
    (0x2001_0010 << 96, 28, false),      // 2001:10::/28 deprecated ORCHID
    (0x2001 << 112, 23, false),          // 2001::/23 IETF protocol assignments
    (0x2001_0db8 << 96, 32, false),      // 2001:db8::/32 documentation
    (0x2620_004f_8000 << 80, 48, true),  // 2620:4f:8000::/48 AS112
    (0x3fff << 112, 20, false),          // 3fff::/20 documentation
    (0x5f00 << 112, 16, false),          // 5f00::/16 SRv6 SIDs
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let ip = u128::from(ip);
    // Only global unicast is public (loopback, unspecified, unique local fc00::/7, link-local
    // fe80::/10, site-local fec0::/10, multicast ff00::/8 and the unassigned space are not).
    if ip >> 125 != 0b001 {
        return false;
    }
    V6_SPECIAL
        .iter()
        .find(|(net, len, _)| {
            let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
            ip & mask == net & mask
        })
        .is_none_or(|(_, _, global)| *global)
}

/// Why an address was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{host}` resolves only to addresses the grant does not cover ({addresses}): grant private networks to reach it"
)]
pub struct PrivateAddressDenied {
    /// The host name.
    pub host: String,
    /// What it resolved to.
    pub addresses: String,
}

/// A DNS resolver that drops non-public addresses unless private networks are granted.
pub struct PolicyResolver {
    /// Private, loopback and link-local addresses are allowed.
    pub allow_private: bool,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let addresses = resolved
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(PrivateAddressDenied { host, addresses }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "52.1.2.3", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    /// Every entry of the IANA special-purpose registries, an address inside it, and whether
    /// it is public (globally reachable).
    #[test]
    fn special_purpose_registries() {
        let v4 = [
            ("0.1.2.3", false),         // 0.0.0.0/8
            ("10.200.0.1", false),      // 10.0.0.0/8
            ("100.127.255.254", false), // 100.64.0.0/10
            ("100.128.0.1", true),      // just past it
            ("127.8.8.8", false),       // 127.0.0.0/8
            ("169.254.0.1", false),     // 169.254.0.0/16
            ("172.31.255.1", false),    // 172.16.0.0/12
            ("172.32.0.1", true),       // just past it
            ("192.0.0.1", false),       // 192.0.0.0/24
            ("192.0.0.8", false),       // 192.0.0.8/32 IPv4 dummy
            ("192.0.0.9", true),        // 192.0.0.9/32 PCP anycast
            ("192.0.0.10", true),       // 192.0.0.10/32 TURN anycast
            ("192.0.0.170", false),     // 192.0.0.170/32 NAT64 discovery
            ("192.0.2.55", false),      // 192.0.2.0/24 TEST-NET-1
            ("192.31.196.1", true),     // 192.31.196.0/24 AS112-v4
            ("192.52.193.1", true),     // 192.52.193.0/24 AMT
            ("192.88.99.1", false),     // 192.88.99.0/24 deprecated 6to4 relay
            ("192.168.7.7", false),     // 192.168.0.0/16
            ("192.175.48.1", true),     // 192.175.48.0/24 AS112
            ("198.19.255.1", false),    // 198.18.0.0/15 benchmarking
            ("198.51.100.1", false),    // 198.51.100.0/24 TEST-NET-2
            ("203.0.113.9", false),     // 203.0.113.0/24 TEST-NET-3
            ("239.1.1.1", false),       // multicast
            ("240.0.0.1", false),       // 240.0.0.0/4 reserved
            ("255.255.255.255", false), // limited broadcast
            ("8.8.8.8", true),
            ("1.1.1.1", true),
        ];
        let v6 = [
            ("::1", false),              // loopback
            ("::", false),               // unspecified
            ("::ffff:127.0.0.1", false), // IPv4-mapped
            ("::ffff:192.168.1.1", false),
            ("::ffff:8.8.8.8", true),
            ("::127.0.0.1", false), // IPv4-compatible (deprecated)
            ("::10.0.0.1", false),
            ("::8.8.8.8", true),
            ("::ffff:0:127.0.0.1", false), // IPv4-translated
            ("64:ff9b::127.0.0.1", false), // 64:ff9b::/96 NAT64
            ("64:ff9b::169.254.169.254", false),
            ("64:ff9b::8.8.8.8", true),
            ("64:ff9b:1::1", false),   // 64:ff9b:1::/48 local-use translation
            ("100::1", false),         // 100::/64 discard-only
            ("100:0:0:1::1", false),   // 100:0:0:1::/64 dummy prefix
            ("2001::1", false),        // 2001::/32 Teredo
            ("2001:1::1", true),       // PCP anycast
            ("2001:1::2", true),       // TURN anycast
            ("2001:1::3", true),       // DNS-SD SRP anycast
            ("2001:1::4", false),      // rest of 2001::/23
            ("2001:2::1", false),      // 2001:2::/48 benchmarking
            ("2001:3::1", true),       // 2001:3::/32 AMT
            ("2001:4:112::1", true),   // 2001:4:112::/48 AS112-v6
            ("2001:10::1", false),     // 2001:10::/28 deprecated ORCHID
            ("2001:20::1", true),      // 2001:20::/28 ORCHIDv2
            ("2001:30::1", true),      // 2001:30::/28 drone remote ID
            ("2001:1ff::1", false),    // 2001::/23
            ("2001:200::1", true),     // just past it
            ("2001:db8::1", false),    // documentation
            ("2002:7f00:1::1", false), // 6to4 around 127.0.0.1
            ("2002:c0a8:101::1", false), // 6to4 around 192.168.1.1
            ("2002:0808:0808::1", true), // 6to4 around 8.8.8.8
            ("2620:4f:8000::1", true), // AS112
            ("3fff::1", false),        // 3fff::/20 documentation
            ("5f00::1", false),        // SRv6 SIDs
            ("fc00::1", false),        // unique local
            ("fd12::1", false),
            ("fe80::1", false), // link-local
            ("fec0::1", false), // site-local (deprecated)
            ("ff02::1", false), // multicast
            ("4000::1", false), // unassigned, outside 2000::/3
            ("2606:4700::1111", true),
            ("2a00:1450::1", true),
        ];
        for (ip, public) in v4.iter().chain(v6.iter()) {
            assert_eq!(is_public(ip.parse().unwrap()), *public, "{ip}");
        }
    }

    #[tokio::test]
    async fn resolver_drops_private_addresses() {
        let deny = PolicyResolver {
            allow_private: false,
        };
        let err = deny
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("localhost"), "{err}");
        let allow = PolicyResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = allow
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
