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

/// The settings a request's origin is judged by: the part of the [`JwtAuth`](crate::JwtAuth)
/// configuration this module and the cookie rule read, held here so they import nothing from it.
#[derive(Clone, Debug, Default)]
pub(crate) struct OriginConfig {
    /// Scheme, host and path prefix clients address the API by, for DPoP's `htu` and cookies.
    pub(crate) public_origin: Option<PublicOrigin>,
    /// Take scheme and host from `Forwarded` / `X-Forwarded-*` headers (a trusted proxy sets them).
    pub(crate) trust_forwarded: bool,
    /// `Host` values DPoP proofs are taken for without a public origin, lowercased.
    pub(crate) allowed_hosts: Vec<Box<str>>,
    /// Other origins whose requests a cookie token counts for.
    pub(crate) cookie_origins: Vec<url::Origin>,
}

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

/// Where this service is addressed, as far as the request tells: the host (and port) clients
/// name, and the scheme where it is known.
struct Addressed {
    host: String,
    /// `Some` when the scheme is known (TLS at this server, or a trusted proxy's forwarded
    /// protocol); `None` when a proxy may have ended TLS without saying so.
    scheme: Option<String>,
}

/// Scheme and host as the request names them: `Host` and this server's own TLS, or, with
/// forwarded headers trusted, what the proxy forwarded. `Err` (for the log) when forwarded headers
/// cannot be trusted to name one origin.
fn addressed(req: &HttpRequest, config: &OriginConfig) -> Result<Addressed, String> {
    let secure = req.app_config().secure().then(|| "https".to_owned());
    if !config.trust_forwarded {
        return Ok(Addressed {
            host: request_host(req).to_owned(),
            scheme: secure,
        });
    }
    let forwarded = forwarded(req)?;
    Ok(Addressed {
        host: forwarded
            .host
            .unwrap_or_else(|| request_host(req).to_owned()),
        scheme: forwarded.proto.or(secure),
    })
}

/// What a trusted proxy forwarded.
#[derive(Debug, Default, PartialEq, Eq)]
struct Forwarded {
    host: Option<String>,
    proto: Option<String>,
}

/// Reads `Forwarded` (RFC 7239) and `X-Forwarded-Host` / `X-Forwarded-Proto`. A proxy that sets
/// one family may pass the other on from the client, and one that appends to a header keeps the
/// client's value first (actix's own reading takes `Forwarded` first, and a list's first value), so
/// a client could choose the origin a DPoP proof is checked against. Here every value must be
/// single, and the two families, where both are present, must agree; otherwise the request names no
/// origin this service can vouch for.
fn forwarded(req: &HttpRequest) -> Result<Forwarded, String> {
    let headers = req.headers();
    let mut standard = Forwarded::default();
    if let Some(value) = single_value(headers, "forwarded")? {
        if value.contains(',') {
            return Err(format!(
                "Forwarded lists several hops ({}): a client's value may be among them",
                shown(value)
            ));
        }
        for pair in value.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "host" => standard.host = Some(value),
                "proto" => standard.proto = Some(value.to_ascii_lowercase()),
                _ => {}
            }
        }
    }
    let listed = |name: &str| -> Result<Option<String>, String> {
        match single_value(headers, name)? {
            Some(value) if value.contains(',') => Err(format!(
                "{name} lists several values ({}): a client's value may be among them",
                shown(value)
            )),
            value => Ok(value.map(|value| value.trim().to_owned())),
        }
    };
    let x_host = listed("x-forwarded-host")?;
    let x_proto = listed("x-forwarded-proto")?.map(|proto| proto.to_ascii_lowercase());
    let agree = |name: &str, a: Option<String>, b: Option<String>| match (a, b) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(&b) => Err(format!(
            "Forwarded names {name} {} but X-Forwarded-{name} {}: one came from the client",
            shown(&a),
            shown(&b)
        )),
        (a, b) => Ok(a.or(b)),
    };
    Ok(Forwarded {
        host: agree("host", standard.host, x_host)?,
        proto: agree("proto", standard.proto, x_proto)?,
    })
}

/// A header's one value as text: `None` when absent, `Err` when repeated or not text.
fn single_value<'a>(
    headers: &'a actix_web::http::header::HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, String> {
    let mut values = headers.get_all(name);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    match (value.to_str(), values.next()) {
        (Ok(value), None) => Ok(Some(value)),
        _ => Err(format!("{name} is repeated or not text")),
    }
}

