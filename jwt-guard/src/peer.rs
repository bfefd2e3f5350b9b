//! The peer on the other end of a request, as jwt-guard keys and records it: its
//! canonical address — the peer's own, or, when the peer is one of
//! `trusted_proxies`, what it says in Rocket's `ip_header` — and the key an
//! address's budget is kept under. One module owns the trusted-proxy policy;
//! every budget, device row and audit row takes the address from here.

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

/// The client's address: the peer's own, or — when the peer is one of
/// `trusted_proxies` — what it says in Rocket's `ip_header` (`X-Real-IP` by
/// default). From any other peer the header is ignored: a client cannot claim an
/// address to dodge its budget or forge device and audit rows.
pub fn client_addr(req: &Request<'_>) -> Option<IpAddr> {
    let peer = req.remote().map(|addr| addr.ip());
    match (peer, req.rocket().state::<TrustedProxies>()) {
        (Some(ip), Some(proxies)) if proxies.trusts(ip) => req.real_ip().or(peer),
        _ => peer,
    }
}

/// [`client_addr`] as text, for device and audit rows.
pub(crate) fn client_ip(req: &Request<'_>) -> Option<String> {
    client_addr(req).map(|ip| ip.to_string())
}

/// The key of an address's budget: an IPv6 client holds a whole /64 (one
/// customer's prefix), so it is budgeted per /64, not per address.
pub(crate) fn budget_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
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
