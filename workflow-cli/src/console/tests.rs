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
    let mut request = Request::get(uri).header(header::HOST, BOUND);
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
    let router = console(store().await, None);

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
    let router = console(store().await, None);
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
                .header(header::HOST, BOUND)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn the_api_answers_in_json() {
    let router = console(store().await, None);
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
async fn the_execution_page_links_its_history_as_step_functions_gives_it() {
    let router = console(store().await, None);
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();

    let (_, page) = get(&router, "/executions/bad", None).await;
    let link = page
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap())
        .find(|href| href.ends_with("/history?format=aws"))
        .unwrap_or_else(|| panic!("no link to the Step Functions history: {page}"));
    assert!(link.starts_with("/api/executions/"), "{link}");

    let (status, body) = get(&router, link, None).await;
    assert_eq!(status, StatusCode::OK);
    let events = json(body)["events"].as_array().unwrap().clone();
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(
        events[0]["executionStartedEventDetails"]["input"],
        serde_json::to_string(SCRIPT).unwrap()
    );
    let failed = events
        .iter()
        .find(|event| event["type"] == "TaskFailed")
        .unwrap();
    assert_eq!(failed["taskFailedEventDetails"]["resource"], "Check");
    assert_eq!(failed["taskFailedEventDetails"]["resourceType"], "rust");
    assert_eq!(
        failed["taskFailedEventDetails"]["error"],
        "ReviewError.Rejected"
    );

    // By name too; the stored shape stays the default.
    let (_, body) = get(&router, "/api/executions/fine/history?format=aws", None).await;
    let last = json(body)["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["executionSucceededEventDetails"]["output"],
        "\"HELLO\""
    );
    let (_, body) = get(&router, "/api/executions/fine/history?format=json", None).await;
    assert_eq!(json(body)[0]["type"], "ExecutionStarted");

    let (status, body) = get(&router, "/api/executions/fine/history?format=yaml", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(body)["error"]
        .as_str()
        .unwrap()
        .contains("json or aws"));
}

#[tokio::test]
async fn with_a_token_every_request_without_it_is_refused() {
    let router = console(store().await, Some("s3cret"));
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
        .oneshot(
            Request::get("/?token=s3cret")
                .header(header::HOST, BOUND)
                .body(Body::empty())
                .unwrap(),
        )
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
                .header(header::HOST, BOUND)
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
    let refused = super::serve(store, "0.0.0.0:0".parse().unwrap(), None, &[])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("give a token"), "{refused}");
}

