//! Runs every example binary on its embedded issuer, as a user would: start it, read the `curl`
//! lines it prints, send those requests over loopback, and check each answer. Also checks that a
//! half-set configuration fails at startup naming the missing variable.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What each printed line should answer, in the order `print_demo` prints them.
const EXPECTED: [u16; 5] = [200, 200, 403, 200, 401];

struct Running {
    child: Child,
    curls: Vec<String>,
    // Kept open: the example still writes after the curl lines, and a closed pipe would kill it.
    _stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start(binary: &str, expected: usize, env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(binary)
        .envs(env.iter().copied())
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("CF_TEAM_DOMAIN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut curls = Vec::new();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("curl ") {
                curls.push(line);
                if curls.len() == expected {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the example prints its curl lines in time");
    assert_eq!(
        curls.len(),
        expected,
        "{binary} printed {} curl lines, expected {expected}",
        curls.len()
    );
    Running {
        child,
        curls,
        _stdout: lines,
    }
}

/// Splits a printed command line into words, honouring single quotes (all the examples print).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Sends what a printed `curl` line describes (`-X`, `-H`, `--cookie`, `-d`, then the URL).
async fn replay(client: &reqwest::Client, line: &str) -> u16 {
    let words = words(line);
    let url = words.last().unwrap().clone();
    let mut method = reqwest::Method::GET;
    let mut headers = Vec::new();
    let mut body = None;
    let mut rest = words[1..words.len() - 1].iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "-i" => {}
            "-X" => method = rest.next().unwrap().parse().unwrap(),
            "-H" => {
                let (name, value) = rest.next().unwrap().split_once(": ").unwrap();
                headers.push((name.to_owned(), value.to_owned()));
            }
            "--cookie" => headers.push(("cookie".to_owned(), rest.next().unwrap().clone())),
            "-d" => body = Some(rest.next().unwrap().clone()),
            other => panic!("unexpected curl flag {other} in {line}"),
        }
    }
    let mut request = client
        .request(method, &url)
        .timeout(Duration::from_secs(20));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await;
    response
        .unwrap_or_else(|err| panic!("no answer from {url}: {err}"))
        .status()
        .as_u16()
}

async fn check(binary: &str) {
    let running = start(binary, EXPECTED.len(), &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for (line, expected) in running.curls.iter().zip(EXPECTED) {
        assert_eq!(replay(&client, line).await, expected, "{binary}: {line}");
    }
}

macro_rules! example_tests {
    ($($test:ident => $bin:literal),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                check(env!(concat!("CARGO_BIN_EXE_", $bin))).await;
            }
        )+
    };
}

example_tests!(
    quickstart => "quickstart",
    cloudflare_access => "cloudflare-access",
    zitadel => "zitadel",
    clerk => "clerk",
    auth0 => "auth0",
    keycloak => "keycloak",
    okta => "okta",
    cognito => "cognito",
    firebase => "firebase",
    openapi => "openapi",
);

/// The quickstart's further lines: an opaque token by introspection, a sign-out, the token refused
/// after it, a DPoP-bound token with its proof, and without.
#[tokio::test]
async fn quickstart_opaque_token_and_sign_out() {
    const ALL: [u16; 10] = [200, 200, 403, 200, 401, 200, 204, 401, 200, 401];
    let running = start(env!("CARGO_BIN_EXE_quickstart"), ALL.len(), &[]).await;
    let client = reqwest::Client::new();
    for (line, expected) in running.curls.iter().zip(ALL) {
        assert_eq!(replay(&client, line).await, expected, "{line}");
    }
}

/// The entra example runs multi-tenant: the home tenant's admin is the application's; a customer
/// tenant's admin is refused `/admin` and admitted to its own tenant's `/tenants/{tenant}/admin`
/// only.
#[tokio::test]
async fn entra_multi_tenant_admins_of_their_own_tenant() {
    const ALL: [u16; 8] = [200, 200, 403, 200, 401, 403, 200, 403];
    let running = start(env!("CARGO_BIN_EXE_entra"), ALL.len(), &[]).await;
    let client = reqwest::Client::new();
    for (line, expected) in running.curls.iter().zip(ALL) {
        assert_eq!(replay(&client, line).await, expected, "{line}");
    }
}

/// The zitadel example accepts Zitadel's default opaque tokens too, binds organisation roles to
/// the organisation a path names, and keeps people off the service users' route.
#[tokio::test]
async fn zitadel_opaque_token_organisations_and_service_users() {
    const ALL: [u16; 10] = [200, 200, 403, 200, 401, 200, 200, 403, 200, 403];
    let running = start(env!("CARGO_BIN_EXE_zitadel"), ALL.len(), &[]).await;
    let client = reqwest::Client::new();
    for (line, expected) in running.curls.iter().zip(ALL) {
        assert_eq!(replay(&client, line).await, expected, "{line}");
    }
}

