//! Helpers shared by the integration tests: hand-crafted tokens for the refusals no honest issuer
//! mints.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a base64url segment.
pub fn unb64(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .expect("test token segment is base64url")
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    [
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    ]
}

/// The decoded payload of a compact token.
pub fn payload(token: &str) -> Value {
    serde_json::from_slice(&unb64(&segments(token)[1])).expect("payload is JSON")
}

/// A token from the given header, payload and raw signature.
pub fn assemble(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string()),
        b64(payload.to_string()),
        b64(signature)
    )
}

/// Replaces the payload while keeping header and signature: a tampered token.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let [header, _, signature] = segments(token);
    format!("{header}.{}.{signature}", b64(payload.to_string()))
}

/// Flips one bit in the signature.
pub fn with_flipped_signature_bit(token: &str) -> String {
    let [header, payload, signature] = segments(token);
    let mut raw = unb64(&signature);
    raw[0] ^= 0x01;
    format!("{header}.{payload}.{}", b64(raw))
}

/// Seconds since the Unix epoch, as JWT dates count them.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| i64::try_from(now.as_secs()).unwrap_or(i64::MAX))
}

/// Installs a test subscriber once, so `RUST_LOG=auth=debug` shows what the library logged.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Captures `tracing` events of target `auth` on the current thread, for asserting on the audit
/// log.
pub mod audit_log {
    use std::collections::BTreeMap;
    use std::fmt::Debug;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    /// The fields of one event, as text.
    pub type Fields = BTreeMap<String, String>;

    /// Events seen so far.
    #[derive(Clone, Default)]
    pub struct AuditLog(Arc<Mutex<Vec<Fields>>>);

    impl AuditLog {
        /// Installs the log as this thread's subscriber until the guard drops.
        pub fn install() -> (AuditLog, tracing::subscriber::DefaultGuard) {
            let log = AuditLog::default();
            let subscriber = tracing_subscriber::registry().with(log.clone());
            let guard = tracing::subscriber::set_default(subscriber);
            // A callsite another test's thread met first, while this subscriber was being
            // installed, may have cached that nobody listens: ask every callsite again.
            tracing::callsite::rebuild_interest_cache();
            (log, guard)
        }

        /// Every captured event.
        pub fn events(&self) -> Vec<Fields> {
            self.0.lock().unwrap().clone()
        }

        /// Events whose `outcome` field equals `outcome`.
        pub fn with_outcome(&self, outcome: &str) -> Vec<Fields> {
            self.events()
                .into_iter()
                .filter(|e| e.get("outcome").map(String::as_str) == Some(outcome))
                .collect()
        }

        /// Forgets what was captured, and asks every callsite again whether anyone listens: a
        /// callsite another test's thread was registering while this log was installed may
        /// have stored "nobody" after the install's own rebuild.
        pub fn clear(&self) {
            self.0.lock().unwrap().clear();
            tracing::callsite::rebuild_interest_cache();
        }
    }

    struct Collect<'a>(&'a mut Fields);

    impl Visit for Collect<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }

        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
    }

    impl<S: Subscriber> Layer<S> for AuditLog {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() != "auth" {
                return;
            }
            let mut fields = Fields::new();
            event.record(&mut Collect(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }
}

/// A response read whole, for assertions.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: actix_web::http::StatusCode,
    /// Headers.
    pub headers: actix_web::http::header::HeaderMap,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("<non-ascii>"))
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// Every `WWW-Authenticate` value, in order.
    pub fn challenges(&self) -> Vec<String> {
        self.headers
            .get_all("www-authenticate")
            .map(|value| value.to_str().unwrap_or("<non-ascii>").to_owned())
            .collect()
    }

    /// `error.code` of the JSON body.
    pub fn code(&self) -> String {
        error_code(&self.body)
    }
}

/// `error.code` of a JSON error body (`<no code>` when there is none).
pub fn error_code(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    json["error"]["code"]
        .as_str()
        .unwrap_or("<no code>")
        .to_owned()
}

/// A loopback client whose requests give up after 20 s, so a hung server fails a test instead of
/// hanging it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

