//! A token read from a cookie counts for same-site requests only.
//!
//! Browsers attach cookies to requests any site makes: a page elsewhere can post a form to the
//! API, or open a WebSocket to it (browsers apply no CORS to WebSockets), and the victim's cookie
//! goes along. A header token is not sent that way, so only cookies are judged here, on every
//! method. The browser says where a request comes from in `Sec-Fetch-Site` (Fetch Metadata) and
//! `Origin`; a request carrying neither is judged by its `Referer` where it has one (browsers send
//! no Fetch Metadata over plain http, and a GET carries no `Origin`), and otherwise (a navigation
//! typed in, a bookmark, curl, another server, a page whose referrer policy strips it) keeps
//! working: handlers that change state answer their own methods (`web::post()`), never a GET.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use auth_core::AuthError;

use crate::request::origin::{self, OriginConfig};

/// Whether a cookie token may act for `req`: `Err` with the rule it breaks, for the log.
pub(crate) fn admit(req: &HttpRequest, config: &OriginConfig) -> Result<(), AuthError> {
    let headers = req.headers();
    let site = single(headers, &SEC_FETCH_SITE)?;
    let origin = single(headers, &header::ORIGIN)?;
    let parsed = origin.and_then(|origin| url::Url::parse(origin).ok().map(|url| url.origin()));
    let listed = parsed
        .as_ref()
        .is_some_and(|origin| config.cookie_origins.contains(origin));
    let seen = || match origin {
        Some(origin) => format!(" (Origin {})", origin::shown(origin)),
        None => " (no Origin)".to_owned(),
    };
    let site = site.map(str::trim);
    let says = |value: &str| site.is_some_and(|site| site.eq_ignore_ascii_case(value));
    if says("cross-site") {
        return Err(refusal(format!(
            "Sec-Fetch-Site is cross-site{}: another site's page sent it, and the browser added \
             the cookie",
            seen()
        )));
    }
    if says("same-site") && !listed {
        return Err(refusal(format!(
            "Sec-Fetch-Site is same-site{} and that origin is not listed with \
             JwtAuth::cookie_origins: a sibling host of the same site is not this service",
            seen()
        )));
    }
    if let Some(site) = site
        && !["same-origin", "same-site", "none"]
            .iter()
            .any(|known| says(known))
    {
        return Err(refusal(format!(
            "Sec-Fetch-Site is {}, none of same-origin, same-site, cross-site or none",
            origin::shown(site)
        )));
    }
    let Some(origin) = origin else {
        // No Fetch Metadata and no Origin: a GET from a browser that sends neither (plain http,
        // older Safari) still says where it came from in `Referer`, unless a referrer policy
        // strips it. Another origin there is another site's page.
        return match (site, single(headers, &header::REFERER)?) {
            (None, Some(referer)) => referred(req, config, referer),
            _ => Ok(()),
        };
    };
    let own = parsed
        .as_ref()
        .is_some_and(|parsed| origin::is_own_origin(req, config, parsed));
    if own || listed {
        return Ok(());
    }
    let this = match &config.public_origin {
        Some(public) => format!("{} (JwtAuth::public_origin)", public.base),
        None => format!(
            "host {}, as no JwtAuth::public_origin is set",
            origin::shown(&origin::own_host(req, config))
        ),
    };
    Err(refusal(format!(
        "Origin {} is neither this service's origin ({this}) nor listed with \
         JwtAuth::cookie_origins",
        origin::shown(origin)
    )))
}

/// A request without `Origin` and Fetch Metadata whose `Referer` names a page: admitted only if
/// that page is this service's or a listed origin's.
fn referred(req: &HttpRequest, config: &OriginConfig, referer: &str) -> Result<(), AuthError> {
    let origin = url::Url::parse(referer).ok().map(|url| url.origin());
    let ours = origin.as_ref().is_some_and(|origin| {
        config.cookie_origins.contains(origin) || origin::is_own_origin(req, config, origin)
    });
    if ours {
        return Ok(());
    }
    Err(refusal(format!(
        "the request carries neither Origin nor Sec-Fetch-Site and its Referer {} names another \
         page than this service's: another site's link or image",
        origin::shown(referer)
    )))
}

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// A header's one value: `None` when absent; refused when repeated or not text, as the browser
/// sends each once.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, AuthError> {
    let mut values = headers.get_all(name);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    match (value.to_str(), values.next()) {
        (Ok(value), None) => Ok(Some(value)),
        _ => Err(refusal(format!("{name} is repeated or not text"))),
    }
}

fn refusal(why: String) -> AuthError {
    AuthError::CrossSiteCookie(format!(
        "a token from a cookie counts for this service's own site only, and {why}; list a front \
         end's origin with JwtAuth::cookie_origins (and set JwtAuth::public_origin behind a \
         proxy), or send the token in the Authorization header"
    ))
}