/// Whether a tool the browser test needs is installed. CI installs them (`.ci/run`); on a developer
/// machine without them the test says so and passes, rather than failing the README's test command.
fn browser_tools_missing() -> Option<String> {
    let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match (
        node,
        std::path::Path::new(&browser).exists(),
        std::path::Path::new(dir)
            .join("node_modules/playwright-core")
            .exists(),
    ) {
        (false, _, _) => Some("node".to_owned()),
        (_, false, _) => Some(format!("{browser} (Debian package chromium)")),
        (_, _, false) => Some(format!("playwright-core (npm ci --prefix {dir})")),
        _ => None,
    }
}

#[tokio::test]
async fn swagger_ui_authorize_button_sends_the_token_in_a_real_browser() {
    if let Some(missing) = browser_tools_missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {missing} (see .ci/run)"
        );
        eprintln!("skipping the browser test: {missing} is not installed (.ci/run installs it)");
        return;
    }
    let running = start(env!("CARGO_BIN_EXE_openapi"), EXPECTED.len(), &[]).await;
    let base = running.curls[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches("/public")
        .to_owned();
    let user_token = words(&running.curls[1])[3]
        .trim_start_matches("Authorization: Bearer ")
        .to_owned();
    let mut command = Command::new("node");
    command.arg("swagger.mjs").arg(&base).arg(&user_token).env(
        "SCREENSHOT",
        std::env::temp_dir().join("swagger-ui-test.png"),
    );
    let stdout = run_browser_script(command, "swagger").await;
    assert!(
        stdout.contains("with token: 200") && stdout.contains("without token: 401"),
        "{stdout}"
    );
}

