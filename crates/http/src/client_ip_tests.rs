//! Whose `X-Forwarded-For` is believed, and which of its entries names the client.

use std::net::IpAddr;

use actix_web::test::TestRequest;
use actix_web::web;

use crate::client_ip::{IpNetwork, TrustedProxies, client_ip};

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

fn trusted(list: &str) -> TrustedProxies {
    TrustedProxies::parse(list).unwrap()
}

/// The client of a request from `peer` with `forwarded` headers, trusting `list`.
fn from(list: &str, peer: &str, forwarded: &[&str]) -> Option<IpAddr> {
    let mut request = TestRequest::default()
        .peer_addr(peer.parse().unwrap())
        .app_data(web::Data::new(trusted(list)));
    for value in forwarded {
        request = request.append_header(("X-Forwarded-For", *value));
    }
    client_ip(&request.to_http_request())
}

#[test]
fn a_trusted_peer_names_the_client_it_forwards() {
    assert_eq!(
        from("127.0.0.1", "127.0.0.1:9", &["203.0.113.7"]),
        Some(ip("203.0.113.7"))
    );
    // Without the header the proxy itself is the caller.
    assert_eq!(from("127.0.0.1", "127.0.0.1:9", &[]), Some(ip("127.0.0.1")));
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    assert_eq!(
        from("127.0.0.1", "198.51.100.2:9", &["203.0.113.7"]),
        Some(ip("198.51.100.2"))
    );
    // Loopback is not trusted unless listed.
    assert_eq!(
        from("", "127.0.0.4:9", &["127.0.0.3"]),
        Some(ip("127.0.0.4"))
    );
    // No trusted proxies given to the app at all: nobody is believed.
    let request = TestRequest::default()
        .peer_addr("127.0.0.1:9".parse().unwrap())
        .insert_header(("X-Forwarded-For", "203.0.113.7"))
        .to_http_request();
    assert_eq!(client_ip(&request), Some(ip("127.0.0.1")));
    assert_eq!(client_ip(&TestRequest::default().to_http_request()), None);
}

#[test]
fn a_chain_of_proxies_is_read_from_the_right_up_to_the_first_untrusted_hop() {
    let list = "127.0.0.1, 10.0.0.0/8";
    // The client forged the leftmost entry; the proxies appended the rest.
    assert_eq!(
        from(list, "127.0.0.1:9", &["6.6.6.6, 203.0.113.7, 10.1.2.3"]),
        Some(ip("203.0.113.7"))
    );
    // The same list spread over several headers.
    assert_eq!(
        from(list, "127.0.0.1:9", &["6.6.6.6", "203.0.113.7", "10.1.2.3"]),
        Some(ip("203.0.113.7"))
    );
    // Only proxies in the list: the leftmost is as close to the client as it gets.
    assert_eq!(
        from(list, "127.0.0.1:9", &["10.9.9.9, 10.1.2.3"]),
        Some(ip("10.9.9.9"))
    );
}

#[test]
fn ipv6_proxies_and_clients_are_understood() {
    assert_eq!(
        from("::1, fd00::/8", "[::1]:9", &["2001:db8::7, fd12::1"]),
        Some(ip("2001:db8::7"))
    );
    assert_eq!(
        from("fd00::/8", "[2001:db8::9]:9", &["2001:db8::7"]),
        Some(ip("2001:db8::9"))
    );
    // A dual-stack listener sees IPv4 peers as mapped addresses.
    assert_eq!(
        from("127.0.0.1", "[::ffff:127.0.0.1]:9", &["203.0.113.7"]),
        Some(ip("203.0.113.7"))
    );
}

#[test]
fn garbage_in_the_header_leaves_the_peer_as_the_client() {
    for garbage in ["garbage", "", "203.0.113.7, nope", "203.0.113.7:443"] {
        assert_eq!(
            from("127.0.0.1", "127.0.0.1:9", &[garbage]),
            Some(ip("127.0.0.1")),
            "{garbage:?}"
        );
    }
}

#[test]
fn networks_contain_what_their_prefix_covers() {
    let network = IpNetwork::parse("192.168.0.0/16").unwrap();
    assert!(network.contains(ip("192.168.44.1")));
    assert!(!network.contains(ip("192.169.0.1")));
    assert!(!network.contains(ip("::1")));
    assert!(
        IpNetwork::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8"))
    );
    assert!(
        IpNetwork::parse("::/0")
            .unwrap()
            .contains(ip("2001:db8::1"))
    );
    assert!(
        !IpNetwork::parse("127.0.0.1")
            .unwrap()
            .contains(ip("127.0.0.2"))
    );
    assert_eq!(network.to_string(), "192.168.0.0/16");
}

#[test]
fn a_list_is_parsed_or_refused_naming_the_bad_entry() {
    assert_eq!(TrustedProxies::parse(" "), Ok(TrustedProxies::default()));
    assert_eq!(
        format!("{:?}", trusted("127.0.0.1, 10.0.0.0/8,::1")),
        r#"[127.0.0.1/32, 10.0.0.0/8, ::1/128]"#
    );
    for (bad, named) in [
        ("127.0.0.1, localhost", "localhost"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("::/129", "::/129"),
        ("10.0.0.0/x", "10.0.0.0/x"),
    ] {
        let error = TrustedProxies::parse(bad).unwrap_err();
        assert!(error.contains(named), "{bad}: {error}");
    }
}
