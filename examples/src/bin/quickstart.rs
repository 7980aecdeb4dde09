//! Quickstart: an API that accepts tokens from any OpenID Connect issuer.
//!
//! ```text
//! cargo run -p examples --bin quickstart
//! ```
//!
//! Settings (environment variables). With `AUTH_ISSUER` unset the app runs on an embedded demo
//! issuer and prints ready-to-paste `curl` lines; that branch is the only part of this file a real
//! app drops.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_ISSUER` | issuer URL; keys through `<issuer>/.well-known/openid-configuration` | embedded demo issuer |
//! | `AUTH_AUDIENCE` | the `aud` your API's tokens carry (required with `AUTH_ISSUER`) | |
//! | `AUTH_JWKS_URL` | JWKS URL, skipping discovery | from discovery |
//! | `AUTH_ROLES_CLAIM` | claim path holding roles, e.g. `realm_access.roles` | `roles` |
//! | `AUTH_ALGORITHMS` | comma-separated allow-list, e.g. `RS256,ES256` | what the issuer advertises |
//! | `AUTH_LEEWAY_SECS` | clock-skew tolerance in seconds, at most 300 | `30` |
//! | `AUTH_INTROSPECTION_CLIENT_ID`, `AUTH_INTROSPECTION_CLIENT_SECRET` | accept opaque tokens by introspection (endpoint from discovery) | off (on in demo mode) |
//! | `AUTH_INTROSPECTION_URL` | introspection endpoint, overriding discovery | from discovery |
//! | `AUTH_INTROSPECT_ALL_TOKENS` | `1`: introspect JWTs too, so a token revoked at the issuer stops working within the cache TTL (60 s) instead of at its `exp`; one call per distinct token per TTL; needs the two client settings | `0` |
//! | `AUTH_PUBLIC_ORIGIN` | the origin clients call, e.g. `https://api.example.com`: DPoP proofs must name it, and without it DPoP is taken only from this machine | unset: scheme of this server, a loopback `Host` |
//! | `AUTH_TOKEN_COOKIE` | also read the token from this cookie (after `Authorization`) | off |
//! | `AUTH_COOKIE_ORIGINS` | comma-separated origins of front ends on sibling hosts (`https://app.example.com`) whose requests the cookie token counts for, beside the API's own | none |
//! | `REDIS_URL` | revocations and DPoP replay protection shared by every instance (`POST /sign-out`, `POST /sign-out-everywhere`); the server must not evict keys (`maxmemory-policy noeviction`), or startup stops | in memory |
//! | `METRICS_BIND` | serve Prometheus text at `/metrics` on this address, e.g. `127.0.0.1:9090` | off |
//! | `BIND` | listen address | `127.0.0.1:8080` |
//!
//! `/readyz` answers 200 once the issuer's keys (and shared revocations) are loaded and no
//! introspection endpoint refuses the API's credentials, 503 with the reason otherwise; `/livez`
//! always answers 200: the identity provider being down is no reason to restart the API.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{HttpResponse, Responder, get, post, web};
use auth_actix::core::Algorithm;
use auth_actix::testing::DpopKey;
use auth_actix::{
    Dpop, Identity, Introspection, JwtAuth, Provider, Revocations, TokenSource, Verified,
    require_role,
};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, named_by, oidc_provider, setting};
use examples::{Carrier, Demo};

#[get("/public")]
async fn public() -> impl Responder {
    "anyone can see this\n"
}

#[get("/me")]
async fn me(identity: Verified<Identity>) -> impl Responder {
    web::Json(identity)
}

#[get("/admin")]
#[require_role("admin")]
async fn admin(identity: Verified<Identity>) -> impl Responder {
    format!("hello admin {}\n", identity.subject)
}

/// Signs this token out: refused from now on, on every instance sharing `REDIS_URL`.
#[post("/sign-out")]
async fn sign_out(
    identity: Verified<Identity>,
    revocations: web::Data<Revocations>,
) -> HttpResponse {
    match revocations.revoke(identity.token()).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(err) => HttpResponse::ServiceUnavailable().body(format!("{err}\n")),
    }
}

/// Signs every token of the caller issued until now out (a stolen laptop, a changed password).
#[post("/sign-out-everywhere")]
async fn sign_out_everywhere(
    identity: Verified<Identity>,
    revocations: web::Data<Revocations>,
) -> HttpResponse {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let before = i64::try_from(now).unwrap_or(i64::MAX).saturating_add(1);
    match revocations
        .revoke_subject(&identity.issuer, &identity.subject, before)
        .await
    {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(err) => HttpResponse::ServiceUnavailable().body(format!("{err}\n")),
    }
}