/// A POST as a script sends it: JSON, no Origin.
async fn post(router: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::post(uri)
        .header(header::HOST, BOUND)
        .header(header::CONTENT_TYPE, "application/json");
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
    let read_only = console(store().await, None);
    let (status, body) = post(&read_only, "/api/executions/bad/redrive", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("read-only"), "{body}");
    let (_, page) = get(&read_only, "/executions/bad", None).await;
    assert!(!page.contains("Redrive</button>"), "no buttons: {page}");

    let store = store().await;
    let router = console(Arc::clone(&store), Some("s3cret"));
    let (status, _) = post(&router, "/api/executions/bad/redrive", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = post(&router, "/api/executions/bad/redrive", Some("s3cret")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let request = store
        .requests()
        .unwrap()
        .request_of(answer["request"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.kind, RequestKind::Redrive);
    assert_eq!(request.workflow, "Review");
    assert_eq!(request.status, RequestStatus::Pending);

    // From the page: a button that posts to the API (the browser test clicks it), then back
    // to the page, which says what was asked.
    let (_, page) = get(&router, "/executions/bad", Some("s3cret")).await;
    assert!(
        page.contains("Redrive</button>") && !page.contains("Stop</button>"),
        "{page}"
    );
    let id = answer_id(&page);
    assert!(
        page.contains(&format!(
            "data-action=\"/api/executions/{id}/redrive\" data-done=\"/executions/{id}?asked=redrive\""
        )),
        "{page}"
    );
    assert!(
        page.contains("'Content-Type': 'application/json'"),
        "{page}"
    );
    let (_, page) = get(&router, "/executions/bad?asked=redrive", Some("s3cret")).await;
    assert!(page.contains("redrive requested"), "{page}");
    // No form posts anywhere.
    let (status, _) = post(&router, "/executions/bad/redrive", Some("s3cret")).await;
    assert!(
        matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ),
        "{status}"
    );

    let (status, _) = post(&router, "/api/executions/bad/explode", Some("s3cret")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn out_of_range_pages_are_refused() {
    let router = console(store().await, None);
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

/// The execution id a page shows (`id <code>...</code>`).
fn answer_id(page: &str) -> String {
    let start = page.find(" · id <code>").unwrap() + " · id <code>".len();
    let end = start + page[start..].find("</code>").unwrap();
    page[start..end].to_owned()
}

/// The address the consoles of these tests listen on, and a name they are told to answer to.
const BOUND: &str = "127.0.0.1:8080";
const ALLOWED: &str = "console.example";

/// A console over `store` bound to [`BOUND`], answering to [`ALLOWED`] too.
fn console(store: Arc<dyn Store>, token: Option<&str>) -> axum::Router {
    let hosts = super::Hosts::new(BOUND.parse().unwrap(), &[ALLOWED.to_owned()]).unwrap();
    super::router(store, hosts, token.map(str::to_owned))
}

/// Sends `method uri` with `headers`; the status and body.
async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = if method == "POST" { "{}" } else { "" };
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

const HOST: (&str, &str) = ("host", BOUND);
const BEARER: (&str, &str) = ("authorization", "Bearer s3cret");
const JSON: (&str, &str) = ("content-type", "application/json");
const SAME_ORIGIN: (&str, &str) = ("origin", "http://127.0.0.1:8080");
const REDRIVE: &str = "/api/executions/bad/redrive";

/// A request a console must refuse: why, which console (with the token or not), and what.
struct Forged {
    why: &'static str,
    token: bool,
    method: &'static str,
    uri: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

const FORGED: &[Forged] = &[
    Forged {
        why: "DNS rebinding: a page of another name reads the console",
        token: false,
        method: "GET",
        uri: "/api/executions/bad",
        headers: &[("host", "evil.example:8080")],
    },
    Forged {
        why: "DNS rebinding, the pages",
        token: false,
        method: "GET",
        uri: "/executions/bad",
        headers: &[("host", "evil.example:8080")],
    },
    Forged {
        why: "a name that starts like the address",
        token: false,
        method: "GET",
        uri: "/",
        headers: &[("host", "127.0.0.1.evil.example:8080")],
    },
    Forged {
        why: "the right name on another port",
        token: false,
        method: "GET",
        uri: "/",
        headers: &[("host", "localhost:9999")],
    },
    Forged {
        why: "no Host at all",
        token: false,
        method: "GET",
        uri: "/",
        headers: &[],
    },
    Forged {
        why: "DNS rebinding with the token",
        token: true,
        method: "GET",
        uri: "/api/executions/bad",
        headers: &[("host", "evil.example:8080"), BEARER],
    },
    Forged {
        why: "a same-site page on another port",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, JSON, ("origin", "http://127.0.0.1:9999")],
    },
    Forged {
        why: "a page of another site",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, JSON, ("origin", "http://evil.example")],
    },
    Forged {
        why: "a sandboxed page (Origin: null)",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, JSON, ("origin", "null")],
    },
    Forged {
        why: "an auto-submitting form",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[
            HOST,
            ("cookie", "workflow_console_token=s3cret"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "http://127.0.0.1:9999"),
        ],
    },
    Forged {
        why: "a no-cors fetch with text/plain",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[
            HOST,
            ("cookie", "workflow_console_token=s3cret"),
            ("content-type", "text/plain;charset=UTF-8"),
            ("origin", "http://127.0.0.1:9999"),
        ],
    },
    Forged {
        why: "text/plain, even from the console's origin",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, ("content-type", "text/plain"), SAME_ORIGIN],
    },
    Forged {
        why: "a multipart form",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[
            HOST,
            BEARER,
            ("content-type", "multipart/form-data; boundary=x"),
        ],
    },
    Forged {
        why: "no content type",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER],
    },
    Forged {
        why: "a cross-site request without Origin",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, JSON, ("sec-fetch-site", "cross-site")],
    },
    Forged {
        why: "a form aimed at the page's old route",
        token: true,
        method: "POST",
        uri: "/executions/bad/redrive",
        headers: &[
            HOST,
            ("cookie", "workflow_console_token=s3cret"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "http://127.0.0.1:9999"),
        ],
    },
    Forged {
        why: "a wrong token",
        token: true,
        method: "GET",
        uri: "/api/executions",
        headers: &[HOST, ("authorization", "Bearer s3cre")],
    },
    Forged {
        why: "a longer token",
        token: true,
        method: "GET",
        uri: "/api/executions",
        headers: &[HOST, ("authorization", "Bearer s3cret0")],
    },
    Forged {
        why: "another scheme",
        token: true,
        method: "GET",
        uri: "/api/executions",
        headers: &[HOST, ("authorization", "Basic s3cret")],
    },
];

/// A request a console must serve, and the status it answers with.
struct Legitimate {
    what: &'static str,
    token: bool,
    method: &'static str,
    uri: &'static str,
    headers: &'static [(&'static str, &'static str)],
    status: StatusCode,
}

