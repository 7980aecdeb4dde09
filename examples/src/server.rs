//! Starting an example's app: its log of decisions, and its routes behind its `JwtAuth` on the
//! address `BIND` names.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use auth_actix::JwtAuth;

use crate::settings::cannot_listen;

/// Prints `tracing` events, filtered by `RUST_LOG` (default `info`). Authentication decisions are
/// `tracing` events (target `auth`): without a subscriber, nothing is logged.
pub fn log_decisions() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// Listens on `bind` (read from `BIND`) with the app that wraps `routes` in `auth`, and returns the
/// running server with the base URL it answers on, for the lines printed before it is awaited (with
/// `BIND=127.0.0.1:0`, the port the system chose). `routes` may add app data as well as services.
pub fn listen<F>(auth: JwtAuth, bind: SocketAddr, routes: F) -> Result<(Server, String), String>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let server = HttpServer::new(move || App::new().wrap(auth.clone()).configure(routes.clone()))
        .bind(bind)
        .map_err(cannot_listen("BIND", bind))?;
    let base = format!("http://{}", server.addrs().first().unwrap_or(&bind));
    Ok((server.run(), base))
}

/// As [`listen`], on a listener already bound to the address `BIND` names: for an app whose
/// settings depend on the port the system chose (the MCP example's resource URL with
/// `BIND=127.0.0.1:0`).
pub fn listen_on<F>(
    auth: JwtAuth,
    listener: TcpListener,
    routes: F,
) -> Result<(Server, String), String>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let bind = listener
        .local_addr()
        .map_err(|err| format!("BIND: cannot read the bound address: {err}"))?;
    let server = HttpServer::new(move || App::new().wrap(auth.clone()).configure(routes.clone()))
        .listen(listener)
        .map_err(cannot_listen("BIND", bind))?;
    Ok((server.run(), format!("http://{bind}")))
}