/// GETs a JSON document (a test issuer's JWKS, say) over loopback.
pub async fn get_json(url: &str) -> Value {
    let response = client()
        .get(url)
        .send()
        .await
        .expect("GET")
        .error_for_status()
        .expect("2xx");
    serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON")
}

/// Sends a test request through an initialised actix service and reads the whole response.
pub async fn send<S, B>(app: &S, req: actix_web::test::TestRequest) -> Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let response = actix_web::test::call_service(app, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = actix_web::test::read_body(response).await;
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `GET path` with `token` as a bearer, through an initialised actix service.
pub async fn get_bearer<S, B>(app: &S, path: &str, token: &str) -> Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let bearer = (
        actix_web::http::header::AUTHORIZATION,
        format!("Bearer {token}"),
    );
    let request = actix_web::test::TestRequest::get()
        .uri(path)
        .insert_header(bearer);
    send(app, request).await
}

/// Status and body of a test request sent through an initialised actix service.
pub async fn status_and_body<S, B>(
    app: &S,
    req: actix_web::test::TestRequest,
) -> (actix_web::http::StatusCode, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let reply = send(app, req).await;
    (reply.status, reply.body)
}

/// Calls `attempt` every 100 ms until `done` accepts its result or `limit` passes; returns the last
/// result. For waiting on background refreshes without fixed sleeps.
pub async fn poll<T, F, Fut>(
    limit: std::time::Duration,
    mut attempt: F,
    done: impl Fn(&T) -> bool,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let start = std::time::Instant::now();
    let mut result = attempt().await;
    while !done(&result) && start.elapsed() < limit {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        result = attempt().await;
    }
    result
}

/// Awaits spawned tasks in order, failing the test if they are not all done within `limit`: a
/// deadlock in shared work (single-flight fetches) then fails instead of hanging the run.
pub async fn join_within<T>(
    limit: std::time::Duration,
    tasks: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let all = async {
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await.expect("task panicked"));
        }
        results
    };
    tokio::time::timeout(limit, all)
        .await
        .expect("tasks did not finish in time")
}

/// Polls `done` every 100 ms for at most `limit`; whether it came to hold. For counters that
/// background work moves, such as a test issuer's fetch counts.
pub async fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    poll(limit, || std::future::ready(done()), |held| *held).await
}

/// The real, independent OpenID Provider of the integration tests: the npm package `oidc-provider`
/// (OpenID Certified), run by `tests/oidc-provider/server.mjs` on 127.0.0.1.
pub mod oidc_provider {
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::time::Duration;

    use serde_json::Value;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::process::{Child, ChildStdin, Command};

