//! A webhook endpoint URL, checked against server-side request forgery at the boundary.
//!
//! Production endpoints must be `https://` on a public host: IP literals in loopback, private,
//! link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved or documentation
//! ranges are refused (IANA's special-purpose registries, RFC 6890), and so are single-label names
//! and the suffixes that name a local network: `localhost` (RFC 6761), `local` (RFC 6762),
//! `home.arpa` (RFC 8375), and the common `internal` and `localdomain`. RFC 6761's other reserved
//! names (`test`, `invalid`, `example`) are let through: no resolver answers for them, so they
//! reach nothing, which is all this check is for. Every spelling the `url`
//! crate normalises (WHATWG: `2130706433`, `0x7f.1`, `0177.0.0.1`, percent-encoded or full-width
//! hosts, IPv4-mapped IPv6) is judged after normalisation, so none slips through.
//!
//! A public name may still resolve to a private address (DNS rebinding); that is the fetch's
//! business, not the parser's: the Workers runtime does not route to private networks, and the
//! delivery must not follow redirects.
//!
//! `allow_http` (set by `ALLOW_HTTP_WEBHOOKS = "true"`, for local development and tests only)
//! lets `http://` and local hosts through; other schemes and credentials are refused either way.

use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The variable that lets `http://` and local endpoints through.
pub const ALLOW_HTTP_VAR: &str = "ALLOW_HTTP_WEBHOOKS";

/// Whether the value of [`ALLOW_HTTP_VAR`] allows them: exactly `"true"`, nothing looser.
pub fn allow_http(var: Option<&str>) -> bool {
    var == Some("true")
}

pub const MAX_LEN: usize = 2048;

