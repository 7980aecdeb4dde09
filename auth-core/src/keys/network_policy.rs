//! Which network addresses a provider's fetches may reach, judged on the addresses a host resolves
//! to.
//!
//! A server can name URLs the configuration never did: a redirect, or a discovery document's
//! `jwks_uri`. Those must not let a remote issuer aim the API's key fetches at the API host's own
//! network (its loopback services, the private network around it, or a cloud metadata endpoint on a
//! link-local address). Host strings cannot tell: `localhost.`, `[::ffff:127.0.0.1]`, `0.0.0.0` and
//! any name that resolves to 10.0.0.1 all look remote. So the decision is made on resolved
//! addresses, in the resolver the HTTP client connects through: what it refuses is never connected
//! to.
//!
//! Hosts the configuration names are trusted wherever they resolve, and a provider configured on
//! this host's network (a loopback or private issuer) may follow its own URLs anywhere on that
//! network.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use url::{Host, Url};

/// One provider's rule, shared by its HTTP client's resolver and redirect policy.
#[derive(Debug)]
pub(crate) struct NetworkPolicy {
    /// Hosts the configuration names (lowercase, brackets and a trailing dot removed).
    configured: Vec<String>,
    /// Whether a configured host lies on this host's network; then server-named URLs may too.
    local: AtomicBool,
}

impl NetworkPolicy {
    /// The policy for a provider configured with `urls` (its discovery or JWKS URL, and so on).
    pub(crate) fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> Arc<NetworkPolicy> {
        let mut configured = Vec::new();
        let mut local = false;
        for url in urls {
            let Ok(url) = Url::parse(url) else { continue };
            match url.host() {
                Some(Host::Domain(domain)) => configured.push(normalise(domain)),
                Some(Host::Ipv4(ip)) => local |= !is_public(IpAddr::V4(ip)),
                Some(Host::Ipv6(ip)) => local |= !is_public(IpAddr::V6(ip)),
                None => {}
            }
        }
        Arc::new(NetworkPolicy {
            configured,
            local: AtomicBool::new(local),
        })
    }

    fn is_configured(&self, host: &str) -> bool {
        let host = normalise(host);
        self.configured.contains(&host)
    }

    fn is_local(&self) -> bool {
        self.local.load(Ordering::Acquire)
    }

    /// Why a URL that a server named may not be fetched, judged on its literal address; names are
    /// judged by [`PolicyResolver`] once resolved.
    pub(crate) fn refusal(&self, url: &Url) -> Option<&'static str> {
        let ip = match url.host()? {
            Host::Domain(_) => return None,
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
        };
        (!is_public(ip) && !self.is_local()).then_some("an address on this host's own network")
    }

    /// The addresses of `name` that may be connected to.
    fn admit(&self, name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, PolicyRefusal> {
        if self.is_configured(name) {
            if addrs.iter().any(|addr| !is_public(addr.ip())) {
                self.local.store(true, Ordering::Release);
            }
            return Ok(addrs);
        }
        if self.is_local() {
            return Ok(addrs);
        }
        let public: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|addr| is_public(addr.ip()))
            .collect();
        if public.is_empty() {
            return Err(PolicyRefusal(format!(
                "{name} resolves only to addresses on this host's own network (loopback, private \
                 or link-local), which a URL named by a remote issuer may not reach"
            )));
        }
        Ok(public)
    }
}

fn normalise(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// A name the policy will not let the client connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyRefusal(String);

impl std::fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyRefusal {}

/// The HTTP client's resolver: the system's lookup, filtered by the provider's policy.
#[derive(Debug, Clone)]
pub(crate) struct PolicyResolver(pub(crate) Arc<NetworkPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.0);
        let name = name.as_str().to_owned();
        let lookup = async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let admitted = policy.admit(&name, addrs)?;
            Ok(Box::new(admitted.into_iter()) as reqwest::dns::Addrs)
        };
        Box::pin(lookup) as Pin<Box<dyn Future<Output = _> + Send>>
    }
}

