//! Agents: the app from the API authentication document. Cloudflare Access in front; agents and
//! their administrators in SQLite; per-agent roles (owner, admin, viewer) added by a role resolver.
//!
//! ```text
//! cargo run -p examples --bin agents
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CF_TEAM_DOMAIN` | team URL, `https://<team>.cloudflareaccess.com` (unset: embedded issuer) |
//! | `CF_POLICY_AUD` | the Access application's AUD tag |
//! | `DATABASE_PATH` | SQLite file, created and migrated at start (default `agents.db`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! Routes: `GET /api/agents` lists public agents without authentication; `GET /api/agents/{id}`
//! needs viewer, `PUT` admin, `DELETE` owner, on that agent. Users get per-agent roles from
//! `agent_admins(agent_id, email, role)`; Cloudflare service tokens from `agent_services(agent_id,
//! common_name, role)`, where `owner` is never granted, so a machine can read or update an agent
//! but never delete it. `GET /admin` needs an e-mail in `app_admins`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::{HttpResponse, Responder, delete, get, put, web};
use auth_actix::{
    Identity, IdentityKind, JwtAuth, Provider, ResolveError, RoleRequest, Verified, require_role,
};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, required, setting};
use examples::{Carrier, Demo};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

const DEMO_AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

/// The SQLite store, shared by handlers and the role resolver. Queries run on actix's blocking
/// pool.
#[derive(Clone)]
struct Store(Arc<Mutex<Connection>>);

#[derive(Serialize)]
struct Agent {
    id: i64,
    name: String,
    public: bool,
}

#[derive(Deserialize)]
struct AgentUpdate {
    name: String,
}

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT NOT NULL, public INTEGER NOT NULL \
     DEFAULT 0);CREATE TABLE agent_admins (agent_id INTEGER NOT NULL REFERENCES agents(id) ON \
     DELETE CASCADE,email TEXT NOT NULL COLLATE NOCASE,role TEXT NOT NULL CHECK (role IN ('owner', \
     'admin', 'viewer')),PRIMARY KEY (agent_id, email));CREATE TABLE agent_services (agent_id \
     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,common_name TEXT NOT NULL,role TEXT \
     NOT NULL CHECK (role IN ('admin', 'viewer')),PRIMARY KEY (agent_id, common_name));CREATE \
     TABLE app_admins (email TEXT PRIMARY KEY COLLATE NOCASE);",
];

const SEED: &str = "
    INSERT INTO agents (id, name, public) VALUES
        (1, 'support-bot', 1), (2, 'billing-bot', 0), (3, 'ops-bot', 1);
    INSERT INTO agent_admins (agent_id, email, role) VALUES
        (1, 'alice@example.com', 'owner'), (1, 'bob@example.com', 'admin'),
        (1, 'viewer@example.com', 'viewer'),
        (2, 'alice@example.com', 'owner');
    INSERT INTO agent_services (agent_id, common_name, role) VALUES
        (1, 'ci-runner.access', 'viewer');
    INSERT INTO app_admins (email) VALUES ('admin@example.com');";

impl Store {
    fn open(path: &PathBuf) -> Result<Store, String> {
        let fail = |err: rusqlite::Error| format!("DATABASE_PATH={}: {err}", path.display());
        let mut db = Connection::open(path).map_err(fail)?;
        db.execute_batch("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;")
            .map_err(fail)?;
        let applied: usize = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(fail)?;
        let tx = db.transaction().map_err(fail)?;
        for migration in MIGRATIONS.iter().skip(applied) {
            tx.execute_batch(migration).map_err(fail)?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len()))
            .map_err(fail)?;
        let empty: bool = tx
            .query_row("SELECT COUNT(*) = 0 FROM agents", [], |row| row.get(0))
            .map_err(fail)?;
        if empty {
            tx.execute_batch(SEED).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(Store(Arc::new(Mutex::new(db))))
    }

    async fn run<T, F>(&self, query: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let db = Arc::clone(&self.0);
        web::block(move || {
            let db = db.lock().map_err(|_| "database lock poisoned".to_owned())?;
            query(&db).map_err(|err| err.to_string())
        })
        .await
        .map_err(|err| err.to_string())?
    }