    /// The harness directory.
    fn harness() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
    }

    /// What is missing to run the provider, if anything: node, or the npm packages.
    pub fn missing() -> Option<String> {
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !node {
            return Some("node".to_owned());
        }
        if !harness().join("node_modules/oidc-provider").exists() {
            return Some(format!(
                "oidc-provider (npm ci --prefix {})",
                harness().display()
            ));
        }
        None
    }

    /// Whether the provider can run here. Under CI (`.ci/run` installs it) a missing piece fails
    /// the test; elsewhere the test says so and passes, rather than failing the README's test
    /// command.
    pub fn available(test: &str) -> bool {
        match missing() {
            None => true,
            Some(what) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must install {what} (see .ci/run)"
                );
                eprintln!("skipping {test}: {what} is not installed (.ci/run installs it)");
                false
            }
        }
    }

    /// A running provider. Stops when dropped (its stdin closes, which ends it).
    pub struct OidcProvider {
        config: Value,
        config_file: PathBuf,
        issuer: String,
        child: Child,
        _stdin: ChildStdin,
    }

    impl OidcProvider {
        /// Starts a provider with this configuration (see `tests/oidc-provider/README.md`).
        pub async fn start(config: Value) -> OidcProvider {
            let dir = std::env::temp_dir().join(format!("oidc-provider-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let config_file = dir.join(format!("config-{n}.json"));
            let (child, stdin, issuer) = spawn(&config, &config_file).await;
            OidcProvider {
                config,
                config_file,
                issuer,
                child,
                _stdin: stdin,
            }
        }

        /// The issuer URL.
        pub fn issuer(&self) -> &str {
            &self.issuer
        }

        /// Stops the provider (an outage); [`OidcProvider::restart`] brings it back on the same
        /// port.
        pub async fn stop(&mut self) {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        }

        /// Starts it again on the same port with the same configuration; with `rotate`, under a
        /// brand new signing key and no overlap with the old one.
        pub async fn restart(&mut self, rotate: bool) {
            self.stop().await;
            let port: u16 = self
                .issuer
                .trim_start_matches("http://127.0.0.1:")
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            self.config["port"] = port.into();
            if rotate && let Some(file) = self.config["jwks_file"].as_str() {
                let _ = std::fs::remove_file(file);
            }
            let (child, stdin, issuer) = spawn(&self.config, &self.config_file).await;
            assert_eq!(issuer, self.issuer, "restarted on the same address");
            self.child = child;
            self._stdin = stdin;
        }

        /// An access token by the client credentials grant (client_secret_basic), for `resource`.
        pub async fn token(
            &self,
            client: &str,
            secret: &str,
            resource: &str,
            scope: &str,
        ) -> String {
            self.token_with(client, secret, resource, scope, None).await
        }

        /// The token endpoint's URL (for the `htu` of a DPoP proof).
        pub fn token_endpoint(&self) -> String {
            format!("{}/token", self.issuer)
        }

        /// As [`OidcProvider::token`], sending `dpop_proof` (made for `POST` to
        /// [`OidcProvider::token_endpoint`]) so the token is bound to its key.
        pub async fn token_with(
            &self,
            client: &str,
            secret: &str,
            resource: &str,
            scope: &str,
            dpop_proof: Option<&str>,
        ) -> String {
            let mut request = crate::client()
                .post(self.token_endpoint())
                .basic_auth(client, Some(secret));
            if let Some(proof) = dpop_proof {
                request = request.header("dpop", proof);
            }
            let response = request
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("resource", resource),
                    ("scope", scope),
                ])
                .send()
                .await
                .expect("token endpoint answers");
            let status = response.status();
            let body: Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
            assert!(status.is_success(), "token request failed: {status} {body}");
            body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned()
        }
    }

    async fn spawn(config: &Value, config_file: &Path) -> (Child, ChildStdin, String) {
        std::fs::write(config_file, config.to_string()).expect("config written");
        let mut child = Command::new("node")
            .arg(harness().join("server.mjs"))
            .arg(config_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let line = ready
            .expect("the provider starts in time")
            .expect("stdout readable")
            .expect("a READY line");
        let issuer = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        (child, stdin, issuer)
    }
}

/// The official MCP TypeScript SDK's client (`tests/mcp-client`, `@modelcontextprotocol/sdk`
/// pinned in its package.json), run with node against an MCP server.
pub mod mcp_client {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use serde_json::Value;

