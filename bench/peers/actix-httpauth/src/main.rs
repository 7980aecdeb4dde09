//! Peer (a): actix-web-httpauth + jsonwebtoken, keys fetched once. Settings: BIND, JWKS_URL, ISSUER,
//! AUDIENCE. Serves GET /open and GET /protected with the same body as the load target.

use std::collections::HashMap;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    validation: Validation,
}

#[get("/open")]
async fn open() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[get("/protected")]
async fn protected(auth: BearerAuth, keys: web::Data<Keys>) -> HttpResponse {
    let Ok(header) = decode_header(auth.token()) else {
        return HttpResponse::Unauthorized().finish();
    };
    let Some(key) = header.kid.as_deref().and_then(|kid| keys.by_kid.get(kid)) else {
        return HttpResponse::Unauthorized().finish();
    };
    match decode::<serde_json::Value>(auth.token(), key, &keys.validation) {
        Ok(_) => HttpResponse::Ok().body("ok"),
        Err(_) => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let setting = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is required"));
    let jwks: JwkSet = reqwest::get(setting("JWKS_URL"))
        .await
        .and_then(|response| response.error_for_status())
        .expect("JWKS_URL answers")
        .json()
        .await
        .expect("a JWKS");
    let by_kid = jwks
        .keys
        .iter()
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
        .collect();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[setting("ISSUER")]);
    validation.set_audience(&[setting("AUDIENCE")]);
    let keys = web::Data::new(Keys { by_kid, validation });
    HttpServer::new(move || App::new().app_data(keys.clone()).service(open).service(protected))
        .workers(1)
        .backlog(4096)
        .bind(setting("BIND"))?
        .run()
        .await
}
