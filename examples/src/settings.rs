//! Reading the examples' settings from the environment, and naming the variable in every error
//! about one. Each example states its own variables, defaults and messages; what is written here
//! is only how they are read and reported, the same for every example.
//!
//! ```no_run
//! use auth_actix::{JwtAuth, Provider};
//! use examples::settings::{address, named, required, setting};
//!
//! # fn main() -> Result<(), String> {
//! let bind = address("BIND", "127.0.0.1:8080")?;
//! if let Some(issuer) = setting("AUTH_ISSUER") {
//!     let audience = required("AUTH_AUDIENCE", "the aud your API's tokens carry")?;
//!     let provider = Provider::oidc(issuer).audience(audience);
//!     let auth = JwtAuth::new(provider).map_err(named("AUTH_ISSUER / AUTH_AUDIENCE"))?;
//!     // ... HttpServer::new(..).bind(bind).map_err(cannot_listen("BIND", bind))?
//! #   let _ = (bind, auth);
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt::Display;
use std::net::SocketAddr;

use auth_actix::{ConfigError, Provider};

/// The environment variable `name`, trimmed; empty (or blank) counts as unset, so `NAME=` in a
/// shell or an env file means the default rather than a value nothing could accept.
pub fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// A variable that must be set once the provider is configured; the error names it and says
/// `what` to write there: `NAME is not set: what`.
pub fn required(name: &str, what: &str) -> Result<String, String> {
    setting(name).ok_or_else(|| format!("{name} is not set: {what}"))
}

/// The listen address in the variable `name`, or `default`: `NAME: <why it is no address>`.
pub fn address(name: &str, default: &str) -> Result<SocketAddr, String> {
    setting(name)
        .unwrap_or_else(|| default.to_owned())
        .parse()
        .map_err(|err| format!("{name}: {err}"))
}

/// The generic OIDC provider of the quickstart and the OpenAPI example: the issuer `AUTH_ISSUER`
/// (unset: `None`, the example's demo), the audience `AUTH_AUDIENCE`, and the key set
/// `AUTH_JWKS_URL` when discovery should not be asked for it.
pub fn oidc_provider() -> Result<Option<Provider>, String> {
    let Some(issuer) = setting("AUTH_ISSUER") else {
        return Ok(None);
    };
    let audience = required("AUTH_AUDIENCE", "give the aud your API's tokens carry")?;
    let provider = Provider::oidc(issuer).audience(audience);
    Ok(Some(match setting("AUTH_JWKS_URL") {
        Some(jwks) => provider.jwks_url(jwks),
        None => provider,
    }))
}

/// The items of a comma-separated setting, trimmed, empty ones left out (a trailing comma is no
/// item).
pub fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// An error about the settings `variables` (one variable, or several as `A / B`), prefixed with
/// them so the reader knows what to change: `A / B: <error>`. For `map_err`.
pub fn named<E: Display>(variables: &str) -> impl Fn(E) -> String + '_ {
    move |err| format!("{variables}: {err}")
}

/// A refused setting, prefixed with the variable it came from, which `variable_of` tells from the
/// [`ConfigError::setting`] at fault. For `map_err`, where one call can refuse several variables.
pub fn named_by(variable_of: fn(&str) -> &'static str) -> impl Fn(ConfigError) -> String {
    move |err| format!("{}: {err}", variable_of(&err.setting))
}

/// The error of listening on `address`, read from the variable `name`:
/// `NAME=<address>: cannot listen there: <why>`. For `map_err`.
pub fn cannot_listen(
    name: &str,
    address: SocketAddr,
) -> impl FnOnce(std::io::Error) -> String + '_ {
    move |err| format!("{name}={address}: cannot listen there: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_drops_blanks_and_trims() {
        assert_eq!(
            list(" a, b ,,c,").collect::<Vec<_>>(),
            ["a", "b", "c"],
            "items trimmed, empty ones dropped"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let address: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(
            cannot_listen("BIND", address)(std::io::Error::other("in use")),
            "BIND=127.0.0.1:80: cannot listen there: in use"
        );
        assert_eq!(named("A / B")("wrong"), "A / B: wrong");
    }
}
