//! OpenAPI from the guards, the token sources and the providers: a scheme per token source, the
//! providers' sign-in schemes (from presets or a discovery document), requirements on guarded
//! operations only, enum roles by name, Swagger UI's sign-in settings, and the document validates
//! as OpenAPI 3.1 with a real validator (Python's `openapi-spec-validator`, installed by
//! `.ci/run`).

use actix_web::{HttpResponse, get};
use auth_actix::openapi::{SecurityDocs, SwaggerOAuth};
use auth_actix::testing::TestIssuer;
use auth_actix::{JwtAuth, Provider, Role, TokenSource, require_role, require_scope};
use serde_json::{Value, json};
use utoipa::OpenApi;

#[derive(Role)]
enum AppRole {
    Owner,
    #[role("admin")]
    Administrator,
}

/// Public.
#[utoipa::path(get, path = "/public", responses((status = 200, description = "ok")))]
#[get("/public")]
async fn public() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Any of two roles.
#[require_role(any(AppRole::Owner, AppRole::Administrator))]
#[utoipa::path(get, path = "/settings", responses((status = 200, description = "ok"),))]
#[get("/settings")]
async fn settings() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Both roles.
#[require_role(all("editor", "verified"))]
#[utoipa::path(get, path = "/edit", responses((status = 200, description = "ok")))]
#[get("/edit")]
async fn edit() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// A scope.
#[require_scope("read:items")]
#[utoipa::path(get, path = "/items", responses((status = 200, description = "ok")))]
#[get("/items")]
async fn items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Security written by hand stays as written.
#[require_role("admin")]
#[utoipa::path(
    get,
    path = "/custom",
    responses((status = 200, description = "ok")),
    security(("bearer" = ["custom"]))
)]
#[get("/custom")]
async fn custom() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[derive(OpenApi)]
#[openapi(paths(public, settings, edit, items, custom))]
struct ApiDoc;

fn document(auth: &JwtAuth) -> Value {
    let spec = SecurityDocs::new(auth)
        .role_enum::<AppRole>()
        .apply(ApiDoc::openapi());
    serde_json::to_value(&spec).unwrap()
}

fn security(doc: &Value, path: &str) -> Value {
    doc["paths"][path]["get"]["security"].clone()
}

