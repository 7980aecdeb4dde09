//! This service's origin for a request: the URL a DPoP proof's `htu` must name, and the origin a
//! browser's `Origin` header must be for a cookie to count as same-origin. One place, so the two
//! never disagree.
//!
//! With [`JwtAuth::public_origin`](crate::JwtAuth::public_origin) the origin is configured. Without
//! it, it comes from the request: `Host` (or, with
//! [`JwtAuth::trust_forwarded_headers`](crate::JwtAuth::trust_forwarded_headers), what the proxy
//! forwarded), which the client chooses. That is why DPoP then takes only requests a client on
//! this machine sent, or hosts the application lists ([`dpop_url`]).

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::http::uri::Authority;
use auth_core::{AuthError, ConfigError};

use crate::jwt_auth::Config;

/// The origin (and path prefix) clients address the API by, as configured.
#[derive(Clone, Debug)]
pub(crate) struct PublicOrigin {
    /// `scheme://host[:port][/prefix]`, no trailing slash: a request's path follows it.
    pub(crate) base: Arc<str>,
    /// Scheme, host and port alone.
    origin: url::Origin,
}

impl PublicOrigin {
    pub(crate) fn parse(origin: &str) -> Result<PublicOrigin, ConfigError> {
        let bad = |problem: &str| ConfigError {
            setting: "JwtAuth::public_origin".to_owned(),
            problem: problem.to_owned(),
        };
        let url = url::Url::parse(origin)
            .map_err(|_| bad("not an absolute URL; write e.g. https://api.example.com"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad(
                "write an http(s) origin such as https://api.example.com",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an origin has no query or fragment"));
        }
        Ok(PublicOrigin {
            base: Arc::from(url.as_str().trim_end_matches('/')),
            origin: url.origin(),
        })
    }
}

/// An origin a browser may name in `Origin`, parsed from configuration: `scheme://host[:port]`.
pub(crate) fn parse_origin(setting: &str, origin: &str) -> Result<url::Origin, ConfigError> {
    let bad = |problem: String| ConfigError {
        setting: setting.to_owned(),
        problem,
    };
    let url = url::Url::parse(origin).map_err(|_| {
        bad(format!(
            "{origin:?} is not an origin; write scheme, host and port only, e.g. \
             https://app.example.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad(format!(
            "{origin:?} is not an http(s) origin; write scheme, host and port only, without \
             path, query or fragment, e.g. https://app.example.com"
        )));
    }
    Ok(url.origin())
}

/// A `Host`-style `host[:port]` from configuration, lowercased.
pub(crate) fn parse_host(setting: &str, host: &str) -> Result<Box<str>, ConfigError> {
    match host_authority(host) {
        Some(authority) if !authority.host().is_empty() => {
            Ok(authority.as_str().to_ascii_lowercase().into_boxed_str())
        }
        _ => Err(ConfigError {
            setting: setting.to_owned(),
            problem: format!(
                "{host:?} is not a host as clients send it in Host; write e.g. api.example.com \
                 or api.example.com:8443"
            ),
        }),
    }
}

/// The host a request names: `Host`, else the request line's authority, else the server's own.
fn request_host(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| req.uri().authority().map(|authority| authority.as_str()))
        .unwrap_or_else(|| req.app_config().host())
}

/// The URL a DPoP proof's `htu` must name for `req`: scheme, host and path, no query.
pub(crate) fn htu(req: &HttpRequest, config: &Config) -> String {
    let path = req.uri().path();
    if let Some(public) = &config.public_origin {
        return format!("{}{path}", public.base);
    }
    if config.trust_forwarded {
        let info = req.connection_info();
        return format!("{}://{}{path}", info.scheme(), info.host());
    }
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{}{path}", request_host(req))
}

/// The URL a DPoP proof must name, when this request may be checked against one. Without a
/// public origin or trusted forwarded headers, the URL comes from the client's `Host`: a proof
/// captured at one host would then replay against any other instance that accepts the same
/// audience, addressed with that host. So only requests from this machine (a loopback listening
/// address and a loopback host) or to a host listed in `JwtAuth::allowed_hosts` are taken.
pub(crate) fn dpop_url(req: &HttpRequest, config: &Config) -> Result<String, AuthError> {
    if config.public_origin.is_some() || config.trust_forwarded {
        return Ok(htu(req, config));
    }
    let host = request_host(req);
    let listed = config
        .allowed_hosts
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(host.trim()));
    let local = req
        .app_config()
        .local_addr()
        .ip()
        .to_canonical()
        .is_loopback()
        && names_loopback(host);
    if listed || local {
        return Ok(htu(req, config));
    }
    Err(AuthError::DpopHostNotAllowed(format!(
        "no public origin is set, so a proof's htu could only be checked against the Host the \
         client sent ({}), and only requests to a loopback address naming a loopback host, or to \
         a host listed with JwtAuth::allowed_hosts, are taken; set JwtAuth::public_origin \
         (AUTH_PUBLIC_ORIGIN in the examples)",
        shown(host)
    )))
}