/// An endpoint URL in the `url` crate's canonical serialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(s: &str, allow_http: bool) -> Result<WebhookUrl, String> {
        const MSG: &str = "must be an absolute https URL";
        // The url crate silently drops tabs, newlines and surrounding spaces; refuse them instead.
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(MSG.into());
        }
        let url = Url::parse(s).map_err(|_| MSG.to_string())?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            _ => return Err(MSG.into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        // Never sent in a request: a fragment only hides a mistake.
        if url.fragment().is_some() {
            return Err("must not contain a fragment".into());
        }
        let host = url.host().ok_or_else(|| MSG.to_string())?;
        if !allow_http {
            public_host(&host)?;
        }
        if s.len() > MAX_LEN || url.as_str().len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        Ok(WebhookUrl(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const NOT_PUBLIC: &str = "must point to a public host (not loopback, private, link-local or reserved)";

fn public_host(host: &Host<&str>) -> Result<(), String> {
    let public = match host {
        Host::Domain(d) => public_name(d),
        Host::Ipv4(a) => public_v4(*a),
        Host::Ipv6(a) => public_v6(*a),
    };
    if public {
        Ok(())
    } else {
        Err(NOT_PUBLIC.into())
    }
}

/// Names that never leave the local network: single labels (resolved through search domains) and
/// the suffixes of local networks.
fn public_name(name: &str) -> bool {
    const LOCAL_SUFFIXES: [&str; 5] = ["localhost", "local", "internal", "localdomain", "home.arpa"];
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let local = LOCAL_SUFFIXES.iter().any(|s| name == *s || name.strip_suffix(s).is_some_and(|rest| rest.ends_with('.')));
    name.contains('.') && !name.starts_with('.') && !local
}

/// IPv4 special-purpose blocks (RFC 6890 and the IANA registry) plus multicast and class E.
const V4_BLOCKS: [([u8; 4], u32); 15] = [
    ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // CGNAT shared address space
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, cloud metadata
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation
    ([203, 0, 113, 0], 24),  // documentation
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, broadcast
];

fn public_v4(a: Ipv4Addr) -> bool {
    let bits = u32::from(a);
    !V4_BLOCKS.iter().any(|&(net, len)| bits >> (32 - len) == u32::from_be_bytes(net) >> (32 - len))
}

/// IPv6 blocks inside global unicast 2000::/3 that are not public destinations.
const V6_BLOCKS: [(u128, u32); 3] = [
    (0x2001 << 112, 23),                   // IETF protocol assignments, Teredo (2001::/32)
    ((0x2001 << 112) | (0xdb8 << 96), 32), // documentation
    (0x3fff << 112, 20),                   // documentation (RFC 9637)
];

fn public_v6(a: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(a) {
        return public_v4(v4);
    }
    let bits = u128::from(a);
    let global_unicast = bits >> 125 == 0b001;
    global_unicast && !V6_BLOCKS.iter().any(|&(net, len)| bits >> (128 - len) == net >> (128 - len))
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d` (RFC 6052) and 6to4 `2002:AABB:CCDD::/48` (RFC 3056).
fn embedded_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(a);
    if let Some(v4) = a.to_ipv4_mapped() {
        Some(v4)
    } else if bits >> 32 == 0x0064_ff9b_u128 << 64 {
        Some(Ipv4Addr::from(bits as u32))
    } else if bits >> 112 == 0x2002 {
        Some(Ipv4Addr::from((bits >> 80) as u32))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod(s: &str) -> Result<String, String> {
        WebhookUrl::parse(s, false).map(|u| u.as_str().to_string())
    }

    #[test]
    fn public_https_urls_are_kept_canonically() {
        for (input, want) in [
            ("https://example.com/hook", "https://example.com/hook"),
            ("HTTPS://Hooks.Example.COM", "https://hooks.example.com/"),
            ("https://hooks.example.com:8443/a/b?x=1&y=2", "https://hooks.example.com:8443/a/b?x=1&y=2"),
            ("https://example.com:443/h", "https://example.com/h"),
            ("https://bücher.example/h", "https://xn--bcher-kva.example/h"),
            ("https://example.com./h", "https://example.com./h"),
            ("https://8.8.8.8/h", "https://8.8.8.8/h"),
            ("https://[2606:4700:4700::1111]/h", "https://[2606:4700:4700::1111]/h"),
            ("https://[::ffff:8.8.8.8]/h", "https://[::ffff:808:808]/h"),
            ("https://example.com/a%20b/ü", "https://example.com/a%20b/%C3%BC"),
        ] {
            assert_eq!(prod(input).as_deref(), Ok(want), "{input}");
            assert_eq!(prod(want).as_deref(), Ok(want), "stable: {input}");
        }
    }

    #[test]
    fn boundaries_of_the_private_ranges_are_public() {
        for ok in [
            "https://9.255.255.255/",
            "https://11.0.0.0/",
            "https://100.63.255.255/",
            "https://100.128.0.0/",
            "https://126.255.255.255/",
            "https://128.0.0.0/",
            "https://169.253.255.255/",
            "https://169.255.0.0/",
            "https://172.15.255.255/",
            "https://172.32.0.0/",
            "https://192.167.255.255/",
            "https://192.169.0.0/",
            "https://198.17.255.255/",
            "https://198.20.0.0/",
            "https://223.255.255.255/",
            "https://[2001:200::1]/",
            "https://[2001:db9::1]/",
            "https://[3ffe::1]/",
            "https://[64:ff9b::808:808]/",
            "https://[2002:808:808::1]/",
        ] {
            assert!(prod(ok).is_ok(), "{ok}: {:?}", prod(ok));
        }
    }

    #[test]
    fn private_loopback_and_reserved_hosts_are_refused() {
        for bad in [
            // Loopback, every spelling the url crate folds into 127.0.0.1.
            "https://127.0.0.1/",
            "https://127.255.255.254/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://0177.1/",
            "https://127.0.0.1./",
            "https://１２７.０.０.１/",
            "https://[::1]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://localhost/",
            "https://LOCALHOST:8443/",
            "https://localhost./",
            "https://api.localhost/",
            "https://%6c%6f%63%61%6c%68%6f%73%74/",
            "https://ⓛocalhost/",
            // Unspecified.
            "https://0.0.0.0/",
            "https://0/",
            "https://[::]/",
            // Private, CGNAT, link-local and cloud metadata.
            "https://10.0.0.1/",
            "https://10.255.255.255/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.0.1/",
            "https://192.168.255.255/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://169.254.169.254/latest/meta-data/",
            "https://2852039166/",
            "https://0xa9.0xfe.0xa9.0xfe/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[64:ff9b::169.254.169.254]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:192.168.1.1]/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[fe80::1]/",
            "https://[febf::1]/",
            "https://[fec0::1]/",
            "https://metadata.google.internal/",
            // Multicast, broadcast, reserved, documentation, benchmarking.
            "https://224.0.0.1/",
            "https://239.255.255.250/",
            "https://255.255.255.255/",
            "https://240.0.0.1/",
            "https://192.0.0.170/",
            "https://192.0.2.1/",
            "https://198.51.100.1/",
            "https://203.0.113.1/",
            "https://198.18.0.1/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[2001::1]/",
            "https://[3fff::1]/",
            "https://[64:ff9b:1::1]/",
            "https://[100::1]/",
            // Names that only resolve locally.
            "https://intranet/",
            "https://printer.local/",
            "https://router.home.arpa/",
            "https://db.localdomain/",
        ] {
            assert_eq!(prod(bad), Err(NOT_PUBLIC.to_string()), "{bad}");
            assert!(WebhookUrl::parse(bad, true).is_ok(), "allowed for local development: {bad}");
        }
    }

    #[test]
    fn http_only_for_local_development() {
        assert_eq!(prod("http://example.com/hook"), Err("must be an absolute https URL".into()));
        let dev = WebhookUrl::parse("http://127.0.0.1:8787/hook", true).unwrap();
        assert_eq!(dev.as_str(), "http://127.0.0.1:8787/hook");
        assert_eq!(dev.to_string(), "http://127.0.0.1:8787/hook");
        assert!(WebhookUrl::parse("http://localhost:9999", true).is_ok());
    }

    #[test]
    fn malformed_other_schemes_and_credentials() {
        for bad in [
            "",
            "example.com/hook",
            "//example.com/hook",
            "/hook",
            "https://",
            "https:///",
            "https://exa mple.com/",
            "https://example.com/a b",
            " https://example.com/",
            "https://example.com/\n",
            "https://example.com/\thook",
            "ftp://example.com/",
            "ws://example.com/",
            "wss://example.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/plain,hi",
            "mailto:ops@example.com",
            "gopher://example.com/",
            "https://1.2.3.4.5/",
            "https://example.com:99999/",
        ] {
            for allow in [false, true] {
                assert_eq!(WebhookUrl::parse(bad, allow), Err("must be an absolute https URL".into()), "{bad:?} {allow}");
            }
        }
        for bad in
            ["https://user:pw@example.com/", "https://user@example.com/", "https://:pw@example.com/", "http://u:p@127.0.0.1/"]
        {
            assert_eq!(WebhookUrl::parse(bad, true), Err("must not contain credentials".into()), "{bad}");
        }
        assert_eq!(prod("https://example.com/hook#x"), Err("must not contain a fragment".into()));
        assert_eq!(prod("https://example.com/hook#"), Err("must not contain a fragment".into()));
    }

    #[test]
    fn at_most_2048_characters() {
        let base = "https://example.com/";
        let fits = format!("{base}{}", "a".repeat(MAX_LEN - base.len()));
        assert_eq!(prod(&fits).map(|s| s.len()), Ok(MAX_LEN));
        let long = format!("{fits}a");
        assert_eq!(prod(&long), Err("must be at most 2048 characters".into()));
        // Short as written, too long once percent-encoded.
        let grows = format!("{base}{}", "é".repeat(700));
        assert!(grows.len() <= MAX_LEN);
        assert_eq!(prod(&grows), Err("must be at most 2048 characters".into()));
    }

    #[test]
    fn the_allow_http_variable() {
        assert!(allow_http(Some("true")));
        for no in [None, Some(""), Some("false"), Some("TRUE"), Some("1"), Some("yes"), Some(" true")] {
            assert!(!allow_http(no), "{no:?}");
        }
        assert_eq!(ALLOW_HTTP_VAR, "ALLOW_HTTP_WEBHOOKS");
    }
}