fn scheme_names(doc: &Value) -> Vec<String> {
    doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Validates with Python's openapi-spec-validator; CI installs it, elsewhere the check is skipped
/// loudly.
fn validate(doc: &Value) {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install openapi-spec-validator (see .ci/run)"
        );
        eprintln!("skipping OpenAPI validation: pip install openapi-spec-validator");
        return;
    }
    let file = std::env::temp_dir().join(format!(
        "openapi-{}-{}.json",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&file, doc.to_string()).unwrap();
    let script = "import json, sys\nfrom openapi_spec_validator import validate\nfrom \
                  openapi_spec_validator.validation import \
                  OpenAPIV31SpecValidator\nvalidate(json.load(open(sys.argv[1])), \
                  cls=OpenAPIV31SpecValidator)\nprint('valid')";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "not valid OpenAPI 3.1: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[actix_web::test]
async fn oidc_issuer_gets_bearer_and_openid_connect_and_guards_become_requirements() {
    let issuer = TestIssuer::start().await;
    let doc = document(&JwtAuth::new(issuer.provider()).unwrap());
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(scheme_names(&doc), ["bearer", "openid_connect"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["openid_connect"]["openIdConnectUrl"],
        format!("{}/.well-known/openid-configuration", issuer.issuer())
    );
    assert!(
        doc["paths"]["/public"]["get"].get("security").is_none(),
        "public operations stay unmarked"
    );
    assert_eq!(
        security(&doc, "/settings"),
        json!([{"bearer": ["owner"]}, {"bearer": ["admin"]}, {"openid_connect": []}]),
        "any(...) is one alternative per role; enum roles by their names"
    );
    assert_eq!(
        security(&doc, "/edit"),
        json!([{"bearer": ["editor", "verified"]}, {"openid_connect": []}])
    );
    assert_eq!(
        security(&doc, "/items"),
        json!([{"bearer": ["read:items"]}, {"openid_connect": ["read:items"]}])
    );
    assert_eq!(
        security(&doc, "/custom"),
        json!([{"bearer": ["custom"]}, {"openid_connect": []}])
    );
    validate(&doc);
}

#[actix_web::test]
async fn providers_with_oauth_endpoints_get_an_authorization_code_scheme() {
    for provider in [
        Provider::keycloak("https://sso.example.com", "demo", "api"),
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111"),
        Provider::auth0("acme.eu.auth0.com", "https://api.example.com"),
        Provider::entra(
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "6e74172b-be56-4843-9ff4-e66a39bb12e3",
        ),
        Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default"),
    ] {
        let doc = document(&JwtAuth::new(provider).unwrap());
        assert_eq!(scheme_names(&doc), ["bearer", "oauth2", "openid_connect"]);
        let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
        assert!(
            flow["authorizationUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://"),
            "{flow}"
        );
        assert!(
            flow["tokenUrl"].as_str().unwrap().starts_with("https://"),
            "{flow}"
        );
        assert_eq!(
            security(&doc, "/items"),
            json!([
                {"bearer": ["read:items"]},
                {"oauth2": ["read:items"]},
                {"openid_connect": ["read:items"]}
            ])
        );
        validate(&doc);
    }
    let cognito = document(
        &JwtAuth::new(Provider::cognito(
            "eu-west-1",
            "eu-west-1_AbCdEf123",
            "client",
        ))
        .unwrap(),
    );
    assert_eq!(
        scheme_names(&cognito),
        ["bearer", "openid_connect"],
        "Cognito's hosted UI domain is not derivable"
    );
}

#[actix_web::test]
async fn cloudflare_access_gets_its_header_and_cookie_and_no_bearer_scheme() {
    let doc = document(
        &JwtAuth::new(Provider::cloudflare_access(
            "https://team.cloudflareaccess.com",
            &"a".repeat(64),
        ))
        .unwrap(),
    );
    assert_eq!(
        scheme_names(&doc),
        ["token_cookie", "token_header"],
        "Access tokens are read from its header and cookie, never Authorization: Bearer"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token_header"],
        json!({
            "type": "apiKey",
            "in": "header",
            "name": "Cf-Access-Jwt-Assertion",
            "description": "The bare token in the Cf-Access-Jwt-Assertion header"
        })
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token_cookie"]["name"],
        "CF_Authorization"
    );
    assert_eq!(
        security(&doc, "/edit"),
        json!([{"token_header": ["editor", "verified"]}, {"token_cookie": ["editor", "verified"]}])
    );
    validate(&doc);
}

#[actix_web::test]
async fn the_schemes_follow_the_configured_token_sources() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .token_sources([TokenSource::cookie("session")]);
    let doc = document(&auth);
    assert_eq!(
        scheme_names(&doc),
        ["token_cookie"],
        "no bearer, OAuth 2.0 or OpenID Connect scheme: a token sent as a bearer token is not read"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token_cookie"],
        json!({
            "type": "apiKey",
            "in": "cookie",
            "name": "session",
            "description": "The bare token in the session cookie; it counts for same-site \
                            requests only"
        })
    );
    assert_eq!(
        security(&doc, "/edit"),
        json!([{"token_cookie": ["editor", "verified"]}])
    );
    assert_eq!(
        security(&doc, "/items"),
        json!([{"token_cookie": ["read:items"]}])
    );
    validate(&doc);
    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
    let refused = SwaggerOAuth::from_openapi(&spec, "api-docs").unwrap_err();
    assert!(
        refused.problem.contains("Authorization: Bearer"),
        "{refused}"
    );

    let several = JwtAuth::new(issuer.provider()).unwrap().token_sources([
        TokenSource::cookie("a"),
        TokenSource::header("X-Token"),
        TokenSource::Bearer,
        TokenSource::cookie("b"),
    ]);
    let doc = document(&several);
    assert_eq!(
        scheme_names(&doc),
        [
            "bearer",
            "openid_connect",
            "token_cookie",
            "token_cookie_2",
            "token_header"
        ]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token_cookie_2"]["name"],
        "b"
    );
    assert_eq!(
        security(&doc, "/custom"),
        json!([
            {"token_header": ["custom"]},
            {"bearer": ["custom"]},
            {"token_cookie": ["custom"]},
            {"token_cookie_2": ["custom"]},
            {"openid_connect": []}
        ]),
        "headers first, then cookies, as the middleware looks"
    );
    validate(&doc);
}

#[actix_web::test]
async fn a_generic_issuer_gets_the_sign_in_endpoints_its_discovery_names() {
    if !tests::oidc_provider::available("a_generic_issuer_gets_the_sign_in_endpoints") {
        return;
    }
    let provider = tests::oidc_provider::OidcProvider::start(json!({
        "resources": [{ "indicator": "https://items.example.com", "scope": "read:items" }]
    }))
    .await;
    let auth =
        JwtAuth::new(Provider::oidc(provider.issuer()).audience("https://items.example.com"))
            .unwrap();
    let before = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
    let refused = SwaggerOAuth::from_openapi(&before, "api-docs").unwrap_err();
    assert!(refused.problem.contains("JwtAuth::warm_up"), "{refused}");

    auth.warm_up().await.unwrap();
    let doc = document(&auth);
    assert_eq!(scheme_names(&doc), ["bearer", "oauth2", "openid_connect"]);
    let url = format!("{}/.well-known/openid-configuration", provider.issuer());
    let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    let discovery: Value = serde_json::from_slice(&body).unwrap();
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(
        flow["authorizationUrl"],
        discovery["authorization_endpoint"]
    );
    assert_eq!(flow["tokenUrl"], discovery["token_endpoint"]);
    validate(&doc);

    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
    let sign_in = SwaggerOAuth::from_openapi(&spec, "api-docs").unwrap();
    assert_eq!(
        sign_in.authorization_url(),
        discovery["authorization_endpoint"]
    );
    assert_eq!(sign_in.token_url(), discovery["token_endpoint"]);
    assert_eq!(sign_in.scopes(), ["openid", "read:items"]);
}

#[actix_web::test]
async fn an_issuer_whose_discovery_names_no_sign_in_gets_no_authorization_code_scheme() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    auth.warm_up().await.unwrap();
    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
    let doc = serde_json::to_value(&spec).unwrap();
    assert_eq!(scheme_names(&doc), ["bearer", "openid_connect"]);
    let refused = SwaggerOAuth::from_openapi(&spec, "api-docs").unwrap_err();
    assert_eq!(refused.setting, "SwaggerOAuth");
    assert!(refused.problem.contains("authorization code"), "{refused}");
}