    /// The package directory.
    fn package() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp-client")
    }

    /// What is missing to run the client, if anything: node, or the npm package.
    pub fn missing() -> Option<String> {
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !node {
            return Some("node".to_owned());
        }
        if !package()
            .join("node_modules/@modelcontextprotocol/sdk")
            .exists()
        {
            return Some(format!(
                "@modelcontextprotocol/sdk (npm ci --prefix {})",
                package().display()
            ));
        }
        None
    }

    /// Whether the client can run here. Under CI (`.ci/run` installs it) a missing piece fails
    /// the test; elsewhere the test says so and passes.
    pub fn available(test: &str) -> bool {
        match missing() {
            None => true,
            Some(what) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must install {what} (see .ci/run)"
                );
                eprintln!("skipping {test}: {what} is not installed (.ci/run installs it)");
                false
            }
        }
    }

    /// One run of the client: its exit code, and the JSON lines it printed.
    #[derive(Debug)]
    pub struct Run {
        /// 0 when every step succeeded, 1 when one failed.
        pub code: Option<i32>,
        /// Every `{"fetch": ..}` record: the HTTP exchanges the SDK made, in order.
        pub fetches: Vec<Value>,
        /// Every `{"step": ..}` record: connect, list, then one call per tool.
        pub steps: Vec<Value>,
    }

    impl Run {
        /// The step record for `tool`'s call.
        pub fn call(&self, tool: &str) -> &Value {
            self.steps
                .iter()
                .find(|step| step["step"] == "call" && step["tool"] == tool)
                .unwrap_or_else(|| panic!("no call of {tool} in {:#?}", self.steps))
        }

        /// The step record named `step` (`connect`, `list`).
        pub fn step(&self, step: &str) -> &Value {
            self.steps
                .iter()
                .find(|record| record["step"] == step)
                .unwrap_or_else(|| panic!("no step {step} in {:#?}", self.steps))
        }
    }

    /// Runs `client.mjs <mcp_url> <issuer> <client> <secret> <scope or -> <tools..>`.
    pub async fn run(
        mcp_url: &str,
        issuer: &str,
        (client, secret): (&str, &str),
        scope: Option<&str>,
        tools: &[&str],
    ) -> Run {
        let mut command = tokio::process::Command::new("node");
        command
            .arg(package().join("client.mjs"))
            .args([mcp_url, issuer, client, secret, scope.unwrap_or("-")])
            .args(tools)
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("the MCP client finishes in time")
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let records: Vec<Value> = stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| {
                    panic!(
                        "not a JSON line: {line:?}; stderr: {}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                })
            })
            .collect();
        let (fetches, steps): (Vec<Value>, Vec<Value>) = records
            .into_iter()
            .partition(|record| record.get("fetch").is_some());
        Run {
            code: output.status.code(),
            fetches: fetches
                .into_iter()
                .map(|record| record["fetch"].clone())
                .collect(),
            steps,
        }
    }
}

/// Debian's `redis-server`, started on a free loopback port for one test.
pub mod redis_server {
    use std::process::Stdio;
    use std::time::Duration;

    use tokio::process::{Child, Command};

    /// Whether `redis-server` can run here. Under CI (`.ci/run` installs it) a missing server fails
    /// the test; elsewhere the test says so and passes.
    pub fn available(test: &str) -> bool {
        let installed = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install redis-server (see .ci/run)"
            );
            eprintln!("skipping {test}: redis-server is not installed (.ci/run installs it)");
        }
        installed
    }

    /// A running server without persistence. Killed when dropped.
    pub struct RedisServer {
        port: u16,
        args: Vec<String>,
        child: Option<Child>,
    }

    impl RedisServer {
        /// Starts a server and waits until it accepts connections.
        pub async fn start() -> RedisServer {
            RedisServer::start_with(&[]).await
        }

        /// Starts a server with extra command-line settings (`["--rename-command", "CONFIG",
        /// ""]`), and waits until it accepts connections.
        pub async fn start_with(args: &[&str]) -> RedisServer {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port();
            let args = args.iter().map(|arg| (*arg).to_owned()).collect();
            let mut server = RedisServer {
                port,
                args,
                child: None,
            };
            server.resume().await;
            server
        }

        /// `redis://127.0.0.1:<port>`.
        pub fn url(&self) -> String {
            format!("redis://127.0.0.1:{}", self.port)
        }

        /// `127.0.0.1:<port>`.
        pub fn address(&self) -> std::net::SocketAddr {
            std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
        }

        /// Sends one command (RESP over a fresh connection) and returns the first line of the
        /// answer, e.g. `+OK`. For settings such as `CONFIG SET maxmemory-policy allkeys-lru`.
        pub async fn command(&self, words: &[&str]) -> String {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut request = format!("*{}\r\n", words.len());
            for word in words {
                request.push_str(&format!("${}\r\n{word}\r\n", word.len()));
            }
            let mut stream = tokio::net::TcpStream::connect(self.address())
                .await
                .expect("redis-server accepts connections");
            stream
                .write_all(request.as_bytes())
                .await
                .expect("command sent");
            let mut answer = vec![0; 4096];
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
                .await
                .expect("redis-server answers in time")
                .expect("answer readable");
            let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
            answer.lines().next().unwrap_or_default().to_owned()
        }

        /// Kills the server (an outage; what it held is lost).
        pub async fn stop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
            }
        }

        /// Starts it again, empty, on the same port.
        pub async fn resume(&mut self) {
            self.stop().await;
            let child = Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(&self.args)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect("redis-server starts");
            self.child = Some(child);
            let address = format!("127.0.0.1:{}", self.port);
            let up = crate::wait_until(Duration::from_secs(10), || {
                std::net::TcpStream::connect(&address).is_ok()
            })
            .await;
            assert!(up, "redis-server listens on {address}");
        }
    }
}

