//! The SSRF guard's rules: which URLs and addresses RipTide connects to. Fetches (the
//! worker resolves names through them), redirects, proxies and webhook callbacks all use
//! these, so there is one definition of "private".

use std::net::{IpAddr, Ipv4Addr};

use url::Url;

/// The phrase every refusal carries.
pub const REFUSED: &str = "refused by the SSRF guard";

/// Only http(s), and no literal private addresses.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme `{}` is not fetched; only http and https",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err("URL has no host".into()),
    };
    match ip {
        Some(ip) if !allow_private && !is_public(ip) => {
            Err(format!("{ip} is a private address: {REFUSED}"))
        }
        _ => Ok(()),
    }
}

/// True for addresses on the public internet: not private, loopback, link-local, shared
/// (CGNAT), benchmarking, reserved, multicast, broadcast, documentation or unspecified, and
/// not an IPv6 form that embeds such an IPv4 address (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded = |high: u16, low: u16| {
                Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
            };
            // ::a.b.c.d (compatible) and ::ffff:a.b.c.d (mapped)
            if segments[..5] == [0; 5] && (segments[5] == 0 || segments[5] == 0xffff) {
                return !v6.is_unspecified()
                    && !v6.is_loopback()
                    && is_public(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            // NAT64 64:ff9b::a.b.c.d
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            // 6to4 2002:aabb:ccdd::
            if segments[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(segments[1], segments[2])));
            }
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && segments[1] == 0x0db8))
        }
    }
}

/// Checks a callback URL where it is given (a submission): http(s), and every address its
/// host resolves to public, unless `allow_private`. The sender checks again when it
/// connects (the name may resolve elsewhere by then).
pub async fn check_callback(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("callback_url `{raw}`: {e}"))?;
    check_url(&url, allow_private).map_err(|e| format!("callback_url `{raw}`: {e}"))?;
    if allow_private {
        return Ok(url);
    }
    if let Some(url::Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("callback_url `{raw}`: resolving {name}: {e}"))?;
        for addr in addrs {
            if !is_public(addr.ip()) {
                return Err(format!(
                    "callback_url `{raw}`: {name} resolves to {}: {REFUSED}",
                    addr.ip()
                ));
            }
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "100.127.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "ff02::1",
            "::",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "198.20.0.1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_before_fetching() {
        let check = |u: &str| check_url(&Url::parse(u).unwrap(), false);
        assert!(check("https://example.com/").is_ok());
        assert!(check("http://127.0.0.1:8080/")
            .unwrap_err()
            .contains(REFUSED));
        assert!(check("http://[::1]/").unwrap_err().contains(REFUSED));
        assert!(check("file:///etc/passwd").unwrap_err().contains("scheme"));
        assert!(check_url(&Url::parse("http://127.0.0.1/").unwrap(), true).is_ok());
    }

    #[tokio::test]
    async fn callbacks_to_private_addresses_are_refused() {
        assert!(check_callback("https://93.184.216.34/hook", false)
            .await
            .is_ok());
        for private in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "ftp://93.184.216.34/",
        ] {
            assert!(check_callback(private, false).await.is_err(), "{private}");
        }
        assert!(check_callback("http://127.0.0.1:9000/hook", true)
            .await
            .is_ok());
    }
}