/// Readiness for a load balancer: 503 until the keys (and shared revocations) are loaded.
#[get("/readyz")]
async fn readyz(auth: web::Data<JwtAuth>) -> HttpResponse {
    let readiness = auth.readiness();
    if readiness.ready {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// Liveness: the process serves requests; never tied to the identity provider.
#[get("/livez")]
async fn livez() -> &'static str {
    "ok\n"
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    // The exporter, if asked for. The order does not matter: metric handles register with the
    // recorder on their first use once it is installed.
    if let Some(address) = setting("METRICS_BIND") {
        let address: SocketAddr = address.parse().map_err(named("METRICS_BIND"))?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(address)
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    auth_actix::core::metrics::VERIFY_SECONDS.into(),
                ),
                &[
                    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1, 1.0,
                ],
            )
            .map_err(named("METRICS_BIND"))?
            .install()
            .map_err(|err| format!("METRICS_BIND={address}: {err}"))?;
    }
    let bind = address("BIND", "127.0.0.1:8080")?;

    let (provider, demo) = match oidc_provider()? {
        Some(provider) => (provider, None),
        None => {
            let demo = Demo::start("quickstart", bind).await?;
            let provider =
                demo.adopt(Provider::oidc("https://issuer.example.com").audience("my-api"));
            (provider, Some(demo))
        }
    };
    let provider = tuned(provider, demo.as_ref().map(Demo::introspection))?;
    // DPoP-bound tokens are checked with no setting; Redis shares replay protection.
    let (revocations, dpop) = match setting("REDIS_URL") {
        Some(url) => (
            Revocations::redis(&url, Duration::from_secs(5))
                .await
                .map_err(named("REDIS_URL"))?,
            Dpop::default().redis(&url),
        ),
        None => (Revocations::in_memory(), Dpop::default()),
    };
    let mut auth = JwtAuth::new(provider.clone())
        .map_err(named_by(variable))?
        .revocations(revocations.clone())
        .dpop(dpop)
        .map_err(named("REDIS_URL"))?
        .public(["/public"])
        .skip(["/readyz", "/livez"]);
    if let Some(origin) = setting("AUTH_PUBLIC_ORIGIN") {
        auth = auth
            .public_origin(&origin)
            .map_err(named("AUTH_PUBLIC_ORIGIN"))?;
    }
    // A cookie is sent with any site's requests: it counts for the API's own site, and the origins
    // listed here, only.
    let cookie = setting("AUTH_TOKEN_COOKIE");
    if let Some(name) = &cookie {
        auth = auth.token_sources([
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::cookie(name.clone()),
        ]);
    }
    if let Some(origins) = setting("AUTH_COOKIE_ORIGINS") {
        if cookie.is_none() {
            return Err(
                "AUTH_COOKIE_ORIGINS: only tokens read from a cookie are judged by \
                        origin; set AUTH_TOKEN_COOKIE to the cookie's name, or unset \
                        AUTH_COOKIE_ORIGINS"
                    .into(),
            );
        }
        auth = auth
            .cookie_origins(origins.split(',').map(str::trim))
            .map_err(named("AUTH_COOKIE_ORIGINS"))?;
    }
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up().await.map_err(named_by(variable))?;

    let app_auth = auth.clone();
    let routes = move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::Data::new(revocations.clone()))
            .app_data(web::Data::new(app_auth.clone()))
            .service(readyz)
            .service(livez)
            .service(public)
            .service(me)
            .service(admin)
            .service(sign_out)
            .service(sign_out_everywhere);
    };
    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let admin_token = || {
                demo.token_for(&provider)
                    .subject("admin-1")
                    .email("admin@example.com")
                    .roles(["admin"])
            };
            demo.print(
                &base,
                Carrier::Bearer,
                &demo
                    .token_for(&provider)
                    .subject("user-1")
                    .email("user@example.com")
                    .roles(["viewer"])
                    .sign(),
                &admin_token().sign(),
                &demo.token_for(&provider).subject("user-1").expired().sign(),
            );
            let bearer = |token: &str| Carrier::Bearer.flag(token);
            let leaving = admin_token().sign();
            println!("# an opaque admin token, accepted by introspection: /admin answers 200");
            println!("curl -i {} {base}/admin", bearer(&admin_token().opaque()));
            println!("# sign a token out (204); it is refused from then on (401 token revoked)");
            println!("curl -i -X POST {} {base}/sign-out", bearer(&leaving));
            println!("curl -i {} {base}/me", bearer(&leaving));
            // A DPoP-bound token is useless without a fresh proof by its key; this one is good
            // once, for 5 minutes.
            let key = DpopKey::generate();
            let bound = admin_token().dpop_bound(&key).sign();
            let proof = key.proof("GET", &format!("{base}/me"), &bound);
            println!("# a DPoP-bound token with a one-time proof: 200, then 401 as a replay");
            println!("curl -i -H 'Authorization: DPoP {bound}' -H 'DPoP: {proof}' {base}/me");
            println!("# the same token without its proof: 401");
            println!("curl -i {} {base}/me", bearer(&bound));
            println!();
        }
        None => println!("quickstart: listening on {base}"),
    }
    server.await?;
    Ok(())
}

