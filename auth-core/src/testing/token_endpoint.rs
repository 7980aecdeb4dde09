//! The test issuer as an OAuth authorization server for machine clients: its RFC 8414 metadata and
//! a token endpoint for the client credentials grant (RFC 6749 §4.4), issuing RFC 9068 access
//! tokens for the resources it was told about (RFC 8707). Enough for a real client, such as the
//! MCP SDK's `ClientCredentialsProvider`, to discover it and obtain tokens offline. Test-only: its
//! one client's secret is public.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::json_reply::reply;
use super::mint::Mint;
use super::token_builder::TokenBuilder;

/// Where RFC 8414 §3 puts the metadata: this, followed by the issuer's path (§3.1).
pub(super) const METADATA_PREFIX: &str = "/.well-known/oauth-authorization-server";

/// The token endpoint, under any prefix.
pub(super) const TOKEN_SUFFIX: &str = "/token";

/// The authorization endpoint, under any prefix: it refuses every request (see
/// [`authorize`]).
pub(super) const AUTHORIZE_SUFFIX: &str = "/authorize";

/// The one client of the token endpoint: `client_secret_basic` or `client_secret_post`.
pub(super) const DEMO_CLIENT: (&str, &str) = ("demo-client", "demo-secret");

/// Lifetime of the tokens the endpoint issues, in seconds.
const LIFETIME: u64 = 3600;

/// Largest form the token endpoint reads; a token request is a few hundred bytes.
const MAX_FORM: usize = 16 * 1024;

/// What the token endpoint needs of the issuer it answers for, beyond minting: the issuer
/// implements it, so the endpoint knows nothing else of the server.
pub(super) trait Issuer: Mint {
    /// Counts a request to the token endpoint (`TestIssuer::token_requests`).
    fn count_token_request(&self);
    /// How long to wait before answering, and whether the issuer is down.
    fn delay_and_outage(&self) -> (Duration, bool);
    /// The scopes registered for `resource` (RFC 8707), or `None` for a resource the issuer does
    /// not issue tokens for.
    fn resource_scopes(&self, resource: &str) -> Option<Vec<String>>;
}

/// The RFC 8414 document for the issuer `<origin><prefix>`, listing `scopes` (those of every
/// resource the issuer was told about).
pub(super) fn metadata<'a>(
    origin: &str,
    prefix: &str,
    scopes: impl IntoIterator<Item = &'a str>,
) -> String {
    let own = format!("{origin}{prefix}");
    let scopes: BTreeSet<&str> = scopes.into_iter().collect();
    let mut document = json!({
        "issuer": own,
        // RFC 8414 §2 lets a server that takes no grant through it leave this out, but the MCP
        // SDK's schema requires one: it exists and refuses every request.
        "authorization_endpoint": format!("{own}{AUTHORIZE_SUFFIX}"),
        "token_endpoint": format!("{own}{TOKEN_SUFFIX}"),
        "jwks_uri": format!("{own}/jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
        "introspection_endpoint": format!("{own}/introspect"),
    });
    if !scopes.is_empty() {
        document["scopes_supported"] = json!(scopes);
    }
    document.to_string()
}

/// An OAuth error answer (RFC 6749 §5.2).
fn refuse(status: StatusCode, error: &str, description: &str) -> Response<Full<Bytes>> {
    let body = json!({ "error": error, "error_description": description });
    let mut response = reply(status, None, body.to_string());
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6749 §5.2: a 401 for invalid_client names the scheme the client may use.
        headers.insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static(r#"Basic realm="test-issuer""#),
        );
    }
    response
}

/// The authorization endpoint: no one signs in here, so every request is refused (RFC 6749
/// §4.1.2.1: with no registered redirection URI, the error is shown, not redirected).
pub(super) fn authorize() -> Response<Full<Bytes>> {
    refuse(
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
        "this test issuer signs no one in: use the client credentials grant at the token endpoint",
    )
}