/// Swagger UI's Authorize button signs a person in at a real OpenID provider (oidc-provider, with
/// a public client that must use PKCE), and "Try it out" then calls guarded routes with the token.
#[tokio::test]
async fn swagger_ui_signs_in_with_authorization_code_and_pkce_at_a_real_provider() {
    if let Some(missing) = browser_tools_missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {missing} (see .ci/run)"
        );
        eprintln!("skipping the browser test: {missing} is not installed (.ci/run installs it)");
        return;
    }
    if !tests::oidc_provider::available("the Swagger UI sign-in test") {
        return;
    }
    // The provider must know the redirect URI before the API starts, so the API's port is chosen
    // first.
    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    let api = "https://items.example.com";
    let provider = tests::oidc_provider::OidcProvider::start(serde_json::json!({
        "dev_interactions": true,
        "resources": [{ "indicator": api, "scope": "read:items" }],
        "clients": [{
            "client_id": "api-docs",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [format!("{base}/docs/oauth2-redirect.html")],
            "scope": "openid read:items"
        }]
    }))
    .await;
    let env = [
        ("AUTH_ISSUER", provider.issuer()),
        ("AUTH_AUDIENCE", api),
        ("OPENAPI_CLIENT_ID", "api-docs"),
        ("BIND", &bind),
    ];
    let (_child, listening) = start_configured(env!("CARGO_BIN_EXE_openapi"), &env).await;
    assert_eq!(listening, base);
    let mut command = Command::new("node");
    command
        .arg("swagger.mjs")
        .arg(&base)
        .args(["--sign-in", "ada"])
        .env(
            "SCREENSHOT",
            std::env::temp_dir().join("swagger-ui-sign-in-test.png"),
        );
    let stdout = run_browser_script(command, "swagger sign-in").await;
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"))
            .to_owned()
    };
    let authorize = line("authorization request: ");
    assert!(
        authorize.starts_with(&format!("{}/auth?", provider.issuer())),
        "the scheme's authorization URL is the one discovery names: {authorize}"
    );
    for part in [
        "response_type=code",
        "client_id=api-docs",
        "code_challenge_method=S256",
        "scope=openid%20read%3Aitems",
    ] {
        assert!(authorize.contains(part), "{part} missing from {authorize}");
    }
    let token = line("token request: ");
    assert!(
        token.contains("grant_type=authorization_code") && token.contains("code_verifier="),
        "{token}"
    );
    assert!(!token.contains("client_secret"), "a public client: {token}");
    assert!(stdout.contains("signed in, /items: 200"), "{stdout}");
    let me = line("signed in, /me: 200 ");
    assert!(me.contains(r#""subject": "ada""#), "{me}");
}

/// Sign-in settings of the openapi example that cannot work stop it at startup, naming the
/// variable.
#[tokio::test]
async fn openapi_sign_in_settings_that_cannot_work_fail_at_startup() {
    let openapi = env!("CARGO_BIN_EXE_openapi");
    let demo = startup_error(openapi, &[("OPENAPI_CLIENT_ID", "api-docs")]).await;
    assert!(
        demo.contains("OPENAPI_CLIENT_ID") && demo.contains("no sign-in page"),
        "{demo}"
    );
    // An issuer whose discovery document names no authorization endpoint.
    let issuer = auth_actix::testing::TestIssuer::start().await;
    let no_sign_in = [
        ("AUTH_ISSUER", issuer.issuer()),
        ("AUTH_AUDIENCE", issuer.audience()),
        ("OPENAPI_CLIENT_ID", "api-docs"),
    ];
    let stderr = startup_error(openapi, &no_sign_in).await;
    assert!(
        stderr.contains("OPENAPI_CLIENT_ID") && stderr.contains("authorization code"),
        "{stderr}"
    );
    if !tests::oidc_provider::available("the openapi sign-in settings test") {
        return;
    }
    let provider = tests::oidc_provider::OidcProvider::start(serde_json::json!({
        "resources": [{ "indicator": "https://items.example.com", "scope": "read:items" }]
    }))
    .await;
    let configured = [
        ("AUTH_ISSUER", provider.issuer()),
        ("AUTH_AUDIENCE", "https://items.example.com"),
        ("OPENAPI_CLIENT_ID", "api-docs"),
    ];
    for (name, value) in [
        ("OPENAPI_SCOPES", "openid \"read\""),
        ("OPENAPI_AUTHORIZE_PARAMS", "audience"),
        ("OPENAPI_AUTHORIZE_PARAMS", "=x"),
    ] {
        let env = [&configured[..], &[(name, value)]].concat();
        let stderr = startup_error(openapi, &env).await;
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}

/// A binary, the environment it is started with, and what its startup error must mention.
type StartupCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[tokio::test]
async fn agents_app_enforces_per_agent_roles_from_sqlite() {
    // The demo block, then the agents lines: list; viewer GET, PUT; bob PUT, DELETE; service GET,
    // DELETE; alice DELETE of her own agent.
    let expected = [
        200, 200, 403, 200, 401, 200, 200, 403, 200, 403, 200, 403, 200,
    ];
    let dir = std::env::temp_dir().join(format!("agents-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("agents.db");
    let _ = std::fs::remove_file(&database);
    let running = start(
        env!("CARGO_BIN_EXE_agents"),
        expected.len(),
        &[("DATABASE_PATH", database.to_str().unwrap())],
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for (line, status) in running.curls.iter().zip(expected) {
        assert_eq!(replay(&client, line).await, status, "{line}");
    }
    assert!(database.exists(), "the database file was created");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn startup_error(binary: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(binary);
    command
        .env("BIND", "127.0.0.1:0")
        .env_remove("DEMO_ALLOW_ANY_BIND")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // A binary that starts instead of refusing must not outlive the failed test.
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !output.status.success(),
        "{binary} should refuse to start with {env:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn missing_or_malformed_settings_fail_at_startup_naming_the_variable() {
    let cases: &[StartupCase] = &[
        (
            env!("CARGO_BIN_EXE_cloudflare-access"),
            &[("CF_TEAM_DOMAIN", "https://team.cloudflareaccess.com")],
            "CF_POLICY_AUD",
        ),
        (
            env!("CARGO_BIN_EXE_cloudflare-access"),
            &[
                ("CF_TEAM_DOMAIN", "https://team.cloudflareaccess.com"),
                ("CF_POLICY_AUD", "nope"),
            ],
            "AUD tag",
        ),
        (
            env!("CARGO_BIN_EXE_zitadel"),
            &[("ZITADEL_ISSUER", "https://x.zitadel.cloud")],
            "ZITADEL_PROJECT_ID",
        ),
        // A project's name where its ID belongs: every token would be refused as bad_audience.
        (
            env!("CARGO_BIN_EXE_zitadel"),
            &[
                ("ZITADEL_ISSUER", "https://x.zitadel.cloud"),
                ("ZITADEL_PROJECT_ID", "invoices"),
                ("ZITADEL_ORG_ID", "263514100000000001"),
            ],
            "ZITADEL_PROJECT_ID: ",
        ),
        // No organisation, or its name: nobody would hold an application role.
        (
            env!("CARGO_BIN_EXE_zitadel"),
            &[
                ("ZITADEL_ISSUER", "https://x.zitadel.cloud"),
                ("ZITADEL_PROJECT_ID", "263514598346711111"),
                ("ZITADEL_ORG_ID", " "),
            ],
            "ZITADEL_ORG_ID is not set (or empty)",
        ),
        (
            env!("CARGO_BIN_EXE_zitadel"),
            &[
                ("ZITADEL_ISSUER", "https://x.zitadel.cloud"),
                ("ZITADEL_PROJECT_ID", "263514598346711111"),
                ("ZITADEL_ORG_ID", "acme"),
            ],
            // main's error is printed with Debug, which escapes the quotes.
            r#"ZITADEL_ORG_ID: \"acme\" is not a Zitadel organisation ID"#,
        ),
        (
            env!("CARGO_BIN_EXE_clerk"),
            &[("CLERK_ISSUER", "https://x.clerk.accounts.dev")],
            "CLERK_AUTHORIZED_PARTIES",
        ),
        (
            env!("CARGO_BIN_EXE_auth0"),
            &[("AUTH0_DOMAIN", "t.us.auth0.com")],
            "AUTH0_AUDIENCE",
        ),
        // Auth0's namespaced roles claim without its quotes would silently yield no roles.
        (
            env!("CARGO_BIN_EXE_auth0"),
            &[("AUTH0_ROLES_CLAIM", "https://example.com/roles")],
            "a claim named by a URL must be quoted",
        ),
        (
            env!("CARGO_BIN_EXE_keycloak"),
            &[("KEYCLOAK_URL", "https://sso.example.com")],
            "KEYCLOAK_REALM",
        ),
        (
            env!("CARGO_BIN_EXE_entra"),
            &[
                ("ENTRA_TENANT_ID", "common"),
                ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ],
            "ENTRA_ALLOWED_TENANTS",
        ),
        // Entra's tokens name the tenant by GUID: a domain would refuse every token.
        (
            env!("CARGO_BIN_EXE_entra"),
            &[
                ("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"),
                ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ],
            "ENTRA_TENANT_ID: ",
        ),
        (
            env!("CARGO_BIN_EXE_entra"),
            &[
                ("ENTRA_TENANT_ID", "organizations"),
                ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
                (
                    "ENTRA_ALLOWED_TENANTS",
                    "72f988bf-86f1-41af-91ab-2d7cd011db47,fabrikam.com",
                ),
            ],
            r#"ENTRA_ALLOWED_TENANTS: Provider::entra_multi_tenant(client_id, tenants): tenants: \"fabrikam.com\" is not a tenant ID"#,
        ),
        // A home tenant that is not accepted: its tokens would never arrive, its roles never count.
        (
            env!("CARGO_BIN_EXE_entra"),
            &[
                ("ENTRA_TENANT_ID", "organizations"),
                ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
                (
                    "ENTRA_ALLOWED_TENANTS",
                    "fa15d692-e9c7-4460-a743-29f2956fd429",
                ),
                ("ENTRA_HOME_TENANT", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ],
            "ENTRA_HOME_TENANT: Provider::entra_multi_tenant(client_id, tenants): \
             trusted_organizations",
        ),
        (
            env!("CARGO_BIN_EXE_okta"),
            &[
                ("OKTA_ISSUER", "https://dev-1.okta.com"),
                ("OKTA_AUDIENCE", "api://default"),
            ],
            "org authorization server",
        ),
        (
            env!("CARGO_BIN_EXE_cognito"),
            &[("COGNITO_REGION", "eu-west-1")],
            "COGNITO_USER_POOL_ID",
        ),
        (
            env!("CARGO_BIN_EXE_firebase"),
            &[("FIREBASE_PROJECT_ID", "bad/project")],
            "FIREBASE_PROJECT_ID",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[
                ("AUTH_ISSUER", "http://issuer.example.com"),
                ("AUTH_AUDIENCE", "a"),
            ],
            "https://",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_LEEWAY_SECS", "soon")],
            "AUTH_LEEWAY_SECS",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_ROLES_CLAIM", "https://example.com/roles")],
            "AUTH_ROLES_CLAIM: claim path",
        ),
        // Ten years of leeway would make long-expired tokens valid.
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_LEEWAY_SECS", "315360000")],
            "AUTH_LEEWAY_SECS: ",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_ALGORITHMS", "RS256,HS256")],
            "AUTH_ALGORITHMS",
        ),
        // The demo issuer hands out admin tokens: it never listens beyond loopback unless told to.
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("BIND", "0.0.0.0:0")],
            "loopback only",
        ),
        (
            env!("CARGO_BIN_EXE_keycloak"),
            &[("BIND", "0.0.0.0:0")],
            "DEMO_ALLOW_ANY_BIND",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("BIND", "not-an-address")],
            "BIND",
        ),
        // The bench targets' embedded issuers hand out tokens (soak-target's `GET /_mint`) too.
        (
            env!("CARGO_BIN_EXE_soak-target"),
            &[("BIND", "0.0.0.0:0")],
            "BIND=0.0.0.0:0: soak-target serves GET /_mint",
        ),
        (
            env!("CARGO_BIN_EXE_load-target"),
            &[("BIND", "0.0.0.0:0")],
            "BIND=0.0.0.0:0: load-target would run on its embedded test issuer",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("REDIS_URL", "http://localhost:6379")],
            "REDIS_URL",
        ),
        (
            env!("CARGO_BIN_EXE_zitadel"),
            &[
                ("ZITADEL_ISSUER", "https://acme.zitadel.cloud"),
                ("ZITADEL_PROJECT_ID", "263514598346711111"),
                ("ZITADEL_ORG_ID", "263514100000000001"),
                ("ZITADEL_KEY_FILE", "/nonexistent/key.json"),
            ],
            "ZITADEL_KEY_FILE",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_PUBLIC_ORIGIN", "api.example.com")],
            "AUTH_PUBLIC_ORIGIN",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_INTROSPECTION_CLIENT_ID", "api")],
            "AUTH_INTROSPECTION_CLIENT_SECRET",
        ),
        // Asking the issuer about every token needs the client that may ask.
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[
                ("AUTH_ISSUER", "https://issuer.example.com"),
                ("AUTH_AUDIENCE", "a"),
                ("AUTH_INTROSPECT_ALL_TOKENS", "1"),
            ],
            "set AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_INTROSPECT_ALL_TOKENS", "yes")],
            "write 1 to introspect JWTs too",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[
                ("AUTH_TOKEN_COOKIE", "session"),
                (
                    "AUTH_COOKIE_ORIGINS",
                    "https://app.example.com,app.example.com",
                ),
            ],
            "AUTH_COOKIE_ORIGINS: JwtAuth::cookie_origins: \\\"app.example.com\\\"",
        ),
        (
            env!("CARGO_BIN_EXE_quickstart"),
            &[("AUTH_COOKIE_ORIGINS", "https://app.example.com")],
            "AUTH_TOKEN_COOKIE",
        ),
    ];
    for (binary, env, expected) in cases {
        let stderr = startup_error(binary, env).await;
        assert!(
            stderr.contains(expected),
            "{binary} with {env:?}: expected {expected:?} in {stderr}"
        );
    }
}

