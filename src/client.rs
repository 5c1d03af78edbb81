//! Who an anonymous caller is, for rate limiting: the address Cloudflare saw
//! (`CF-Connecting-IP`; no header a client can set is trusted), bucketed so that rotating
//! addresses within what one subscriber holds does not reset the limit: an IPv4 address as
//! is, an IPv6 address by its /64 (the prefix one site or subscriber is routed).

use std::net::IpAddr;

/// The rate-limit bucket of a client address; `unknown` when absent or unreadable (all such
/// callers share one bucket, so forging garbage buys nothing).
pub fn bucket(addr: Option<&str>) -> String {
    match addr.map(str::trim).and_then(|a| a.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".into(),
    }
}

/// The admin token is accepted only at this length or more: a short one can be guessed.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_64_share_a_bucket() {
        let a = bucket(Some("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(bucket(Some("2001:db8:1:2:ffff:ffff:ffff:ffff")), a);
        assert_ne!(bucket(Some("2001:db8:1:3::1")), a);
        assert_eq!(bucket(Some("2001:DB8:1:2::9")), a, "case does not matter");
    }

    #[test]
    fn ipv4_is_exact_and_garbage_is_one_bucket() {
        assert_eq!(bucket(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(bucket(Some("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(bucket(Some(" 198.51.100.1 ")), "198.51.100.1");
        for junk in [
            None,
            Some(""),
            Some("localhost"),
            Some("1.2.3.4, 5.6.7.8"),
            Some("x".repeat(5000).as_str()),
        ] {
            assert_eq!(bucket(junk), "unknown");
        }
    }
}
