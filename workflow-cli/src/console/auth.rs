//! The console's bearer token: with one configured, every request must carry it, in an
//! `Authorization: Bearer` header (the scheme in any case) or in the cookie set by opening
//! `/?token=...`. Tokens are compared in constant time.

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

const COOKIE_NAME: &str = "workflow_console_token";

/// `routes`, refusing every request without `token` when there is one.
pub(super) fn guard(routes: Router, token: Option<String>) -> Router {
    match token {
        None => routes,
        Some(token) => routes.layer(middleware::from_fn(move |request: Request, next: Next| {
            let token = token.clone();
            async move { check(&token, request, next).await }
        })),
    }
}

async fn check(token: &str, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
        .next();
    if bearer.is_some_and(|given| same(given, token))
        || cookie.is_some_and(|given| same(given, token))
    {
        return next.run(request).await;
    }
    // A browser opening a link with the token: keep it in a cookie and drop it from the URL.
    let query = request.uri().query().unwrap_or_default();
    let given = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("token="))
        .next();
    if given.is_some_and(|given| same(given, token)) {
        let cookie = format!("{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/");
        let location = request.uri().path().to_owned();
        return (
            StatusCode::SEE_OTHER,
            [(SET_COOKIE, cookie), (LOCATION, location)],
        )
            .into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [("www-authenticate", "Bearer")],
        "this console needs its token: send `Authorization: Bearer <token>`, or open /?token=<token> once\n",
    )
        .into_response()
}

/// The credentials of an `Authorization: Bearer` header; the scheme is case-insensitive, and
/// one or more spaces may follow it (RFC 9110).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim_start_matches(' '))
}

/// Compares in constant time, lengths included: the digests of both are compared, so how long
/// a refusal takes says nothing of the token.
fn same(given: &str, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(token.as_bytes()))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER   abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cre", "s3cret"));
        assert!(!same("s3cret0", "s3cret"));
        assert!(!same("", "s3cret"));
        assert!(!same("S3cret", "s3cret"));
    }
}