/// Starts an example configured for a real issuer and waits for its "listening on <base>" line.
async fn start_configured(binary: &str, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(binary)
        .env("BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, base)) = line.split_once("listening on ") {
                return base.to_owned();
            }
        }
        panic!("{binary} ended without listening");
    })
    .await
    .expect("the example starts listening in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

#[tokio::test]
async fn an_api_starts_during_an_issuer_outage_and_recovers_by_itself() {
    let issuer = auth_actix::testing::TestIssuer::start().await;
    issuer.set_outage(true);
    let env = [
        ("AUTH_ISSUER", issuer.issuer()),
        ("AUTH_AUDIENCE", issuer.audience()),
    ];
    let (_child, base) = start_configured(env!("CARGO_BIN_EXE_quickstart"), &env).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let public = client.get(format!("{base}/public")).send().await.unwrap();
    assert_eq!(
        public.status(),
        200,
        "public routes are served through the outage"
    );
    let token = issuer.token().subject("ada").sign();
    let me = || client.get(format!("{base}/me")).bearer_auth(&token).send();
    let during = me().await.unwrap();
    assert_eq!(during.status(), 503);
    assert!(during.headers().contains_key("retry-after"));
    assert!(during.text().await.unwrap().contains("AUTH_UNAVAILABLE"));

    issuer.set_outage(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut status = 503;
    while status != 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        status = me().await.unwrap().status().as_u16();
    }
    assert_eq!(status, 200, "the keys arrived without a restart");
}

/// A Redis that may evict revocations or DPoP proofs would forget them: the quickstart stops,
/// naming `REDIS_URL` and the policy.
#[tokio::test]
async fn the_quickstart_stops_at_start_on_a_redis_that_may_evict() {
    use tests::redis_server::{RedisServer, available};
    if !available("the_quickstart_stops_at_start_on_a_redis_that_may_evict") {
        return;
    }
    let redis = RedisServer::start_with(&["--maxmemory-policy", "allkeys-lru"]).await;
    let url = redis.url();
    let stderr = startup_error(env!("CARGO_BIN_EXE_quickstart"), &[("REDIS_URL", &url)]).await;
    assert!(
        stderr.contains("REDIS_URL")
            && stderr.contains("maxmemory-policy allkeys-lru")
            && stderr.contains("noeviction"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_api_stops_at_start_on_a_definite_misconfiguration() {
    let issuer = auth_actix::testing::TestIssuer::start().await;
    issuer.set_discovery_issuer(Some("https://impostor.example.com".to_owned()));
    let env = [
        ("AUTH_ISSUER", issuer.issuer()),
        ("AUTH_AUDIENCE", issuer.audience()),
    ];
    let stderr = startup_error(env!("CARGO_BIN_EXE_quickstart"), &env).await;
    assert!(
        stderr.contains("AUTH_ISSUER") && stderr.contains("impostor.example.com"),
        "{stderr}"
    );
    let missing = [
        ("AUTH_ISSUER", issuer.issuer()),
        ("AUTH_AUDIENCE", issuer.audience()),
        ("AUTH_JWKS_URL", "http://127.0.0.1:9/none"),
    ];
    let (mut child, _) = start_configured(env!("CARGO_BIN_EXE_quickstart"), &missing).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "no answer at all is an outage, not a misconfiguration"
    );
}

#[tokio::test]
async fn the_quickstart_stops_at_start_when_the_issuer_refuses_its_introspection_client() {
    let issuer = auth_actix::testing::TestIssuer::start().await;
    let env = [
        ("AUTH_ISSUER", issuer.issuer()),
        ("AUTH_AUDIENCE", issuer.audience()),
        ("AUTH_INTROSPECTION_CLIENT_ID", "test-introspector"),
        ("AUTH_INTROSPECTION_CLIENT_SECRET", "an-old-secret"),
    ];
    let stderr = startup_error(env!("CARGO_BIN_EXE_quickstart"), &env).await;
    assert!(
        stderr.contains("AUTH_INTROSPECTION_CLIENT_ID, AUTH_INTROSPECTION_CLIENT_SECRET")
            && stderr.contains("refuses this API's client credentials"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("an-old-secret"),
        "never the secret: {stderr}"
    );
}

/// `AUTH_INTROSPECT_ALL_TOKENS=1`: a JWT signed out at the issuer is refused, though its signature
/// and `exp` still hold; without it, the same token is accepted until its `exp`.
#[tokio::test]
async fn the_quickstart_asks_the_issuer_about_jwts_when_told_to() {
    let issuer = auth_actix::testing::TestIssuer::start().await;
    let settings = |all_tokens: &'static str| {
        [
            ("AUTH_ISSUER", issuer.issuer()),
            ("AUTH_AUDIENCE", issuer.audience()),
            ("AUTH_INTROSPECTION_CLIENT_ID", "test-introspector"),
            ("AUTH_INTROSPECTION_CLIENT_SECRET", "test-secret"),
            ("AUTH_INTROSPECT_ALL_TOKENS", all_tokens),
        ]
    };
    let (_asking, asking) =
        start_configured(env!("CARGO_BIN_EXE_quickstart"), &settings("1")).await;
    let (_trusting, trusting) =
        start_configured(env!("CARGO_BIN_EXE_quickstart"), &settings("0")).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let me = |base: &str, token: &str| client.get(format!("{base}/me")).bearer_auth(token).send();
    let kept = issuer.token().subject("ada").sign();
    assert_eq!(me(&asking, &kept).await.unwrap().status(), 200);
    let signed_out = issuer.token().subject("bob").sign();
    issuer.revoke(&signed_out);
    let refused = me(&asking, &signed_out).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("INVALID_TOKEN"));
    assert_eq!(me(&trusting, &signed_out).await.unwrap().status(), 200);
}

/// The browser example, running.
struct BrowserExample {
    _child: Child,
    api: String,
    page: String,
    /// The same page under another name: another site for the browser.
    other_site: String,
    /// What it has printed so far, its log included; stderr is also passed through to the test's
    /// output.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl BrowserExample {
    /// Starts the example and reads its API and page URLs.
    async fn start(order: &str) -> BrowserExample {
        let mut child = Command::new(env!("CARGO_BIN_EXE_browser"))
            .env("BIND", "127.0.0.1:0")
            .env("PAGE_BIND", "127.0.0.1:0")
            .env("WRAP_ORDER", order)
            .env("RUST_LOG", "warn,auth=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("example starts");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
        let kept = std::sync::Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                eprintln!("browser example: {line}");
                kept.lock().unwrap().push(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut api, mut page, mut other_site) = (None, None, None);
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("api: ") {
                    api = Some(url.to_owned());
                }
                if let Some(url) = line.strip_prefix("page: ") {
                    page = Some(url.to_owned());
                }
                if let Some(url) = line.strip_prefix("other site: ") {
                    other_site = Some(url.to_owned());
                }
                if api.is_some() && page.is_some() && other_site.is_some() {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("the browser example starts in time");
        // The example logs to stdout (tracing's default), its errors to stderr.
        let kept = std::sync::Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        BrowserExample {
            _child: child,
            api: api.expect("api URL"),
            page: page.expect("page URL"),
            other_site: other_site.expect("other site's page URL"),
            log,
        }
    }

    /// The logged lines that contain every one of `parts`.
    fn logged(&self, parts: &[&str]) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| parts.iter().all(|part| line.contains(part)))
            .cloned()
            .collect()
    }
}

#[tokio::test]
async fn a_page_on_another_origin_calls_the_api_and_opens_a_websocket_in_chromium() {
    if let Some(missing) = browser_tools_missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {missing} (see .ci/run)"
        );
        eprintln!("skipping the browser test: {missing} is not installed (.ci/run installs it)");
        return;
    }
    for order in ["auth-cors", "cors-outside", "cors-inside"] {
        let example = BrowserExample::start(order).await;
        let (api, page) = (&example.api, &example.page);
        let mut command = Command::new("node");
        command.arg("page.mjs").arg(page);
        let stdout = run_browser_script(command, order).await;
        if order == "cors-inside" {
            // Misconfigured: JwtAuth answered the preflight without CORS headers, so Chromium
            // never sent the request. A WebSocket has no CORS: its token still opens it.
            assert!(
                stdout.contains("fetch: failed") && stdout.contains("ws: hello browser-user"),
                "{order}: {stdout}"
            );
            let warning = example.logged(&["WARN", "JwtAuth::cors", "wrap actix-cors outside"]);
            assert_eq!(warning.len(), 1, "one warning naming the fix: {warning:?}");
            let preflight = example.logged(&["outcome=\"preflight\"", "path=\"/me\""]);
            assert_eq!(
                preflight.len(),
                1,
                "the preflight's one decision: {preflight:?}"
            );
        } else {
            assert!(
                stdout.contains("fetch: 200 browser-user")
                    && stdout.contains("ws: hello browser-user"),
                "{order}: {stdout}"
            );
        }

        // Without a browser: what is not a genuine preflight, or an upgrade without a good token,
        // is refused before anything opens.
        let client = reqwest::Client::new();
        let not_preflight = client
            .request(reqwest::Method::OPTIONS, format!("{api}/me"))
            .header("origin", page.trim_end_matches('/'))
            .send()
            .await
            .unwrap();
        assert_eq!(not_preflight.status(), 401, "{order}");
        for protocols in [None, Some("bearer, not.a.token")] {
            let mut upgrade = client
                .get(format!("{api}/ws"))
                .header("upgrade", "websocket")
                .header("connection", "upgrade")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
            if let Some(protocols) = protocols {
                upgrade = upgrade.header("sec-websocket-protocol", protocols);
            }
            let refused = upgrade.send().await.unwrap();
            assert_eq!(refused.status(), 401, "{order}: {protocols:?}");
        }
    }
}