/// The URL a DPoP proof must name, when this request may be checked against one: scheme, host and
/// path, no query. Without a public origin or trusted forwarded headers, the URL comes from the
/// client's `Host`: a proof captured at one host would then replay against any other instance that
/// accepts the same audience, addressed with that host. So only requests from this machine (a
/// loopback listening address and a loopback host) or to a host listed in `JwtAuth::allowed_hosts`
/// are taken; with trusted forwarded headers, only a forwarded host listed there.
pub(crate) fn dpop_url(req: &HttpRequest, config: &OriginConfig) -> Result<String, AuthError> {
    let path = req.uri().path();
    if let Some(public) = &config.public_origin {
        return Ok(format!("{}{path}", public.base));
    }
    let addressed = addressed(req, config).map_err(|why| {
        AuthError::DpopHostNotAllowed(format!(
            "the forwarded headers do not name one origin: {why}; the proxy must set them and \
             strip what clients send (Forwarded and X-Forwarded-*), or set JwtAuth::public_origin \
             (AUTH_PUBLIC_ORIGIN in the examples)"
        ))
    })?;
    let scheme = addressed.scheme.as_deref().unwrap_or("http");
    let url = format!("{scheme}://{}{path}", addressed.host);
    let host = addressed.host.as_str();
    let listed = config
        .allowed_hosts
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(host.trim()));
    if config.trust_forwarded {
        // A proxy with a catch-all server forwards whatever `Host` the client sent, so the
        // forwarded host is the client's choice too unless the application names its own.
        if listed {
            return Ok(url);
        }
        return Err(AuthError::DpopHostNotAllowed(format!(
            "the forwarded host ({}) is not listed with JwtAuth::allowed_hosts: a proxy forwards \
             the Host a client sends wherever it has a catch-all server, so a proof made for \
             another host would replay here; list this API's hosts with JwtAuth::allowed_hosts, \
             or set JwtAuth::public_origin (AUTH_PUBLIC_ORIGIN in the examples)",
            shown(host)
        )));
    }
    let local = req
        .app_config()
        .local_addr()
        .ip()
        .to_canonical()
        .is_loopback()
        && names_loopback(host);
    if listed || local {
        return Ok(url);
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
/// if one is set; else the request's (`Host`, or what a trusted proxy forwarded). Where the scheme
/// is known (TLS here, or a trusted proxy's forwarded protocol) the Origin's must be it: a plain
/// http page on the API's host (a network attacker can serve one) is not the https API. Where it
/// is not known (TLS may end at a proxy that does not say so), only an `https` Origin counts, or an
/// `http` one on a loopback host (a developer's machine); a plain-http deployment sets
/// `JwtAuth::public_origin`.
pub(crate) fn is_own_origin(
    req: &HttpRequest,
    config: &OriginConfig,
    origin: &url::Origin,
) -> bool {
    if let Some(public) = &config.public_origin {
        return *origin == public.origin;
    }
    let url::Origin::Tuple(origin_scheme, origin_host, origin_port) = origin else {
        return false;
    };
    let Ok(addressed) = addressed(req, config) else {
        return false;
    };
    let Some(authority) = host_authority(&addressed.host) else {
        return false;
    };
    let scheme = match addressed.scheme.as_deref() {
        Some(known) => known,
        None if origin_scheme == "https" || names_loopback(&addressed.host) => origin_scheme,
        None => return false,
    };
    if scheme != origin_scheme {
        return false;
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let port = authority.port_u16().unwrap_or(default_port);
    let same_host = match origin_host {
        url::Host::Domain(name) => authority.host().eq_ignore_ascii_case(name),
        // Addresses in their canonical text, IPv6 in brackets as in `Host`.
        address => authority.host().eq_ignore_ascii_case(&address.to_string()),
    };
    port == *origin_port && same_host
}

/// The host (and port) this service is addressed by without a public origin, for a log line:
/// `Host`, or the forwarded host when forwarded headers are trusted (or why they cannot be).
pub(crate) fn own_host(req: &HttpRequest, config: &OriginConfig) -> String {
    match addressed(req, config) {
        Ok(addressed) => addressed.host,
        Err(why) => why,
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
            is_own_origin(&req, &auth.config.origins, &origin)
        };
        assert!(own("api.example.com", "https://api.example.com"));
        assert!(own("API.example.com:443", "https://api.example.com"));
        // The scheme is not known here (no TLS at this server, no trusted proxy): only https
        // Origins count, and http ones on loopback hosts.
        assert!(!own("api.example.com", "http://api.example.com"));
        assert!(own("localhost:8080", "http://localhost:8080"));
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
    fn forwarded_headers_name_one_origin_or_none() {
        let read = |headers: &[(&str, &str)]| {
            let mut req = actix_web::test::TestRequest::default();
            for header in headers {
                req = req.append_header(*header);
            }
            forwarded(&req.to_http_request())
        };
        let both = read(&[
            ("forwarded", "for=1.2.3.4;host=api.example.com;proto=https"),
            ("x-forwarded-host", "API.example.com"),
            ("x-forwarded-proto", "https"),
        ])
        .unwrap();
        assert_eq!(
            (both.host.as_deref(), both.proto.as_deref()),
            (Some("api.example.com"), Some("https"))
        );
        let quoted = read(&[("forwarded", "host=\"api.example.com:8443\";proto=HTTPS")]).unwrap();
        assert_eq!(quoted.host.as_deref(), Some("api.example.com:8443"));
        assert_eq!(quoted.proto.as_deref(), Some("https"));
        assert_eq!(read(&[]).unwrap(), Forwarded::default());
        for refused in [
            vec![
                ("forwarded", "host=a.example.com;proto=https"),
                ("x-forwarded-host", "b.example.com"),
            ],
            vec![("forwarded", "proto=http"), ("x-forwarded-proto", "https")],
            vec![("x-forwarded-host", "a.example.com, b.example.com")],
            vec![("forwarded", "host=a.example.com, host=b.example.com")],
            vec![
                ("x-forwarded-host", "a.example.com"),
                ("x-forwarded-host", "b.example.com"),
            ],
        ] {
            assert!(read(&refused).is_err(), "{refused:?}");
        }
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
