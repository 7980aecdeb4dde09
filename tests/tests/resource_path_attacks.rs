//! Attacks on the request-path rule of issue 34's resource check (round 3): `check_resource` is
//! given the resource that `owning` finds for `HttpRequest::path()`, the raw request path, while
//! actix's router matches the percent-decoded path (and `NormalizePath` may rewrite the path after
//! `JwtAuth` ran). A path the router gives to one resource's handler but `owning` gives to no
//! resource, or to another one, decides the token against the wrong resource. Each test is named
//! after the attack and fails while it succeeds.

use actix_web::http::StatusCode;
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{App, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Verified};
use auth_core::Provider;

use tests::{get_bearer, send};

fn bound(issuer: &TestIssuer, resources: &[&str]) -> Provider {
    resources.iter().fold(
        Provider::oidc(issuer.issuer()).key_settings(TestIssuer::fast_key_settings()),
        |provider, resource| provider.resource(resource),
    )
}

fn me() -> actix_web::Route {
    web::get().to(|id: Verified<Identity>| async move { format!("handler saw {}", id.subject) })
}

/// Round 1's `a_token_of_a_provider_without_the_resource_is_refused_at_the_resource`, with one
/// letter of the path percent-encoded: `/%6Dcp/me`. actix's router decodes `%6D` (its default
/// quoter keeps only `%`, `/` and `+` encoded) and runs the `/mcp/me` handler; `owning` compares
/// the raw path, finds no resource, and the legacy provider (no resources) is accepted "as
/// today". Expected 401 as on `/mcp/me`; observed 200 from the MCP resource's handler.
#[actix_web::test]
async fn a_percent_encoded_resource_path_admits_a_token_of_a_provider_without_the_resource() {
    let resource_issuer = TestIssuer::start().await;
    let legacy_issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let legacy = legacy_issuer
        .provider()
        .key_settings(TestIssuer::fast_key_settings());
    let auth = JwtAuth::any_of([bound(&resource_issuer, &[mcp]), legacy]).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/mcp/me", me())
            .route("/legacy/me", me()),
    )
    .await;
    let token = legacy_issuer.token().subject("mallory").sign();
    let plain = get_bearer(&app, "/mcp/me", &token).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED, "{}", plain.body);
    for path in ["/%6Dcp/me", "/%6dcp/me", "/m%63p/me"] {
        let encoded = get_bearer(&app, path, &token).await;
        assert_eq!(
            encoded.status,
            StatusCode::UNAUTHORIZED,
            "{path}: a token of the provider without {mcp} reached that resource's handler: {}",
            encoded.body
        );
    }
}

/// A server whose origin is one resource and `/admin` another (RFC 8707 lets a client ask for
/// either). A token minted for the origin resource is sent to `/%61dmin/me`: the router runs the
/// `/admin/me` handler, `owning` gives the raw path to the origin resource, and the token passes
/// as one for the origin. Expected 401 as on `/admin/me`; observed 200.
#[actix_web::test]
async fn a_percent_encoded_sub_resource_path_is_decided_as_the_origin_resource() {
    let issuer = TestIssuer::start().await;
    let origin = "https://api.example.com";
    let admin = "https://api.example.com/admin";
    let auth = JwtAuth::new(bound(&issuer, &[origin, admin])).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/admin/me", me())
            .route("/me", me()),
    )
    .await;
    let for_origin = issuer.token().subject("mallory").audience(origin).sign();
    let own = get_bearer(&app, "/me", &for_origin).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let plain = get_bearer(&app, "/admin/me", &for_origin).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED, "{}", plain.body);
    let encoded = get_bearer(&app, "/%61dmin/me", &for_origin).await;
    assert_eq!(
        encoded.status,
        StatusCode::UNAUTHORIZED,
        "a token whose aud is {origin} reached the {admin} resource's handler: {}",
        encoded.body
    );
}

/// `NormalizePath` registered inside `JwtAuth` (`.wrap(NormalizePath::trim()).wrap(auth)`: the
/// last `wrap` runs first). `JwtAuth` decides `//mcp/me`, which `owning` gives to no resource, so
/// the legacy provider's token passes; `NormalizePath` then rewrites the path to `/mcp/me` and the
/// MCP resource's handler runs. The checklist's rule: a layer installed in the "wrong" order must
/// not change behaviour. Expected 401; observed 200.
#[actix_web::test]
async fn a_doubled_slash_escapes_the_resource_when_normalize_path_runs_inside_jwt_auth() {
    let resource_issuer = TestIssuer::start().await;
    let legacy_issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let legacy = legacy_issuer
        .provider()
        .key_settings(TestIssuer::fast_key_settings());
    let auth = JwtAuth::any_of([bound(&resource_issuer, &[mcp]), legacy]).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(auth)
            .route("/mcp/me", me())
            .route("/legacy/me", me()),
    )
    .await;
    let token = legacy_issuer.token().subject("mallory").sign();
    let plain = get_bearer(&app, "/mcp/me", &token).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED, "{}", plain.body);
    for path in ["//mcp/me", "//mcp//me/"] {
        let doubled = get_bearer(&app, path, &token).await;
        assert_eq!(
            doubled.status,
            StatusCode::UNAUTHORIZED,
            "{path}: a token of the provider without {mcp} reached that resource's handler: {}",
            doubled.body
        );
    }
}

