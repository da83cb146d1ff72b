//! Who the client is: the TCP peer, or, when the peer is a proxy the operator trusts
//! (`WHISPER_TRUSTED_PROXIES`), the address that proxy says it served in `X-Forwarded-For`.
//! Anyone can send that header; only a trusted proxy's word is taken.

use std::fmt;
use std::net::IpAddr;

use actix_web::{HttpRequest, web};

/// An IP network, e.g. `10.0.0.0/8` or `fd00::/8`; a bare address is a network of one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Parses `address` or `address/prefix` (IPv4 or IPv6).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or network (e.g. 10.0.0.0/8)"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{raw:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Self { address, prefix })
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => same_prefix(
                network.to_bits().into(),
                ip.to_bits().into(),
                32,
                self.prefix,
            ),
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                same_prefix(network.to_bits(), ip.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of the `bits` low bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let ignored = u32::from(bits - prefix);
    a.checked_shr(ignored).unwrap_or(0) == b.checked_shr(ignored).unwrap_or(0)
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl fmt::Debug for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The proxies whose `X-Forwarded-For` is believed; none by default.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and networks; blank: none.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(IpNetwork::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then, reading
    /// `forwarded` (the `X-Forwarded-For` list) from the right, the first address that is
    /// not a trusted proxy (the leftmost when all are). An entry that is not an address
    /// makes the list worthless: the peer is the client then.
    pub fn client_of(&self, peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
        let peer = peer.to_canonical();
        let Some(forwarded) = forwarded.filter(|_| self.contains(peer)) else {
            return peer;
        };
        let mut client = peer;
        for entry in forwarded.rsplit(',') {
            let Ok(hop) = entry.trim().parse::<IpAddr>() else {
                return peer;
            };
            client = hop.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

/// The client's address as [`TrustedProxies::client_of`] tells it, with the trusted
/// proxies the app was given (none when it was given none); `None` without a peer.
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let Some(trusted) = request.app_data::<web::Data<TrustedProxies>>() else {
        return Some(peer.to_canonical());
    };
    // Several headers are one list, in order (RFC 9110 §5.3); one not in ASCII spoils it.
    let mut forwarded = Vec::new();
    for value in request.headers().get_all("x-forwarded-for") {
        match value.to_str() {
            Ok(value) => forwarded.push(value),
            Err(_) => return Some(peer.to_canonical()),
        }
    }
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    Some(trusted.client_of(peer, forwarded.as_deref()))
}