const LEGITIMATE: &[Legitimate] = &[
    Legitimate {
        what: "the bound address",
        token: false,
        method: "GET",
        uri: "/",
        headers: &[HOST],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "localhost, on a loopback console",
        token: false,
        method: "GET",
        uri: "/executions",
        headers: &[("host", "localhost:8080")],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "a name in capitals",
        token: false,
        method: "GET",
        uri: "/api/executions",
        headers: &[("host", "LocalHost:8080")],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "an allowed name",
        token: false,
        method: "GET",
        uri: "/api/workflows",
        headers: &[("host", ALLOWED)],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "an allowed name with a port (a proxy's)",
        token: false,
        method: "GET",
        uri: "/",
        headers: &[("host", "console.example:443")],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "a read with the token",
        token: true,
        method: "GET",
        uri: "/api/executions/bad",
        headers: &[HOST, BEARER],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "the scheme in lower case",
        token: true,
        method: "GET",
        uri: "/api/executions/bad",
        headers: &[HOST, ("authorization", "bearer s3cret")],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "the scheme in capitals, two spaces",
        token: true,
        method: "GET",
        uri: "/",
        headers: &[HOST, ("authorization", "BEARER  s3cret")],
        status: StatusCode::OK,
    },
    Legitimate {
        what: "the console's own button",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[
            HOST,
            ("cookie", "workflow_console_token=s3cret"),
            JSON,
            SAME_ORIGIN,
            ("sec-fetch-site", "same-origin"),
        ],
        status: StatusCode::ACCEPTED,
    },
    Legitimate {
        what: "a script (no Origin)",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[HOST, BEARER, JSON],
        status: StatusCode::ACCEPTED,
    },
    Legitimate {
        what: "JSON with a charset, by localhost",
        token: true,
        method: "POST",
        uri: "/api/executions/bad/stop",
        headers: &[
            ("host", "localhost:8080"),
            BEARER,
            ("content-type", "application/json; charset=utf-8"),
            ("origin", "http://localhost:8080"),
        ],
        status: StatusCode::ACCEPTED,
    },
    Legitimate {
        what: "an allowed name behind a TLS proxy",
        token: true,
        method: "POST",
        uri: REDRIVE,
        headers: &[
            ("host", ALLOWED),
            BEARER,
            JSON,
            ("origin", "https://console.example"),
        ],
        status: StatusCode::ACCEPTED,
    },
];

#[tokio::test]
async fn forged_requests_are_refused_and_legitimate_ones_served() {
    let open = console(store().await, None);
    let guarded = console(store().await, Some("s3cret"));
    let router = |token: bool| if token { &guarded } else { &open };
    let mut refused = 0;
    for forged in FORGED {
        let (status, body) = send(
            router(forged.token),
            forged.method,
            forged.uri,
            forged.headers,
        )
        .await;
        assert!(
            matches!(
                status,
                StatusCode::FORBIDDEN
                    | StatusCode::UNAUTHORIZED
                    | StatusCode::MISDIRECTED_REQUEST
                    | StatusCode::UNSUPPORTED_MEDIA_TYPE
            ),
            "{}: {status} {body}",
            forged.why
        );
        assert!(
            !body.contains("Review") && !body.contains("pending"),
            "{}: {body}",
            forged.why
        );
        refused += 1;
    }
    let mut served = 0;
    for legitimate in LEGITIMATE {
        let (status, body) = send(
            router(legitimate.token),
            legitimate.method,
            legitimate.uri,
            legitimate.headers,
        )
        .await;
        assert_eq!(status, legitimate.status, "{}: {body}", legitimate.what);
        served += 1;
    }
    println!("console checks: {refused} forged requests refused, {served} legitimate served");
}

#[tokio::test]
async fn refusals_say_what_to_do() {
    let router = console(store().await, Some("s3cret"));
    let (status, body) = send(&router, "GET", "/", &[("host", "evil.example:8080")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("answers to 127.0.0.1:8080 or localhost:8080, console.example only")
            && body.contains("`evil.example:8080`")
            && body.contains("--allow-host NAME"),
        "{body}"
    );

    let (status, body) = send(
        &router,
        "POST",
        REDRIVE,
        &[HOST, BEARER, JSON, ("origin", "http://127.0.0.1:9999")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("own pages only") && body.contains("http://127.0.0.1:9999"),
        "{body}"
    );

    let (status, body) = send(&router, "POST", REDRIVE, &[HOST, BEARER, SAME_ORIGIN]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body.contains("Content-Type: application/json"), "{body}");
}

#[tokio::test]
async fn an_unreadable_execution_is_shown_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("executions.db");
    let store: Arc<dyn Store> =
        Arc::new(workflow_runtime::store::SqliteStore::open(&path).unwrap());
    let runtime = Runtime::builder()
        .store_arc(Arc::clone(&store))
        .register::<Review>()
        .build()
        .unwrap();
    for name in ["fine", "damaged"] {
        let handle = runtime
            .start_named::<Review>(name, "hello".to_owned())
            .await
            .unwrap();
        handle.result().await.unwrap().unwrap();
    }
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute(
            "UPDATE executions SET status = 'Succeded' WHERE name = 'damaged'",
            [],
        )
        .unwrap();
    connection
        .execute(
            "UPDATE history SET events = '[oops' WHERE execution_key = (SELECT key FROM executions WHERE name = 'damaged')",
            [],
        )
        .unwrap();
    drop(connection);
    let router = console(store, None);
    let (status, page) = get(&router, "/executions", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("fine") && page.contains("damaged"), "{page}");
    assert!(
        page.contains("unreadable") && page.contains("unknown status"),
        "{page}"
    );
    let (status, page) = get(&router, "/executions/damaged", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Its stored history does not read"), "{page}");
    let (status, json) = get(&router, "/api/executions?status=unknown", None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(
        json.contains("damaged") && !json.contains("\"fine\""),
        "{json}"
    );
}
