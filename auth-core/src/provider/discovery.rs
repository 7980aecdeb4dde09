//! The startup check of a preset that fetches its keys from a JWKS URL, skipping discovery: the
//! provider's own discovery document must name the issuer configured, or every token (which carries
//! the document's issuer) would be refused, one request at a time, with nothing said at startup.
//! Auth0 on a custom domain is the usual case.

use std::time::Duration;

use serde::Deserialize;

use crate::checks::issuer::IssuerMatch;
use crate::error::ConfigError;
use crate::keys::fetch;

/// Where a provider publishes its discovery document, and how to fetch it.
#[derive(Debug)]
pub(crate) struct IssuerDocument {
    pub(crate) url: String,
    pub(crate) client: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) max_bytes: usize,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
}

impl IssuerDocument {
    /// Reads the document once and compares its `issuer` with the configured one: a mismatch is a
    /// [`ConfigError`] naming both. A document that cannot be read is only logged: it says nothing
    /// about the issuer, and the keys (fetched separately) decide whether requests can be served.
    pub(crate) async fn check(&self, name: &str, issuer: &IssuerMatch) -> Result<(), ConfigError> {
        let url = &self.url;
        let unread = |reason: &dyn std::fmt::Display| {
            tracing::warn!(
                target: "auth",
                url,
                %reason,
                "could not read the provider's discovery document to check the configured issuer; \
                 a wrong issuer will show as refused tokens"
            );
        };
        let body = match fetch::get(&self.client, url, self.timeout, self.max_bytes).await {
            Ok(fetched) => fetched.body,
            Err(error) => {
                unread(&error);
                return Ok(());
            }
        };
        let document: Document = match serde_json::from_slice(&body) {
            Ok(document) => document,
            Err(error) => {
                unread(&format_args!("not a discovery document: {error}"));
                return Ok(());
            }
        };
        let configured = issuer.discovery_issuer();
        let names_it = match issuer {
            IssuerMatch::Exact(issuers) => issuers.contains(&document.issuer),
            IssuerMatch::Tenants { .. } => document.issuer == configured,
        };
        if names_it {
            return Ok(());
        }
        Err(ConfigError::new(
            format!("{name}: issuer"),
            format!(
                "the provider's discovery document {url} names issuer {:?}, but {configured:?} is \
                 configured: its tokens carry the document's issuer in `iss`, so every one would \
                 be refused. Configure the domain the tokens are issued by (with a custom domain, \
                 the custom domain, exactly as the document writes it)",
                crate::error::truncated(&document.issuer)
            ),
        ))
    }
}