/// The fix's other side: a legitimate percent-encoded path (`/mcp/files/my%20doc`, decoded
/// `/mcp/files/my doc`) belongs to the MCP resource in both forms, so the resource's own token
/// passes with one check, and a token for another resource is still refused there.
#[actix_web::test]
async fn a_legitimate_encoded_path_passes_with_the_resources_own_token() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let admin = "https://api.example.com/admin";
    let auth = JwtAuth::new(bound(&issuer, &[mcp, admin])).unwrap();
    let app = test::init_service(App::new().wrap(auth).route(
        "/mcp/files/{name}",
        web::get().to(|name: web::Path<String>| async move { format!("file {name}") }),
    ))
    .await;
    let own = issuer.token().subject("alice").audience(mcp).sign();
    let response = get_bearer(&app, "/mcp/files/my%20doc", &own).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body, "file my doc");
    let other = issuer.token().subject("alice").audience(admin).sign();
    let response = get_bearer(&app, "/mcp/files/my%20doc", &other).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
}

/// One binary serving two hosts' MCP endpoints (per-customer host names), one provider:
/// `https://a.example.com/mcp` and `https://b.example.com/mcp`. `owning` looks at the path only,
/// and of two equally long matches keeps the last, so every `/mcp` request is decided as
/// `b.example.com`'s: a token minted for b is accepted at a (and a's own token is refused there).
/// Expected: b's token refused at `a.example.com` (or such a configuration refused at startup,
/// since the path cannot tell the resources apart); observed 200.
#[actix_web::test]
async fn two_resources_with_one_path_on_two_hosts_accept_each_others_tokens() {
    let issuer = TestIssuer::start().await;
    let a = "https://a.example.com/mcp";
    let b = "https://b.example.com/mcp";
    let Ok(auth) = JwtAuth::new(bound(&issuer, &[a, b])) else {
        return; // Refused at startup: the attack is closed.
    };
    let app = test::init_service(App::new().wrap(auth).route("/mcp/me", me())).await;
    let for_b = issuer.token().subject("mallory").audience(b).sign();
    let at_a = send(
        &app,
        test::TestRequest::get()
            .uri("/mcp/me")
            .insert_header(("host", "a.example.com"))
            .bearer(&for_b),
    )
    .await;
    assert_eq!(
        at_a.status,
        StatusCode::UNAUTHORIZED,
        "a token whose aud is {b} was accepted by {a}: {}",
        at_a.body
    );
}

/// The registry bound of round 1 counts names, not bytes. An application that builds an
/// `Authorize` from request data (the case the bound is for; here a tool name from the body) is
/// sent one scope-token of 256 KiB, which `is_challenge_value` accepts (it has no length limit).
/// It is kept for the life of the process and published: every later 401 at any resource of any
/// `JwtAuth` without `scopes_supported` carries it in `WWW-Authenticate` (once per scheme), and
/// the metadata lists it. 1,024 such names hold a quarter of a gigabyte and put it in every
/// challenge. Expected: a name beyond a sane length is not registered (or is refused), so
/// challenges stay small; observed: 512 KiB of challenges on an unrelated request.
#[actix_web::test]
async fn a_huge_scope_built_from_request_data_swells_every_later_challenge() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let auth = JwtAuth::new(bound(&issuer, &[mcp])).unwrap();
    let app = test::init_service(App::new().wrap(auth).route("/mcp/me", me()).route(
        "/mcp/tool",
        web::post().to(|name: String| async move {
            // An application's scope guard named after the tool the client calls
            // (registered when built, whatever the application then does with it). The fix
            // refuses a name over 256 bytes with a panic (names are configuration), which the
            // application here turns into a 500 rather than a failed test.
            let built = std::panic::catch_unwind(|| {
                auth_actix::Authorize::any_scope([format!("tool:{name}")])
            });
            match built {
                Ok(_guard) => actix_web::HttpResponse::Ok().finish(),
                Err(_) => actix_web::HttpResponse::InternalServerError().finish(),
            }
        }),
    ))
    .await;
    let token = issuer.token().subject("mallory").audience(mcp).sign();
    let name = "a".repeat(256 * 1024);
    let _ = send(
        &app,
        test::TestRequest::post()
            .uri("/mcp/tool")
            .bearer(&token)
            .set_payload(name),
    )
    .await;
    let later = send(&app, test::TestRequest::get().uri("/mcp/me")).await;
    assert_eq!(later.status, StatusCode::UNAUTHORIZED, "{}", later.body);
    let header_bytes: usize = later
        .headers
        .get_all("www-authenticate")
        .map(|value| value.len())
        .sum();
    assert!(
        header_bytes < 8 * 1024,
        "an unauthenticated request's challenges hold {header_bytes} bytes: a client-chosen \
         scope name stays in the process-wide registry and in every challenge"
    );
}
