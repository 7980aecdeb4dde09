//! OpenAPI from the guards and the providers: security schemes per provider, requirements on
//! guarded operations only, enum roles by name, and the document validates as OpenAPI 3.1 with a
//! real validator (Python's `openapi-spec-validator`, installed by `.ci/run`).

use actix_web::{HttpResponse, get};
use auth_actix::openapi::SecurityDocs;
use auth_actix::testing::TestIssuer;
use auth_actix::{JwtAuth, Provider, Role, require_role, require_scope};
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
async fn cloudflare_access_gets_an_api_key_header_scheme() {
    let doc = document(
        &JwtAuth::new(Provider::cloudflare_access(
            "https://team.cloudflareaccess.com",
            &"a".repeat(64),
        ))
        .unwrap(),
    );
    assert_eq!(scheme_names(&doc), ["bearer", "token_header"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["token_header"],
        json!({
            "type": "apiKey",
            "in": "header",
            "name": "Cf-Access-Jwt-Assertion",
            "description": "The bare token, as the proxy forwards it"
        })
    );
    assert_eq!(
        security(&doc, "/edit"),
        json!([{"bearer": ["editor", "verified"]}, {"token_header": ["editor", "verified"]}])
    );
    validate(&doc);
}