/// A session cookie counts for the API's own site only, in Chromium: the page on `127.0.0.1` (the
/// API's site) is served with it; the same page on `localhost` (another site) gets 401 for its
/// `fetch`, its WebSocket and its form POST though Chromium sends the cookie with each, as the
/// API's log shows (its refusals name the cookie rule, which only a request carrying the cookie
/// can break).
#[tokio::test]
async fn a_session_cookie_acts_for_its_own_site_only_in_chromium() {
    if let Some(missing) = browser_tools_missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {missing} (see .ci/run)"
        );
        eprintln!("skipping the browser test: {missing} is not installed (.ci/run installs it)");
        return;
    }
    let example = BrowserExample::start("auth-cors").await;
    let mut command = Command::new("node");
    command
        .arg("page.mjs")
        .arg("cookies")
        .arg(format!("{}cookie", example.page))
        .arg(format!("{}cookie", example.other_site));
    let stdout = run_browser_script(command, "cookies").await;
    for expected in [
        "same-site fetch: 200 browser-user",
        "same-site ws: hello browser-user",
        "same-site form: 200 transferred for browser-user",
        "other-site fetch: 401",
        "other-site ws: refused",
        "other-site form: 401",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }
    for path in ["/me", "/ws", "/transfer"] {
        let refused = example.logged(&[
            "outcome=\"rejected\"",
            "cookie token not accepted",
            &format!("path=\"{path}\""),
        ]);
        assert_eq!(
            refused.len(),
            1,
            "{path}: Chromium sent the cookie from the other site and the API refused it: \
             {refused:?}"
        );
    }
}

