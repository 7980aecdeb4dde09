//! The answers of the test issuer's server: a JSON body with its status, cacheable for a while
//! where the test asked for it. Every endpoint answers through it, the token endpoint's included.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// An `application/json` answer, with `Cache-Control: public, max-age=<max_age>` when given.
pub(super) fn reply(
    status: StatusCode,
    max_age: Option<u64>,
    body: String,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(max_age) = max_age
        && let Ok(value) =
            hyper::header::HeaderValue::from_str(&format!("public, max-age={max_age}"))
    {
        headers.insert(hyper::header::CACHE_CONTROL, value);
    }
    response
}