/// Whether `ip` is an address of the public internet: not loopback, unspecified, private, shared
/// (carrier-grade NAT), link-local, unique-local, multicast, broadcast or reserved. IPv6 forms that
/// carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match embedded_v4(ip) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(a == 0                                   // "this network", 0.0.0.0 included
        || ip.is_loopback()                    // 127/8
        || ip.is_private()                     // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()                  // 169.254/16: cloud metadata
        || (a == 100 && (64..128).contains(&b)) // 100.64/10, shared address space
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // 192.0.0/24, protocol assignments
        || (a == 198 && (b == 18 || b == 19))  // 198.18/15, benchmarking
        || ip.is_multicast()
        || a >= 240) // reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (first & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (first & 0xffc0) == 0xfec0 // fec0::/10, deprecated site-local
        || ip.is_multicast())
}

/// The IPv4 address an IPv6 address stands for, where it is only a wrapping of one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..]
            if !ip.is_loopback() && !ip.is_unspecified() =>
        {
            Some(tail)
        }
        // 64:ff9b::/96, NAT64.
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(tail),
        // 2002:AABB:CCDD::/48, 6to4.
        [0x2002, high, low, ..] => Some(Ipv4Addr::new(
            (high >> 8) as u8,
            high as u8,
            (low >> 8) as u8,
            low as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn classifies_addresses() {
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "100.128.0.1",
            "172.32.0.1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
        for own in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(own)), "{own}");
        }
    }

    #[test]
    fn literal_addresses_named_by_a_remote_issuer_are_refused() {
        let remote =
            NetworkPolicy::new(["https://idp.example.com/.well-known/openid-configuration"]);
        let url = |s: &str| Url::parse(s).unwrap();
        for inward in [
            "https://127.0.0.1/keys",
            "https://[::ffff:127.0.0.1]/keys",
            "https://0.0.0.0/keys",
            "https://10.1.2.3/keys",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/keys",
        ] {
            assert!(remote.refusal(&url(inward)).is_some(), "{inward}");
        }
        assert_eq!(remote.refusal(&url("https://8.8.8.8/keys")), None);
        assert_eq!(
            remote.refusal(&url("https://localhost./keys")),
            None,
            "names are judged once resolved"
        );

        let local = NetworkPolicy::new(["http://127.0.0.1:8080/.well-known/openid-configuration"]);
        assert_eq!(
            local.refusal(&url("http://127.0.0.1:9/keys")),
            None,
            "a local issuer names local URLs"
        );
        let private =
            NetworkPolicy::new(["https://10.0.0.5/realms/x/.well-known/openid-configuration"]);
        assert_eq!(private.refusal(&url("https://10.0.0.6/keys")), None);
    }

    #[test]
    fn resolved_names_are_filtered_unless_configured() {
        let remote = NetworkPolicy::new(["https://idp.example.com/"]);
        let own = vec![
            SocketAddr::from(([127, 0, 0, 1], 443)),
            SocketAddr::from(([10, 0, 0, 1], 443)),
        ];
        assert!(
            remote
                .admit("localhost", own.clone())
                .unwrap_err()
                .0
                .contains("own network")
        );
        let mixed = vec![
            SocketAddr::from(([10, 0, 0, 1], 443)),
            SocketAddr::from(([8, 8, 8, 8], 443)),
        ];
        assert_eq!(
            remote.admit("cdn.example.com", mixed).unwrap(),
            [SocketAddr::from(([8, 8, 8, 8], 443))]
        );
        assert!(!remote.is_local());
        // A configured name may resolve anywhere, and makes the provider local when it resolves
        // inward.
        assert_eq!(remote.admit("IDP.example.com.", own.clone()).unwrap(), own);
        assert!(remote.is_local());
        assert_eq!(remote.admit("keys.internal", own.clone()).unwrap(), own);
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_resolves_to_loopback() {
        use reqwest::dns::Resolve;
        let remote = PolicyResolver(NetworkPolicy::new(["https://idp.example.com/"]));
        let refused = remote.resolve("localhost".parse().unwrap()).await;
        assert!(
            refused.is_err(),
            "localhost resolves to loopback, which a remote issuer may not name"
        );
        let local = PolicyResolver(NetworkPolicy::new(["http://localhost:8080/"]));
        let addrs: Vec<SocketAddr> = local
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|addr| addr.ip().is_loopback()) && !addrs.is_empty());
    }
}