/// A free loopback port (the exporter needs one named in advance).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The value of the first sample of `name` whose labels contain all of `labels`.
fn sample(scrape: &str, name: &str, labels: &[&str]) -> Option<f64> {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(name)
                && line[name.len()..].starts_with(['{', ' '])
                && labels.iter().all(|label| line.contains(label))
        })
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn the_quickstart_exports_every_metric_and_readiness() {
    let port = free_port();
    let metrics_bind = format!("127.0.0.1:{port}");
    let running = start(
        env!("CARGO_BIN_EXE_quickstart"),
        10,
        &[("METRICS_BIND", metrics_bind.as_str())],
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    // Allowed, forbidden, expired, anonymous, an opaque token, a sign-out, a DPoP proof.
    for line in &running.curls {
        replay(&client, line).await;
    }
    let base = running.curls[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches("/public");
    let admin = words(&running.curls[3])[3]
        .trim_start_matches("Authorization: Bearer ")
        .to_owned();
    // The admin token again: a verified-token cache hit.
    let again = client
        .get(format!("{base}/admin"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    // The same token claiming a key the issuer never had: one refetch, then the cooldown.
    let (header, rest) = admin.split_once('.').unwrap();
    let mut claimed: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    claimed["kid"] = "never-published".into();
    let forged = format!(
        "{}.{rest}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claimed.to_string()
        )
    );
    for _ in 0..2 {
        let refused = client
            .get(format!("{base}/me"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    let anonymous = client.get(format!("{base}/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let readiness: serde_json::Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(readiness["ready"], true, "{readiness}");
    assert!(
        readiness["issuers"][0]["keys"].as_u64().unwrap() >= 1,
        "{readiness}"
    );
    let live = client.get(format!("{base}/livez")).send().await.unwrap();
    assert_eq!(live.status(), 200);

    let scrape = client
        .get(format!("http://{metrics_bind}/metrics"))
        .send()
        .await
        .expect("the exporter answers")
        .text()
        .await
        .unwrap();
    let moved = |name: &str, labels: &[&str]| {
        let value = sample(&scrape, name, labels);
        assert!(
            value.is_some_and(|value| value > 0.0),
            "{name}{labels:?} did not move:\n{scrape}"
        );
    };
    moved(
        "auth_decisions_total",
        &[r#"outcome="allowed""#, r#"code="OK""#],
    );
    moved(
        "auth_decisions_total",
        &[r#"outcome="forbidden""#, r#"code="FORBIDDEN""#],
    );
    moved(
        "auth_decisions_total",
        &[
            r#"outcome="rejected""#,
            r#"code="TOKEN_EXPIRED""#,
            r#"reason="expired""#,
        ],
    );
    moved(
        "auth_decisions_total",
        &[r#"outcome="rejected""#, r#"code="UNAUTHORIZED""#],
    );
    moved("auth_decisions_total", &[r#"reason="unknown_key""#]);
    moved("auth_decisions_total", &[r#"reason="dpop_binding""#]);
    moved("auth_verify_seconds_count", &[]);
    moved("auth_verify_seconds_bucket", &[r#"le="1""#]);
    moved("auth_jwks_fetches_total", &[r#"result="success""#]);
    moved("auth_jwks_keys", &[]);
    moved("auth_jwks_last_success_timestamp_seconds", &[]);
    moved("auth_jwks_unknown_kid_refetches_total", &[]);
    moved("auth_jwks_cooldown_refusals_total", &[]);
    moved("auth_jwks_age_seconds", &[]);
    moved("auth_verified_cache_total", &[r#"result="hit""#]);
    moved("auth_verified_cache_total", &[r#"result="miss""#]);
    moved("auth_introspections_total", &[r#"result="active""#]);
    moved("auth_introspection_cache_total", &[r#"result="miss""#]);
    moved("auth_dpop_proofs_total", &[r#"result="valid""#]);
    // Labels stay bounded: the configured issuer, never a subject.
    assert!(
        !scrape.contains("admin-1") && !scrape.contains("user-1"),
        "{scrape}"
    );
}

/// Runs a node script from `tests/browser` (it drives Chromium), within two minutes, and returns
/// its output; a failing script fails the test with everything it printed.
async fn run_browser_script(mut command: Command, label: &str) -> String {
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
        // On timeout the future is dropped; node (and its Chromium) must not outlive the test.
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the browser test finishes in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{label}: browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