/// The token endpoint: the client credentials grant for the demo client, for one resource the
/// issuer was told about (or none: the issuer's own audience, without scopes), with scopes that
/// resource has.
pub(super) async fn token(
    issuer: &impl Issuer,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    issuer.count_token_request();
    if request.method() != Method::POST {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "the token endpoint takes POST",
        );
        response.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return response;
    }
    let (delay, outage) = issuer.delay_and_outage();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if outage {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "issuer unavailable".into(),
        );
    }
    let authorization = request
        .headers()
        .get_all(hyper::header::AUTHORIZATION)
        .iter()
        .map(|value| value.to_str().map(str::to_owned))
        .collect::<Result<Vec<_>, _>>();
    let body = Limited::new(request.into_body(), MAX_FORM).collect().await;
    let (Ok(authorization), Ok(body)) = (authorization, body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "unreadable request",
        );
    };
    match grant(issuer, &authorization, &body.to_bytes()) {
        Ok(answer) => {
            let mut response = reply(StatusCode::OK, None, answer.to_string());
            // RFC 6749 §5.1: a token answer is never cached.
            response.headers_mut().insert(
                hyper::header::CACHE_CONTROL,
                hyper::header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err((status, error, description)) => refuse(status, error, &description),
    }
}

/// A refusal: status, RFC 6749 §5.2 error code, description.
type Refusal = (StatusCode, &'static str, String);

/// Checks the request in RFC 6749's order of concerns (form, client, grant, RFC 8707 target,
/// scope) and mints the token.
fn grant(issuer: &impl Issuer, authorization: &[String], body: &[u8]) -> Result<Value, Refusal> {
    let bad =
        |error, description: &str| Err((StatusCode::BAD_REQUEST, error, description.to_owned()));
    let mut form: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        form.entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    // RFC 6749 §3.2: parameters are not repeated. RFC 8707 §2 lets `resource` be, handled below.
    if let Some((name, _)) = form
        .iter()
        .find(|(name, values)| values.len() > 1 && *name != "resource")
    {
        return bad("invalid_request", &format!("{name} is repeated"));
    }
    let one = |name: &str| {
        form.get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    };

    let client = authenticate(authorization, one("client_id"), one("client_secret"))?;

    match one("grant_type") {
        None => return bad("invalid_request", "grant_type is missing"),
        Some("client_credentials") => {}
        Some(_) => {
            return bad(
                "unsupported_grant_type",
                "this test issuer grants client_credentials only",
            );
        }
    }

    let resources: &[String] = form.get("resource").map_or(&[], Vec::as_slice);
    let (audience, allowed): (String, BTreeSet<String>) = match resources {
        // The issuer's own audience has no scopes registered: a scope registered for a
        // resource is never minted for another audience (threats §3).
        [] => (issuer.audience().to_owned(), BTreeSet::new()),
        // RFC 8707 §2: a resource the server does not know is `invalid_target`. Compared as
        // the client sent it: the resource's identifier is an exact string.
        [resource] => match issuer.resource_scopes(resource) {
            Some(scopes) => (resource.clone(), scopes.into_iter().collect()),
            None => {
                return bad(
                    "invalid_target",
                    "the resource is not one this issuer issues tokens for",
                );
            }
        },
        _ => return bad("invalid_target", "one resource per token"),
    };

    let mut scopes: Vec<&str> = Vec::new();
    if let Some(requested) = one("scope") {
        // RFC 6749 §3.3: scope tokens separated by single spaces.
        for scope in requested.split(' ') {
            if !allowed.contains(scope) {
                return bad(
                    "invalid_scope",
                    "a scope is unknown or not one the client may have for this resource",
                );
            }
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
    }

    let mut builder = TokenBuilder::new(issuer)
        .subject(client)
        .claim("client_id", client)
        .audience(audience)
        .expires_in(std::time::Duration::from_secs(LIFETIME))
        // RFC 9068 §2.1: an access token says so in its header.
        .header("typ", "at+jwt");
    if !scopes.is_empty() {
        builder = builder.scopes(scopes.iter().copied());
    }
    let mut answer = json!({
        "access_token": builder.sign(),
        "token_type": "Bearer",
        "expires_in": LIFETIME,
    });
    if !scopes.is_empty() {
        answer["scope"] = scopes.join(" ").into();
    }
    Ok(answer)
}

/// The demo client, by `client_secret_basic` (RFC 6749 §2.3.1: id and secret form-encoded, then
/// Basic) or `client_secret_post`; never both at once.
fn authenticate<'a>(
    authorization: &[String],
    form_id: Option<&'a str>,
    form_secret: Option<&'a str>,
) -> Result<&'static str, Refusal> {
    let invalid = || {
        Err((
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed".to_owned(),
        ))
    };
    let basic = match authorization {
        [] => None,
        [value] => match value.split_once(' ') {
            Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("basic") => {
                Some(credentials.trim())
            }
            _ => return invalid(),
        },
        _ => return invalid(),
    };
    let (id, secret) = match (basic, form_id, form_secret) {
        // A client may name itself in the form beside its Basic credentials.
        (Some(credentials), _, None) => {
            let Some(decoded) = base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
            else {
                return invalid();
            };
            let Some((id, secret)) = decoded.split_once(':') else {
                return invalid();
            };
            // Form-decoding as a value: a raw `&` (an id or secret the client did not encode)
            // cuts it short, and the credentials then fail to match, as they should.
            let decode = |part: &str| {
                url::form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default()
            };
            let (id, secret) = (decode(id), decode(secret));
            if form_id.is_some_and(|form_id| form_id != id) {
                return invalid();
            }
            (id, secret)
        }
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        // RFC 6749 §2.3: one authentication method per request.
        (Some(_), _, Some(_)) => {
            return Err((
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "more than one client authentication method".to_owned(),
            ));
        }
        _ => return invalid(),
    };
    let (demo_id, demo_secret) = DEMO_CLIENT;
    if id == demo_id && secret == demo_secret {
        Ok(demo_id)
    } else {
        invalid()
    }
}

#[cfg(test)]
mod tests {
    use super::super::TestIssuer;
    use crate::token::claims::StandardClaims;
    use crate::{Provider, Verifier};
    use serde_json::{Value, json};

    const RESOURCE: &str = "http://127.0.0.1:9/mcp";

    /// Posts `form` to the token endpoint with `basic` credentials, if any: status, the
    /// `WWW-Authenticate` and `Cache-Control` headers, the JSON answer.
    async fn post(
        issuer: &TestIssuer,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, Option<String>, Option<String>, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = reqwest::Client::new()
            .post(issuer.token_endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value: &reqwest::header::HeaderValue| value.to_str().unwrap().to_owned())
        };
        let (authenticate, cache) = (header("www-authenticate"), header("cache-control"));
        let status = response.status().as_u16();
        (status, authenticate, cache, json(response).await)
    }

    async fn json(response: reqwest::Response) -> Value {
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }

    /// A JWT's header (0) or payload (1).
    fn part_of(token: &str, n: usize) -> Value {
        use base64::Engine;
        let part = token.split('.').nth(n).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    async fn started() -> TestIssuer {
        let issuer = TestIssuer::start().await;
        issuer.add_resource(RESOURCE, ["mcp:tools", "mcp:admin"]);
        issuer.add_resource("http://127.0.0.1:9/other", ["other:read"]);
        issuer
    }

    /// The RFC 8414 document, at the root and with the issuer's path inserted (§3.1).
    #[tokio::test]
    async fn metadata_describes_a_client_credentials_server() {
        let issuer = started().await;
        let own = issuer.issuer();
        let url = format!("{own}/.well-known/oauth-authorization-server");
        let document = json(reqwest::get(&url).await.unwrap()).await;
        assert_eq!(
            document,
            json!({
                "issuer": own,
                "authorization_endpoint": format!("{own}/authorize"),
                "token_endpoint": format!("{own}/token"),
                "jwks_uri": format!("{own}/jwks"),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported":
                    ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["mcp:admin", "mcp:tools", "other:read"],
                "response_types_supported": [],
                "introspection_endpoint": format!("{own}/introspect"),
            })
        );
        let under_path = json(reqwest::get(format!("{url}/realms/demo")).await.unwrap()).await;
        assert_eq!(under_path["issuer"], format!("{own}/realms/demo"));
        assert_eq!(
            under_path["token_endpoint"],
            format!("{own}/realms/demo/token")
        );
        // The OIDC discovery document stays.
        let oidc = reqwest::get(format!("{own}/.well-known/openid-configuration"))
            .await
            .unwrap();
        assert_eq!(oidc.status(), 200);
        let authorize = reqwest::get(format!("{own}/authorize?response_type=code"))
            .await
            .unwrap();
        assert_eq!(authorize.status(), 400);
        let body = json(authorize).await;
        assert_eq!(body["error"], "unsupported_response_type");
    }

    /// A token for the resource: `aud` the resource, `typ: at+jwt`, the scopes asked for, the
    /// client as `sub` and `client_id`; it verifies against the issuer's keys. Basic and post
    /// both authenticate the client.
    #[tokio::test]
    async fn a_token_for_the_resource_carries_it_as_audience() {
        let issuer = started().await;
        let (id, secret) = TestIssuer::demo_client();
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "mcp:tools"),
            ("resource", RESOURCE),
        ];
        let (status, _, cache, answer) = post(&issuer, Some((id, secret)), &form).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(cache.as_deref(), Some("no-store"));
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["scope"], "mcp:tools");
        assert_eq!(answer["expires_in"], 3600);
        let token = answer["access_token"].as_str().unwrap();
        assert_eq!(part_of(token, 0)["typ"], "at+jwt");
        let verifier = Verifier::new(Provider::oidc(issuer.issuer()).audience(RESOURCE)).unwrap();
        let claims = verifier.verify::<StandardClaims>(token).await.unwrap();
        assert_eq!(claims.sub, id);
        let payload = part_of(token, 1);
        assert_eq!(payload["client_id"], id);
        assert_eq!(payload["aud"], RESOURCE);
        assert_eq!(payload["iss"], issuer.issuer());
        assert!(claims.identity().has_scope("mcp:tools"));
        assert!(!claims.identity().has_scope("mcp:admin"));

        let by_post = [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("resource", RESOURCE),
        ];
        let (status, _, _, answer) = post(&issuer, None, &by_post).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("scope").is_none(), "no scope asked, none given");
        // Without a resource, the issuer's own audience.
        let plain = [("grant_type", "client_credentials")];
        let (status, _, _, answer) = post(&issuer, Some((id, secret)), &plain).await;
        assert_eq!(status, 200, "{answer}");
        let token = answer["access_token"].as_str().unwrap();
        let own = Verifier::new(issuer.provider()).unwrap();
        own.verify::<StandardClaims>(token).await.unwrap();
        assert_eq!(issuer.token_requests(), 3);
    }

    /// A refused request: what it is, its Basic credentials, its form, the status and error code.
    type Case<'a> = (
        &'a str,
        Option<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );

    /// Every refusal, with its status and RFC 6749 / RFC 8707 error code.
    #[tokio::test]
    async fn refusals_name_the_oauth_error() {
        let issuer = started().await;
        let (id, secret) = TestIssuer::demo_client();
        let grant = ("grant_type", "client_credentials");
        let cases: [Case<'_>; 12] = [
            (
                "wrong secret",
                Some((id, "nope")),
                vec![grant],
                401,
                "invalid_client",
            ),
            (
                "unknown client",
                Some(("x", secret)),
                vec![grant],
                401,
                "invalid_client",
            ),
            ("no client", None, vec![grant], 401, "invalid_client"),
            (
                "wrong post secret",
                None,
                vec![grant, ("client_id", id), ("client_secret", "x")],
                401,
                "invalid_client",
            ),
            (
                "two methods",
                Some((id, secret)),
                vec![grant, ("client_secret", secret)],
                400,
                "invalid_request",
            ),
            (
                "another grant",
                Some((id, secret)),
                vec![("grant_type", "password")],
                400,
                "unsupported_grant_type",
            ),
            (
                "no grant",
                Some((id, secret)),
                vec![],
                400,
                "invalid_request",
            ),
            (
                "repeated grant",
                Some((id, secret)),
                vec![grant, grant],
                400,
                "invalid_request",
            ),
            (
                "unknown resource",
                Some((id, secret)),
                vec![grant, ("resource", "http://127.0.0.1:9/mcp/")],
                400,
                "invalid_target",
            ),
            (
                "two resources",
                Some((id, secret)),
                vec![grant, ("resource", RESOURCE), ("resource", RESOURCE)],
                400,
                "invalid_target",
            ),
            (
                "unknown scope",
                Some((id, secret)),
                vec![grant, ("resource", RESOURCE), ("scope", "mcp:tools root")],
                400,
                "invalid_scope",
            ),
            (
                "another resource's scope",
                Some((id, secret)),
                vec![grant, ("resource", RESOURCE), ("scope", "other:read")],
                400,
                "invalid_scope",
            ),
        ];
        for (case, basic, form, status, error) in cases {
            let (got, authenticate, cache, answer) = post(&issuer, basic, &form).await;
            assert_eq!(
                (got, answer["error"].as_str()),
                (status, Some(error)),
                "{case}"
            );
            assert_eq!(cache.as_deref(), Some("no-store"), "{case}");
            assert!(answer["error_description"].is_string(), "{case}");
            let challenged = authenticate.is_some_and(|value| value.starts_with("Basic "));
            assert_eq!(
                challenged,
                status == 401,
                "{case}: WWW-Authenticate on 401 only"
            );
        }
        let get = reqwest::get(issuer.token_endpoint()).await.unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
    }

    /// Attacker round 2 (issue 34): scopes are registered per resource, yet a request that names
    /// no resource gets a token for the issuer's own audience (`test-api`, what
    /// [`TestIssuer::provider`] accepts) carrying another resource's admin scope: `mcp:admin` was
    /// registered for the MCP resource only, never for `test-api`.
    #[tokio::test]
    async fn a_token_without_resource_carries_no_scope_registered_for_a_resource() {
        let issuer = started().await;
        let (id, secret) = TestIssuer::demo_client();
        let form = [("grant_type", "client_credentials"), ("scope", "mcp:admin")];
        let (status, _, _, answer) = post(&issuer, Some((id, secret)), &form).await;
        if status == 200 {
            let token = answer["access_token"].as_str().unwrap();
            let own = Verifier::new(issuer.provider()).unwrap();
            let claims = own.verify::<StandardClaims>(token).await.unwrap();
            panic!(
                "aud {:?} (the issuer's own audience) carries mcp:admin: {}",
                part_of(token, 1)["aud"],
                claims.identity().has_scope("mcp:admin")
            );
        }
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_scope"))
        );
    }
}