/// A `Host` value as host and port; `None` for anything else, user information included (which
/// `Host` never carries, RFC 9110 §7.2).
fn host_authority(host: &str) -> Option<Authority> {
    host.trim()
        .parse::<Authority>()
        .ok()
        .filter(|authority| !authority.as_str().contains('@'))
}

/// Whether a `host[:port]` names this machine: `localhost` (and names under it, RFC 6761) or a
/// loopback address.
fn names_loopback(host: &str) -> bool {
    let Some(authority) = host_authority(host) else {
        return false;
    };
    let name = authority.host();
    let name = name
        .strip_prefix('[')
        .and_then(|name| name.strip_suffix(']'))
        .unwrap_or(name);
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// Whether a browser's `Origin` is this service's own: the public origin's scheme, host and port
/// if one is set; else the request's host and port (`Host`, or the forwarded host when trusted),
/// compared without the scheme, as TLS often ends at a proxy in front of the service.
pub(crate) fn is_own_origin(req: &HttpRequest, config: &Config, origin: &url::Origin) -> bool {
    if let Some(public) = &config.public_origin {
        return *origin == public.origin;
    }
    let url::Origin::Tuple(scheme, origin_host, origin_port) = origin else {
        return false;
    };
    let host = own_host(req, config);
    let Some(authority) = host_authority(&host) else {
        return false;
    };
    let default_port = match scheme.as_str() {
        "https" => 443,
        _ => 80,
    };
    let port = authority.port_u16().unwrap_or(default_port);
    let same_host = match origin_host {
        url::Host::Domain(name) => authority.host().eq_ignore_ascii_case(name),
        // Addresses in their canonical text, IPv6 in brackets as in `Host`.
        address => authority.host().eq_ignore_ascii_case(&address.to_string()),
    };
    port == *origin_port && same_host
}

/// The host (and port) this service is addressed by without a public origin: `Host`, or the
/// forwarded host when forwarded headers are trusted.
pub(crate) fn own_host(req: &HttpRequest, config: &Config) -> String {
    if config.trust_forwarded {
        req.connection_info().host().to_owned()
    } else {
        request_host(req).to_owned()
    }
}

/// A value from the request, for a log line: debug-quoted and at most 200 bytes of it.
pub(crate) fn shown(value: &str) -> String {
    let mut end = value.len().min(200);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}", &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_named_as_clients_send_them() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9:8080",
            "[::1]:8080",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(names_loopback(host), "{host}");
        }
        for host in [
            "api.example.com",
            "localhost.example.com",
            "10.0.0.5:8080",
            "[::2]",
            "",
            "user@localhost",
        ] {
            assert!(!names_loopback(host), "{host}");
        }
    }

    #[test]
    fn configured_origins_are_scheme_host_and_port_only() {
        let origin = parse_origin("s", "https://App.Example.com").unwrap();
        assert_eq!(origin.ascii_serialization(), "https://app.example.com");
        assert_eq!(
            parse_origin("s", "http://localhost:5173/")
                .unwrap()
                .ascii_serialization(),
            "http://localhost:5173"
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "https://app.example.com/?q",
            "https://app.example.com#f",
            "https://user@app.example.com",
            "ftp://app.example.com",
            "null",
        ] {
            let error = parse_origin("JwtAuth::cookie_origins", bad).unwrap_err();
            assert_eq!(error.setting, "JwtAuth::cookie_origins");
            assert!(error.problem.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn an_origin_is_this_services_by_host_and_port_without_a_public_origin() {
        let auth = crate::JwtAuth::new(
            auth_core::Provider::oidc("https://issuer.example.com").audience("api"),
        )
        .unwrap();
        let own = |host: &str, origin: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header(("host", host))
                .to_http_request();
            let origin = url::Url::parse(origin).unwrap().origin();
            is_own_origin(&req, &auth.config, &origin)
        };
        assert!(own("api.example.com", "https://api.example.com"));
        assert!(own("API.example.com:443", "https://api.example.com"));
        assert!(own("api.example.com", "http://api.example.com"));
        assert!(own("[::1]:8080", "http://[::1]:8080"));
        assert!(own("127.0.0.1:8080", "http://127.0.0.1:8080"));
        assert!(!own("api.example.com", "https://api.example.com:8443"));
        assert!(!own("api.example.com:8443", "https://api.example.com"));
        assert!(!own("api.example.com", "https://evil.example"));
        assert!(!own(
            "api.example.com.evil.example",
            "https://api.example.com"
        ));
        assert!(!own("user@api.example.com", "https://api.example.com"));
    }

    #[test]
    fn configured_hosts_are_host_and_port() {
        assert_eq!(
            &*parse_host("s", "API.example.com:8443").unwrap(),
            "api.example.com:8443"
        );
        for bad in ["", "https://api.example.com", "a@b", "api example"] {
            assert!(parse_host("s", bad).is_err(), "{bad}");
        }
    }
}
