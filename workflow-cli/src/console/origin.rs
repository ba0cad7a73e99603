//! Which requests the console answers at all, before its token is looked at:
//!
//! - every request must name, in its `Host`, the address the console is bound to (or
//!   `localhost` on a loopback address) or a name it was told to answer to (`--allow-host`):
//!   a page whose name was rebound to this address (DNS rebinding) is refused;
//! - a request that changes something (any method but GET, HEAD and OPTIONS) must come from
//!   the console's own origin (`Origin` naming the `Host` it was sent to, or no `Origin` and
//!   no cross-site `Sec-Fetch-Site`: a script) and carry JSON (`Content-Type:
//!   application/json`). Forms and no-cors fetches cannot send JSON, and a cross-origin fetch
//!   that does is first asked about (preflight), which the console never allows.

use std::net::{IpAddr, SocketAddr};

use axum::extract::Request;
use axum::http::header::{AsHeaderName, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;

/// The hosts a console answers to.
#[derive(Debug, Clone)]
pub(crate) struct Hosts {
    bound: SocketAddr,
    /// Names from `--allow-host`, in lower case, each with its port if one was given.
    allowed: Vec<(String, Option<u16>)>,
}

impl Hosts {
    /// The hosts of a console bound to `bound`, answering to the `allowed` names too (`name`:
    /// on any port, as a proxy in front may use its own; `name:port`: on that port only).
    pub(crate) fn new(bound: SocketAddr, allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|name| parse_allowed(name))
            .collect::<Result<_, _>>()?;
        Ok(Hosts { bound, allowed })
    }

    /// Whether a request whose `Host` is `host` is for this console.
    fn allow(&self, host: &str) -> bool {
        let Some((name, port)) = split(host) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        if self
            .allowed
            .iter()
            .any(|(allowed, only)| *allowed == name && only.is_none_or(|only| port == Some(only)))
        {
            return true;
        }
        if port.unwrap_or(80) != self.bound.port() {
            return false;
        }
        let ip = self.bound.ip();
        match name.parse::<IpAddr>() {
            // An address cannot be rebound; on 0.0.0.0 or :: the console has all of them.
            Ok(named) => named == ip || ip.is_unspecified(),
            Err(_) => name == "localhost" && ip.is_loopback(),
        }
    }

    /// What the console answers to, for a refusal's message.
    fn describe(&self) -> String {
        let bound = if self.bound.ip().is_unspecified() {
            format!("this machine's addresses on port {}", self.bound.port())
        } else if self.bound.ip().is_loopback() {
            format!("{} or localhost:{}", self.bound, self.bound.port())
        } else {
            self.bound.to_string()
        };
        let names: Vec<String> = self
            .allowed
            .iter()
            .map(|(name, port)| port.map_or_else(|| name.clone(), |port| format!("{name}:{port}")))
            .collect();
        if names.is_empty() {
            bound
        } else {
            format!("{bound}, {}", names.join(", "))
        }
    }
}

/// An `--allow-host` value: a host name or address, with or without a port.
pub(crate) fn parse_allowed(text: &str) -> Result<(String, Option<u16>), String> {
    split(text)
        .map(|(name, port)| (name.to_ascii_lowercase(), port))
        .ok_or_else(|| {
            format!("`{text}` is no host name: give a name as browsers send it, e.g. console.example.com or console.example.com:8443")
        })
}