    /// The caller's roles on `agent`, widened down the hierarchy (an owner is also admin and
    /// viewer).
    async fn roles(&self, agent: i64, identity: &Identity) -> Result<Vec<String>, String> {
        let (kind, subject, email) = (
            identity.kind,
            identity.subject.clone(),
            identity.email.clone(),
        );
        let role: Option<String> = self
            .run(move |db| match (kind, email) {
                (IdentityKind::Service, _) => db
                    .query_row(
                        "SELECT role FROM agent_services WHERE agent_id = ?1 AND common_name = ?2",
                        params![agent, subject],
                        |row| row.get(0),
                    )
                    .optional(),
                (IdentityKind::User, Some(email)) => db
                    .query_row(
                        "SELECT role FROM agent_admins WHERE agent_id = ?1 AND email = ?2",
                        params![agent, email],
                        |row| row.get(0),
                    )
                    .optional(),
                (IdentityKind::User, None) | (IdentityKind::Unknown, _) => Ok(None),
            })
            .await?;
        let implied: &[&str] = match role.as_deref() {
            Some("owner") => &["owner", "admin", "viewer"],
            Some("admin") => &["admin", "viewer"],
            Some("viewer") => &["viewer"],
            _ => &[],
        };
        Ok(implied.iter().map(|role| (*role).to_owned()).collect())
    }

    async fn is_app_admin(&self, email: Option<String>) -> Result<bool, String> {
        let Some(email) = email else { return Ok(false) };
        self.run(move |db| {
            db.query_row(
                "SELECT COUNT(*) > 0 FROM app_admins WHERE email = ?1",
                [email],
                |row| row.get(0),
            )
        })
        .await
    }
}

/// Per-agent roles for the agent the path names; with no agent in the path, the app-wide admin
/// list.
async fn resolve_roles(request: RoleRequest) -> Result<Vec<String>, ResolveError> {
    let Some(store) = request.app_data::<web::Data<Store>>().cloned() else {
        return Err(ResolveError::Failed("no Store registered".to_owned()));
    };
    let unavailable = |err: String| ResolveError::Unavailable(err);
    match request.param("id").map(|id| id.parse::<i64>()) {
        Some(Ok(agent)) => store
            .roles(agent, request.identity())
            .await
            .map_err(unavailable),
        // Not an agent id: no agent roles, and the handler answers 404 if it gets that far.
        Some(Err(_)) => Ok(Vec::new()),
        None => {
            let app_admin = store
                .is_app_admin(request.identity().email.clone())
                .await
                .map_err(unavailable)?;
            Ok(if app_admin {
                vec!["admin".to_owned()]
            } else {
                Vec::new()
            })
        }
    }
}

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