/// A loopback TCP proxy a test controls: it forwards both ways until frozen; frozen, it keeps
/// every socket open and moves no byte (a half-open network path: no error, no data), including
/// on connections accepted meanwhile; thawed, it forwards again. Stops when dropped.
pub mod tcp_proxy {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;

    /// A running proxy to one upstream address.
    pub struct FreezableProxy {
        address: SocketAddr,
        frozen: watch::Sender<bool>,
    }

    impl FreezableProxy {
        /// Listens on a free loopback port and forwards to `upstream`.
        pub async fn start(upstream: SocketAddr) -> FreezableProxy {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("bound address");
            let (frozen, watching) = watch::channel(false);
            tokio::spawn(accept(listener, upstream, watching));
            FreezableProxy { address, frozen }
        }

        /// `redis://` URL of the proxy, for a Redis upstream.
        pub fn redis_url(&self) -> String {
            format!("redis://{}", self.address)
        }

        /// Stops forwarding, keeping every connection open.
        pub fn freeze(&self) {
            self.frozen.send_replace(true);
        }

        /// Forwards again.
        pub fn thaw(&self) {
            self.frozen.send_replace(false);
        }
    }

    async fn accept(
        listener: TcpListener,
        upstream: SocketAddr,
        mut frozen: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((client, _)) = accepted {
                        tokio::spawn(connect(client, upstream, frozen.clone()));
                    }
                }
                changed = frozen.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn connect(client: TcpStream, upstream: SocketAddr, mut frozen: watch::Receiver<bool>) {
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        let Ok(server) = TcpStream::connect(upstream).await else {
            return;
        };
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        tokio::join!(
            pump(client_read, server_write, frozen.clone()),
            pump(server_read, client_write, frozen),
        );
    }

    async fn pump(
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        mut frozen: watch::Receiver<bool>,
    ) {
        let mut buffer = vec![0; 16 * 1024];
        loop {
            if frozen.wait_for(|frozen| !*frozen).await.is_err() {
                return;
            }
            let read = tokio::select! {
                read = from.read(&mut buffer) => read,
                // Frozen while waiting: stop reading (a read is cancel-safe).
                _ = frozen.wait_for(|frozen| *frozen) => continue,
            };
            let Ok(read @ 1..) = read else {
                let _ = to.shutdown().await;
                return;
            };
            // Frozen after the read: hold the bytes until thawed.
            if frozen.wait_for(|frozen| !*frozen).await.is_err() {
                return;
            }
            if to.write_all(&buffer[..read]).await.is_err() {
                return;
            }
        }
    }
}

/// The README's Rust examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The guides under `docs/`, their Rust examples compiled as doctests like the README's.
#[cfg(doctest)]
pub mod guides {
    macro_rules! guides {
        ($($name:ident => $path:literal),+ $(,)?) => {
            $(
                #[doc = include_str!(concat!("../../docs/", $path))]
                pub struct $name;
            )+
        };
    }

    guides!(
        Agents => "agents.md",
        Browsers => "browsers.md",
        Dpop => "dpop.md",
        IntrospectionAndRevocation => "introspection-and-revocation.md",
        Operations => "operations.md",
        OpenApi => "openapi.md",
        Performance => "performance.md",
        Quickstart => "quickstart.md",
        StepUp => "step-up.md",
        Versioning => "versioning.md",
        Providers => "providers/README.md",
        Auth0 => "providers/auth0.md",
        Clerk => "providers/clerk.md",
        CloudflareAccess => "providers/cloudflare-access.md",
        Cognito => "providers/cognito.md",
        Entra => "providers/entra.md",
        Firebase => "providers/firebase.md",
        Keycloak => "providers/keycloak.md",
        Okta => "providers/okta.md",
        Zitadel => "providers/zitadel.md",
    );
}