/// A `Host` value as its name (an IPv6 address without brackets) and port; `None` for
/// anything that is not one.
fn split(host: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        name.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (name, None),
            _ => (name, Some(after.strip_prefix(':')?)),
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let valid = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_');
    if name.is_empty() || !(name.contains(':') || name.bytes().all(valid)) {
        return None;
    }
    let port = match port {
        Some(port) if port.bytes().all(|byte| byte.is_ascii_digit()) => Some(port.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    Some((name, port))
}

/// `routes`, refusing requests for other hosts and changes from other origins.
pub(super) fn guard(routes: Router, hosts: Hosts) -> Router {
    routes.layer(middleware::from_fn(move |request: Request, next: Next| {
        let hosts = hosts.clone();
        async move {
            match check(&hosts, request.method(), request.headers()) {
                Ok(()) => next.run(request).await,
                Err((status, message)) => (status, message + "\n").into_response(),
            }
        }
    }))
}

/// `Ok`, or why the request is refused.
fn check(hosts: &Hosts, method: &Method, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    let Some(host) = host.filter(|host| hosts.allow(host)) else {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "this console answers to {} only, not to `{}`: to reach it by another name, start it with --allow-host NAME",
                hosts.describe(),
                host.unwrap_or("(no Host header)")
            ),
        ));
    };
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    match text(headers, ORIGIN) {
        Some(origin) if !same_origin(origin, host) => {
            return Err((
                StatusCode::FORBIDDEN,
                format!("changes are taken from the console's own pages only: the request came from `{origin}`, not from http://{host}"),
            ));
        }
        Some(_) => {}
        // No Origin: a script, or a browser that should have sent one; a browser that says
        // the request is cross-site is believed.
        None => {
            if let Some(site) = text(headers, "sec-fetch-site").filter(|site| {
                !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none")
            }) {
                return Err((
                    StatusCode::FORBIDDEN,
                    format!("changes are taken from the console's own pages only: the browser says this request is {site}"),
                ));
            }
        }
    }
    let json = text(headers, CONTENT_TYPE)
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send changes as JSON, with `Content-Type: application/json`".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) is the origin of a page served from `host`. The
/// scheme is not compared, so that a console behind a TLS proxy takes its pages' changes; a
/// missing port is the scheme's default on both sides.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return false,
    };
    match (split(authority), split(host)) {
        (Some((origin_name, origin_port)), Some((host_name, host_port))) => {
            origin_name.eq_ignore_ascii_case(host_name)
                && origin_port.unwrap_or(default) == host_port.unwrap_or(default)
        }
        _ => false,
    }
}

/// A header's value; one that is not text reads as `?`, which no check accepts.
fn text(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).map(|value| value.to_str().unwrap_or("?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(bound: &str, allowed: &[&str]) -> Hosts {
        let allowed: Vec<String> = allowed.iter().map(|name| (*name).to_owned()).collect();
        Hosts::new(bound.parse().expect("an address"), &allowed).expect("valid names")
    }

    #[test]
    fn hosts_are_the_bound_address_localhost_on_loopback_and_allowed_names() {
        let loopback = hosts("127.0.0.1:8080", &["console.example", "other.example:9000"]);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "console.example",
            "Console.Example:443",
            "other.example:9000",
        ] {
            assert!(loopback.allow(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "127.0.0.2:8080",
            "localhost",
            "localhost.:8080",
            "127.0.0.1.evil.example:8080",
            "other.example:9001",
            "other.example",
            "console.example@evil.example",
            "",
            ":8080",
            "[::1]:8080",
            "127.0.0.1:8080:8080",
            "127.0.0.1:80a",
            "127.0.0.1:99999",
        ] {
            assert!(!loopback.allow(host), "{host}");
        }

        let v6 = hosts("[::1]:8080", &[]);
        assert!(v6.allow("[::1]:8080") && v6.allow("localhost:8080"));
        assert!(!v6.allow("::1:8080") && !v6.allow("[::1]:80"));

        // Every address: any address literal on the port, names only when allowed.
        let everywhere = hosts("0.0.0.0:80", &[]);
        assert!(everywhere.allow("192.0.2.7") && everywhere.allow("192.0.2.7:80"));
        assert!(!everywhere.allow("192.0.2.7:8080") && !everywhere.allow("evil.example"));
        assert!(!everywhere.allow("localhost"));

        assert!(Hosts::new(
            "127.0.0.1:1".parse().expect("an address"),
            &["http://x/".to_owned()]
        )
        .is_err());
    }

    #[test]
    fn origins_match_the_host_they_were_sent_to() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("http://localhost", "localhost"));
        assert!(same_origin("http://localhost", "localhost:80"));
        assert!(same_origin("https://console.example", "console.example"));
        assert!(same_origin(
            "HTTP://Console.Example:8443",
            "console.example:8443"
        ));
        assert!(!same_origin("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_origin("http://evil.example:8080", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("file://", "127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1:8080/x", "127.0.0.1:8080"));
    }
}
