//! The peer on the other end of a request, as jwt-guard keys and records it: its
//! canonical address — the peer's own, or, when the peer is one of
//! `trusted_proxies`, the address the proxies' header (Rocket's `ip_header`)
//! names — and the key an address's budget is kept under. One module owns the
//! trusted-proxy policy; every budget, device row and audit row takes the
//! address from here.
//!
//! Canonical first: an IPv4 client of a dual-stack (`[::]`) listener arrives as
//! `::ffff:a.b.c.d`, and is `a.b.c.d` here — for its budget (else every IPv4
//! client shares the IPv6 `/64` of `::`) and for the proxy match (else an IPv4
//! proxy CIDR never matches).

use std::net::IpAddr;

use ipnet::IpNet;
use rocket::{Build, Request, Rocket};

/// `trusted_proxies`, parsed once at ignite and managed by the fairing.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The networks of `trusted_proxies` (entries that are neither a network nor
    /// an address were refused by the configuration's checks).
    pub(crate) fn from_config(entries: &[String]) -> Self {
        Self(entries.iter().filter_map(|e| parse_network(e)).collect())
    }

    fn trusts(&self, peer: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&peer))
    }

    /// The client a chain of forwarding proxies names, `X-Forwarded-For`
    /// style: hops left to right, each proxy appending the address it received
    /// from. Only trusted proxies write on the right, and a client writes
    /// whatever it likes on the left, so the client is the right-most hop that is
    /// no trusted proxy. A single-address header (`X-Real-IP`) is a chain of
    /// one. A right-most untrusted hop that is no address (a proxy that writes
    /// something else) names no one: the nearest trusted hop counts.
    fn client_in<'a>(&self, values: impl Iterator<Item = &'a str>, peer: IpAddr) -> IpAddr {
        let hops: Vec<&str> = values
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return nearest;
            };
            if !self.trusts(ip) {
                return ip;
            }
            nearest = ip;
        }
        nearest
    }

    /// Says at launch when Rocket reads client addresses from a header that
    /// jwt-guard will ignore (no proxy is trusted to set it).
    pub(crate) fn warn_if_header_ignored(&self, rocket: &Rocket<Build>) {
        if let Ok(header) = rocket.figment().extract_inner::<String>("ip_header") {
            if self.0.is_empty() {
                rocket::warn!(
                    "jwt-guard: Rocket reads client addresses from `{header}`, but \
                     jwt.trusted_proxies is empty: jwt-guard uses the peer's address and \
                     ignores the header (list your proxies to take their word)"
                );
            }
        }
    }
}

/// A `trusted_proxies` entry: a network (`10.0.0.0/8`), or an address (a
/// network of one).
pub(crate) fn parse_network(entry: &str) -> Option<IpNet> {
    entry
        .parse::<IpNet>()
        .ok()
        .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

/// One hop of a forwarding header: an address, or an address with a port
/// (`203.0.113.7:4711`, `[2001:db8::1]:443`), canonical.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })?;
    Some(ip.to_canonical())
}

/// The client's canonical address: the peer's own, or — when the peer is one
/// of `trusted_proxies` — the right-most address in Rocket's `ip_header`
/// (`X-Real-IP` by default; set `ip_header = "X-Forwarded-For"` behind proxies
/// that append) that no trusted proxy wrote. From any other peer the header is
/// ignored: a client cannot claim an address to dodge its budget or forge device
/// and audit rows.
pub fn client_addr(req: &Request<'_>) -> Option<IpAddr> {
    let peer = req.remote()?.ip().to_canonical();
    let proxies = req.rocket().state::<TrustedProxies>();
    let header = req.rocket().config().ip_header.as_ref();
    match (proxies, header) {
        (Some(proxies), Some(header)) if proxies.trusts(peer) => Some(proxies.client_in(
            crate::header_scan::values(req.headers(), header.as_str()),
            peer,
        )),
        _ => Some(peer),
    }
}

/// [`client_addr`] as text, for device and audit rows.
pub(crate) fn client_ip(req: &Request<'_>) -> Option<String> {
    client_addr(req).map(|ip| ip.to_string())
}

/// The key of an address's budget: an IPv6 client holds a whole /64 (one
/// customer's prefix), so it is budgeted per /64, not per address; an IPv4
/// address mapped into IPv6 is its IPv4 self.
pub(crate) fn budget_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_budgeted_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        let b: IpAddr = "2001:db8:1:2:ffff::9"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        assert_eq!(budget_key(a), budget_key(b));
        assert_ne!(budget_key(a), budget_key(other));
        let v4: IpAddr = "203.0.113.9".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(budget_key(v4), v4);
    }

    #[test]
    fn ipv4_mapped_addresses_are_budgeted_as_ipv4() {
        let mapped: IpAddr = "::ffff:127.0.0.2"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        let other: IpAddr = "::ffff:127.0.0.3"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 16]));
        assert_eq!(budget_key(mapped), IpAddr::from([127, 0, 0, 2]));
        assert_ne!(budget_key(mapped), budget_key(other));
    }

    #[test]
    fn the_client_is_the_right_most_hop_no_trusted_proxy_wrote() {
        let proxies = TrustedProxies::from_config(&["10.0.0.0/8".into(), "192.0.2.1".into()]);
        let peer: IpAddr = [10, 0, 0, 1].into();
        let client = |values: &[&str]| proxies.client_in(values.iter().copied(), peer);
        // The client forged the left; the proxies appended the rest.
        assert_eq!(
            client(&["6.6.6.6, 203.0.113.7, 192.0.2.1"]),
            IpAddr::from([203, 0, 113, 7])
        );
        // Several header lines are one list, in order.
        assert_eq!(
            client(&["6.6.6.6", "203.0.113.7", "10.9.9.9"]),
            IpAddr::from([203, 0, 113, 7])
        );
        // One address (`X-Real-IP`), with a port, mapped, bracketed.
        assert_eq!(
            client(&["203.0.113.7:4711"]),
            IpAddr::from([203, 0, 113, 7])
        );
        assert_eq!(
            client(&["::ffff:203.0.113.7"]),
            IpAddr::from([203, 0, 113, 7])
        );
        let v6: IpAddr = "2001:db8::7".parse().unwrap_or(peer);
        assert_eq!(client(&["[2001:db8::7]"]), v6);
        assert_eq!(client(&["[2001:db8::7]:443"]), v6);
        // All hops trusted: the left-most; none at all, or garbage where the
        // client should be: the nearest trusted hop.
        assert_eq!(client(&["10.1.1.1, 10.2.2.2"]), IpAddr::from([10, 1, 1, 1]));
        assert_eq!(client(&[]), peer);
        assert_eq!(
            client(&["not an address, 10.2.2.2"]),
            IpAddr::from([10, 2, 2, 2])
        );
    }

    #[test]
    fn a_proxy_is_a_network_or_an_address() {
        assert!(parse_network("10.0.0.0/8").is_some());
        assert!(parse_network("127.0.0.1").is_some());
        assert!(parse_network("::1").is_some());
        assert!(parse_network("proxy.internal").is_none());
        let proxies = TrustedProxies::from_config(&["10.0.0.0/8".into()]);
        assert!(proxies.trusts([10, 1, 2, 3].into()));
        assert!(!proxies.trusts([11, 1, 2, 3].into()));
    }
}