#[get("/api/agents")]
async fn list_agents(store: web::Data<Store>) -> actix_web::Result<impl Responder> {
    let agents = store
        .run(|db| {
            let mut statement =
                db.prepare("SELECT id, name, public FROM agents WHERE public = 1 ORDER BY id")?;
            let rows = statement.query_map([], |row| {
                Ok(Agent {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    public: row.get(2)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    Ok(web::Json(agents))
}

#[get("/api/agents/{id}")]
#[require_role("viewer")]
async fn get_agent(store: web::Data<Store>, id: web::Path<i64>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let agent = store
        .run(move |db| {
            db.query_row(
                "SELECT id, name, public FROM agents WHERE id = ?1",
                [id],
                |row| {
                    Ok(Agent {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        public: row.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    Ok(agent.map_or_else(
        || HttpResponse::NotFound().finish(),
        |agent| HttpResponse::Ok().json(agent),
    ))
}

#[put("/api/agents/{id}")]
#[require_role("admin")]
async fn update_agent(
    store: web::Data<Store>,
    id: web::Path<i64>,
    update: web::Json<AgentUpdate>,
) -> actix_web::Result<HttpResponse> {
    let (id, name) = (id.into_inner(), update.into_inner().name);
    let changed = store
        .run(move |db| {
            db.execute(
                "UPDATE agents SET name = ?1 WHERE id = ?2",
                params![name, id],
            )
        })
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    Ok(if changed == 0 {
        HttpResponse::NotFound().finish()
    } else {
        HttpResponse::Ok().json(serde_json::json!({"updated": id}))
    })
}

#[delete("/api/agents/{id}")]
#[require_role("owner")]
async fn delete_agent(
    store: web::Data<Store>,
    id: web::Path<i64>,
) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let deleted = store
        .run(move |db| db.execute("DELETE FROM agents WHERE id = ?1", [id]))
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    Ok(if deleted == 0 {
        HttpResponse::NotFound().finish()
    } else {
        HttpResponse::Ok().json(serde_json::json!({"deleted": id}))
    })
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;
    let database =
        PathBuf::from(setting("DATABASE_PATH").unwrap_or_else(|| "agents.db".to_owned()));
    let store = Store::open(&database)?;

    let (provider, demo) = match setting("CF_TEAM_DOMAIN") {
        Some(team) => {
            let aud = required("CF_POLICY_AUD", "the Access application's AUD tag")?;
            (Provider::cloudflare_access(&team, &aud), None)
        }
        None => {
            let demo = Demo::start("agents", bind).await?;
            (
                demo.adopt(Provider::cloudflare_access(
                    "https://demo.cloudflareaccess.com",
                    DEMO_AUD,
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("CF_TEAM_DOMAIN / CF_POLICY_AUD"))?
        .public(["/public", "/api/agents"])
        .role_resolver(resolve_roles);
    auth.warm_up()
        .await
        .map_err(named("CF_TEAM_DOMAIN / CF_POLICY_AUD"))?;

    let data = web::Data::new(store);
    let routes = move |config: &mut web::ServiceConfig| {
        config
            .app_data(data.clone())
            .service(public)
            .service(me)
            .service(admin)
            .service(list_agents)
            .service(get_agent)
            .service(update_agent)
            .service(delete_agent);
    };
    let (server, base) = listen(auth, bind, routes)?;

    if let Some(demo) = &demo {
        let user = |email: &str| demo.token_for(&provider).email(email).subject(email);
        demo.print(
            &base,
            Carrier::Header("Cf-Access-Jwt-Assertion"),
            &user("user@example.com").sign(),
            &user("admin@example.com").sign(),
            &user("user@example.com").expired().sign(),
        );
        let alice = user("alice@example.com").sign();
        let bob = user("bob@example.com").sign();
        let viewer = user("viewer@example.com").sign();
        let service = demo
            .token_for(&provider)
            .subject("")
            .claim("common_name", "ci-runner.access")
            .sign();
        let h = |token: &str| format!("-H 'Cf-Access-Jwt-Assertion: {token}'");
        println!(
            "# agents: the public list, then per-agent roles from SQLite ({})",
            database.display()
        );
        println!("curl -i {base}/api/agents");
        println!("# viewer@example.com views agent 1 (200) but cannot rename it (403)");
        println!("curl -i {} {base}/api/agents/1", h(&viewer));
        println!(
            "curl -i -X PUT -H 'Content-Type: application/json' -d '{{\"name\":\"renamed\"}}' {} \
             {base}/api/agents/1",
            h(&viewer)
        );
        println!(
            "# bob@example.com, admin of agent 1, renames it (200) but cannot delete it (403)"
        );
        println!(
            "curl -i -X PUT -H 'Content-Type: application/json' -d '{{\"name\":\"renamed\"}}' {} \
             {base}/api/agents/1",
            h(&bob)
        );
        println!("curl -i -X DELETE {} {base}/api/agents/1", h(&bob));
        println!("# the ci-runner service token reads agent 1 (200), may never delete (403)");
        println!("curl -i {} {base}/api/agents/1", h(&service));
        println!("curl -i -X DELETE {} {base}/api/agents/1", h(&service));
        println!("# alice@example.com, owner of agent 2, deletes it (200)");
        println!("curl -i -X DELETE {} {base}/api/agents/2", h(&alice));
        println!();
    } else {
        println!("agents: listening on {base}");
    }
    server.await?;
    Ok(())
}
