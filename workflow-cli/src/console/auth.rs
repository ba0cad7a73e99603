//! The console's bearer token: with one configured, every request must carry it, in an
//! `Authorization: Bearer` header or in the cookie set by opening `/?token=...`.

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
        .and_then(|value| value.strip_prefix("Bearer "));
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

/// Compares without stopping at the first difference, so timing says nothing of the token.
fn same(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}