/// The optional settings, applied to the configured provider or the demo's (which introspects with
/// `demo_introspection` unless told otherwise).
fn tuned(
    mut provider: Provider,
    demo_introspection: Option<Introspection>,
) -> Result<Provider, String> {
    if let Some(claim) = setting("AUTH_ROLES_CLAIM") {
        provider = provider.roles_claim(&claim);
    }
    if let Some(list) = setting("AUTH_ALGORITHMS") {
        let algorithms = list
            .split(',')
            .map(str::trim)
            .map(|name| {
                Algorithm::from_name(name).ok_or_else(|| {
                    format!(
                        "AUTH_ALGORITHMS: {name:?} is not one of {:?}",
                        Algorithm::ALL.map(Algorithm::as_str)
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        provider = provider.algorithms(algorithms);
    }
    let introspection = match (
        setting("AUTH_INTROSPECTION_CLIENT_ID"),
        setting("AUTH_INTROSPECTION_CLIENT_SECRET"),
    ) {
        (Some(id), Some(secret)) => {
            let mut introspection = Introspection::client_secret_basic(id, secret);
            if let Some(url) = setting("AUTH_INTROSPECTION_URL") {
                introspection = introspection.endpoint(url);
            }
            Some(introspection)
        }
        (None, None) => demo_introspection,
        _ => {
            return Err(
                "AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET go \
                        together: set both to accept opaque tokens, or neither"
                    .to_owned(),
            );
        }
    };
    let all_tokens = match setting("AUTH_INTROSPECT_ALL_TOKENS").as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(format!(
                "AUTH_INTROSPECT_ALL_TOKENS={other:?}: write 1 to introspect JWTs too, or 0"
            ));
        }
    };
    match (introspection, all_tokens) {
        (Some(introspection), true) => {
            provider = provider.introspection(introspection.all_tokens());
        }
        (Some(introspection), false) => provider = provider.introspection(introspection),
        (None, true) => {
            return Err(
                "AUTH_INTROSPECT_ALL_TOKENS=1 asks the issuer about every token, as this API's \
                 client: set AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET \
                 to the client the issuer lets introspect"
                    .to_owned(),
            );
        }
        (None, false) => {}
    }
    if let Some(seconds) = setting("AUTH_LEEWAY_SECS") {
        let seconds: u64 = seconds
            .parse()
            .map_err(|err| format!("AUTH_LEEWAY_SECS={seconds:?}: {err}"))?;
        provider = provider.leeway(Duration::from_secs(seconds));
    }
    Ok(provider)
}

/// The variable that sets what a refused setting is about.
fn variable(setting: &str) -> &'static str {
    match setting.rsplit(": ").next().unwrap_or_default() {
        "leeway" => "AUTH_LEEWAY_SECS",
        "algorithms" => "AUTH_ALGORITHMS",
        "audience" => "AUTH_AUDIENCE",
        setting if setting.starts_with("claim path") => "AUTH_ROLES_CLAIM",
        "keys URL" => "AUTH_JWKS_URL",
        "introspection endpoint" | "Introspection::endpoint" => "AUTH_INTROSPECTION_URL",
        "introspection" => "AUTH_INTROSPECTION_CLIENT_ID",
        "Introspection::all_tokens" => "AUTH_INTROSPECT_ALL_TOKENS",
        // warm_up refuses a Redis that may evict proofs or revocations.
        "Dpop::redis" | "Revocations::redis" => "REDIS_URL",
        setting if setting.starts_with("Introspection::client_secret") => {
            "AUTH_INTROSPECTION_CLIENT_ID, AUTH_INTROSPECTION_CLIENT_SECRET"
        }
        _ => "AUTH_ISSUER",
    }
}
