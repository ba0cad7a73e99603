//! Every route of the console, over a memory store with a succeeded and a failed execution.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use workflow::prelude::*;
use workflow_runtime::store::{MemoryStore, Store};

#[derive(Debug, thiserror::Error, StepError)]
enum ReviewError {
    #[error("rejected: {0}")]
    Rejected(String),
}

/// Rejects any text with a `<`, quoting it in the error.
#[step]
async fn review(text: String) -> Result<String, ReviewError> {
    if text.contains('<') {
        return Err(ReviewError::Rejected(text));
    }
    Ok(text.to_uppercase())
}

workflow! {
    /// Reviews a text.
    Review: Standard<String, String> {
        start Check;
        Check: task review -> end;
    }
}

const SCRIPT: &str = "<script>alert('x')</script>";

async fn store() -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Runtime::builder()
        .store_arc(Arc::clone(&store))
        .register::<Review>()
        .build()
        .unwrap();
    let fine = runtime
        .start_named::<Review>("fine", "hello".to_owned())
        .await
        .unwrap();
    fine.result().await.unwrap().unwrap();
    let bad = runtime
        .start_named::<Review>("bad", SCRIPT.to_owned())
        .await
        .unwrap();
    assert!(bad.result().await.unwrap().is_err());
    store
}

async fn get(router: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn pages_show_workflows_executions_and_histories() {
    let router = super::router(store().await, None);

    let (status, page) = get(&router, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<h2>Review</h2>") && page.contains("<svg"),
        "{page}"
    );

    let (status, page) = get(&router, "/executions", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(">fine</a>") && page.contains(">bad</a>"),
        "{page}"
    );
    let (_, failed) = get(&router, "/executions?status=failed", None).await;
    assert!(
        failed.contains(">bad</a>") && !failed.contains(">fine</a>"),
        "{failed}"
    );
    let (status, _) = get(&router, "/executions?status=weird", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, page) = get(&router, "/executions/bad", None).await;
    assert_eq!(status, StatusCode::OK);
    // The failed state is drawn as failed, and the failing event is listed with its error.
    assert!(page.contains("<svg"), "{page}");
    assert!(page.contains("TaskFailed"), "{page}");
    assert!(page.contains("ReviewError.Rejected"), "{page}");
    // A finished execution does not refresh itself.
    assert!(!page.contains("http-equiv=\"refresh\""));

    let (status, page) = get(&router, "/executions/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("no execution with the id or name"), "{page}");
}

#[tokio::test]
async fn payloads_are_shown_as_text() {
    let router = super::router(store().await, None);
    for uri in ["/executions/bad", "/executions?status=failed"] {
        let (_, body) = get(&router, uri, None).await;
        assert!(!body.contains("<script>"), "{uri}: {body}");
    }
    let (_, page) = get(&router, "/executions/bad", None).await;
    assert!(page.contains("&lt;script&gt;alert"), "{page}");
    // The API returns the payload as it is, as JSON, which no browser runs.
    let response = router
        .clone()
        .oneshot(
            Request::get("/api/executions/bad")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn the_api_answers_in_json() {
    let router = super::router(store().await, None);
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();

    let (status, body) = get(&router, "/api/workflows", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(body)[0]["workflow"], "Review");

    let (_, body) = get(&router, "/api/executions?status=succeeded", None).await;
    let listed = json(body);
    assert_eq!(listed["executions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["executions"][0]["output"], "HELLO");
    assert_eq!(listed["more"], false);

    let (_, body) = get(&router, "/api/executions/bad", None).await;
    let bad = json(body);
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["error"], "ReviewError.Rejected");

    let (_, body) = get(&router, "/api/executions/fine/history", None).await;
    let events = json(body);
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["type"],
        "ExecutionSucceeded"
    );

    let (status, body) = get(&router, "/api/executions/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json(body)["error"].as_str().unwrap().contains("nobody"));
}

#[tokio::test]
async fn with_a_token_every_request_without_it_is_refused() {
    let router = super::router(store().await, Some("s3cret".to_owned()));
    for uri in [
        "/",
        "/executions",
        "/executions/bad",
        "/api/workflows",
        "/api/executions",
        "/api/executions/bad",
        "/api/executions/bad/history",
    ] {
        let (status, _) = get(&router, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, _) = get(&router, uri, Some("wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, _) = get(&router, uri, Some("s3cret")).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }

    // A browser: the token in the URL once, a cookie after.
    let response = router
        .clone()
        .oneshot(Request::get("/?token=s3cret").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let response = router
        .clone()
        .oneshot(
            Request::get("/executions")
                .header(header::COOKIE, pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn binding_beyond_loopback_needs_a_token() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let refused = super::serve(store, "0.0.0.0:0".parse().unwrap(), None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("give a token"), "{refused}");
}

async fn post(router: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::post(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    (status, location.unwrap_or(body))
}

#[tokio::test]
async fn stop_and_redrive_are_asked_only_with_the_token() {
    use workflow_runtime::store::{RequestKind, RequestStatus};

    // Without a token the console is read-only.
    let read_only = super::router(store().await, None);
    let (status, body) = post(&read_only, "/api/executions/bad/redrive", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("read-only"), "{body}");
    let (_, page) = get(&read_only, "/executions/bad", None).await;
    assert!(!page.contains("Redrive</button>"), "no buttons: {page}");

    let store = store().await;
    let router = super::router(Arc::clone(&store), Some("s3cret".to_owned()));
    let (status, _) = post(&router, "/api/executions/bad/redrive", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = post(&router, "/api/executions/bad/redrive", Some("s3cret")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let request = store
        .request_of(answer["request"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.kind, RequestKind::Redrive);
    assert_eq!(request.workflow, "Review");
    assert_eq!(request.status, RequestStatus::Pending);

    // From the page: a form, then back to the page, which says what was asked.
    let (_, page) = get(&router, "/executions/bad", Some("s3cret")).await;
    assert!(
        page.contains("Redrive</button>") && !page.contains("Stop</button>"),
        "{page}"
    );
    let (status, location) = post(&router, "/executions/bad/redrive", Some("s3cret")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/executions/bad?asked=redrive");
    let (_, page) = get(&router, &location, Some("s3cret")).await;
    assert!(page.contains("redrive requested"), "{page}");

    let (status, _) = post(&router, "/api/executions/bad/explode", Some("s3cret")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn out_of_range_pages_are_refused() {
    let router = super::router(store().await, None);
    for uri in [
        "/executions?page=18446744073709551615",
        "/api/executions?page=18446744073709551615",
        "/executions?page=9223372036854775807",
        "/api/executions?page=184467440737095516",
    ] {
        let (status, body) = get(&router, uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains("out of range"), "{uri}: {body}");
    }
    let (status, _) = get(&router, "/api/executions?page=1", None).await;
    assert_eq!(status, StatusCode::OK);
}
