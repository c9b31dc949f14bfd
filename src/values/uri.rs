//! The one URL grammar the directory stores (`HttpUrl`) and links to (`UrlTemplate`): an RFC 3986
//! URI written out in full, checked here character by character rather than repaired by a WHATWG
//! parser, so that what a client writes is what it reads back and what a browser opens.
//!
//! `http://` or `https://` (the scheme in any case), a host name, an optional port, then only the
//! characters RFC 3986 allows after the authority. The host is a DNS name of letter-digit-hyphen
//! labels whose last one starts with a letter (an international domain goes in its `xn--` form; an
//! IP address is no host name here). openapi.json states the same grammar as a pattern, and a test
//! holds the two together (tests/api/identifiers.rs).

/// The start of every refusal, which clients (and the schemathesis hooks) match on.
pub const MSG: &str = "must be an absolute http(s) URL";

/// A whole URL in this grammar (`HttpUrl`; `UrlTemplate` takes the steps one by one).
pub fn check(s: &str) -> Result<(), String> {
    let (authority, tail) = split(s)?;
    check_authority(authority)?;
    check_tail(tail)
}

/// Split `http(s)://authority…` into its authority and the rest (path, query, fragment).
pub fn split(s: &str) -> Result<(&str, &str), String> {
    let scheme = s.find("://").map(|i| &s[..i]).unwrap_or("");
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(format!("{MSG} starting http:// or https://"));
    }
    let rest = &s[scheme.len() + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if end == 0 {
        return Err(format!("{MSG}: a host must follow ://"));
    }
    Ok(rest.split_at(end))
}

/// `host[:port]`: a host name and a port from 0 to 65535 (at most five digits). Credentials
/// (`user@`) have their own refusal.
pub fn check_authority(authority: &str) -> Result<(), String> {
    if let Some(c) = authority.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '@'))) {
        return Err(format!("{MSG}: {} is not allowed in its host", shown(c)));
    }
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if !is_host_name(host) {
        return Err(format!("{MSG}: its host must be a domain name such as example.com (an international one in its xn-- form)"));
    }
    if port.is_some_and(|p| {
        p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u32>().is_ok_and(|n| n > 65535)
    }) {
        return Err(format!("{MSG}: its port must be a number from 0 to 65535"));
    }
    Ok(())
}

/// Letter-digit-hyphen labels, none empty or starting or ending with a hyphen; the last starts
/// with a letter (so no IPv4 address, whose last label is a number, passes as a name).
fn is_host_name(host: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') && !l.starts_with('-') && !l.ends_with('-')
    };
    let last_ok = host.rsplit('.').next().is_some_and(|l| l.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()));
    host.split('.').all(label_ok) && last_ok
}

/// RFC 3986 §3.3-3.5 after the authority: pchars, `/`, `?`, escapes (`%` and two hex digits) and
/// at most one `#`, which starts the fragment.
pub fn check_tail(tail: &str) -> Result<(), String> {
    let b = tail.as_bytes();
    let mut fragment = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => i += 2,
            b'%' => return Err(format!("{MSG}: a % must start an escape such as %20")),
            b'#' if fragment => return Err(format!("{MSG}: it has a second #")),
            b'#' => fragment = true,
            c if is_pchar(c) || matches!(c, b'/' | b'?') => {}
            _ => {
                let c = tail[i..].chars().next().unwrap_or('?');
                return Err(format!("{MSG}: {} is not allowed in a URL; percent-encode it", shown(c)));
            }
        }
        i += 1;
    }
    Ok(())
}

/// A character for an error message: printable ASCII as itself in quotes, anything else by number.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || is_sub_delim(b) || matches!(b, b':' | b'@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_ports_and_tails() {
        for ok in [
            "https://example.com",
            "HTTP://Example.COM:8080/a/b?c=d&e#f/g?h",
            "https://xn--mnchen-3ya.example/%C3%BC",
            "http://a-b--c.d9:0",
            "https://x.io:65535#",
            "https://localhost/",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://example.com",
            "https:example.com",
            "https:///example.com",
            "https://münchen.example",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://a*b.example",
            "https://a_b.example",
            "https://example.com.",
            "https://-a.example",
            "https://a.9z",
            "https://x.io:65536",
            "https://x.io:",
            "https://x.io:000080",
            "https://u:p@x.io",
            "https://x.io/a b",
            "https://x.io/ü",
            "https://x.io/%zz",
            "https://x.io/#a#b",
            "https://x.io/\\",
            "https://x.io\\y",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(check("https://u@x.io"), Err("must not contain credentials".into()));
    }
}