#[actix_web::test]
async fn swagger_ui_signs_in_with_pkce_asking_for_openid_and_the_guards_scopes() {
    let auth = JwtAuth::new(Provider::keycloak("https://sso.example.com", "demo", "api")).unwrap();
    let spec = SecurityDocs::new(&auth)
        .role_enum::<AppRole>()
        .apply(ApiDoc::openapi());
    let doc = serde_json::to_value(&spec).unwrap();
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(
        flow["scopes"],
        json!({"openid": "Sign in", "read:items": "Asked for by a guarded operation"}),
        "openid and the scope guards' scopes; role names are not scopes"
    );
    let sign_in = SwaggerOAuth::from_openapi(&spec, " api-docs ").unwrap();
    assert_eq!(
        serde_json::to_value(&sign_in).unwrap(),
        json!({
            "clientId": "api-docs",
            "scopes": ["openid", "read:items"],
            "usePkceWithAuthorizationCodeGrant": true
        })
    );
    assert_eq!(sign_in.authorization_url(), flow["authorizationUrl"]);
    assert_eq!(sign_in.token_url(), flow["tokenUrl"]);
    assert!(sign_in.use_pkce());

    let chosen = sign_in
        .clone()
        .with_scopes(["openid", "api://app/read"])
        .unwrap()
        .with_authorization_param("audience", "https://api.example.com");
    assert_eq!(
        serde_json::to_value(&chosen).unwrap(),
        json!({
            "clientId": "api-docs",
            "scopes": ["openid", "api://app/read"],
            "usePkceWithAuthorizationCodeGrant": true,
            "additionalQueryStringParams": {"audience": "https://api.example.com"}
        })
    );
    for bad in [vec![], vec!["read items"], vec![""], vec!["a\"\"b"]] {
        let refused = sign_in.clone().with_scopes(bad.clone()).unwrap_err();
        assert_eq!(refused.setting, "SwaggerOAuth::with_scopes", "{bad:?}");
    }
    for bad in ["", "  ", "api\ndocs"] {
        let refused = SwaggerOAuth::from_openapi(&spec, bad).unwrap_err();
        assert_eq!(refused.setting, "SwaggerOAuth client_id", "{bad:?}");
    }
    let bare = SwaggerOAuth::from_openapi(&ApiDoc::openapi(), "api-docs").unwrap_err();
    assert!(bare.problem.contains("apply SecurityDocs"), "{bare}");
}
