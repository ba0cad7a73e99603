//! The console in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`). It opens the execution list of a store holding a failed
//! and a succeeded execution, clicks the failed one, and checks that its failed state is drawn
//! as failed and that the failing event is listed. It saves a screenshot to
//! `console-execution.png` in Cargo's scratch directory for tests (`CARGO_TARGET_TMPDIR`,
//! under the target directory wherever `CARGO_TARGET_DIR` puts it), and prints its path.
//!
//!
//! A second test starts the console with a token: it clicks Redrive on the failed execution
//! (the button posts JSON from the console's page), then opens a page of another origin on the
//! same site (another port of 127.0.0.1, to which the token's cookie is sent too) that tries
//! to redrive it with a no-cors fetch and an auto-submitting form: the console refuses both.
//!
//! Without chromedriver on the PATH the tests are skipped, saying so; CI installs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};

mod support;
use support::store;

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The console on a free loopback port, and its address.
fn console(store: &str, args: &[&str]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["--store", store, "serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "console on http://127.0.0.1:PORT/ (Ctrl-C stops it)"
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (Killed(child), address)
}

/// chromedriver on a free port, once it listens.
fn chromedriver() -> Option<(Killed, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let child = Killed(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, format!("http://127.0.0.1:{port}")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not listen on port {port}");
}

#[test]
fn clicking_a_failed_execution_shows_where_it_failed() {
    let Some((_driver, webdriver)) = chromedriver() else {
        let _ = std::io::stderr().write_all(
            b"browser: skipped (install chromium and chromium-driver to run the browser test)\n",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (_console, address) = console(&store, &[]);
    block_on(click_through(&webdriver, &address));
}

fn block_on(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

async fn browser(webdriver: &str) -> fantoccini::Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1100"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .unwrap()
}

async fn click_through(webdriver: &str, address: &str) {
    let browser = browser(webdriver).await;

    browser
        .goto(&format!("{address}/executions"))
        .await
        .unwrap();
    browser
        .find(Locator::LinkText("odd-3"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = browser
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(title, "odd-3 · Halving");

    // The failed state is drawn as failed (red), the state after it as not reached.
    let check = browser
        .find(Locator::Css("svg g[data-state='Check']"))
        .await
        .unwrap();
    assert_eq!(
        check.attr("data-status").await.unwrap().as_deref(),
        Some("failed")
    );
    let stroke = browser
        .find(Locator::Css("svg g[data-state='Check'] rect"))
        .await
        .unwrap()
        .attr("stroke")
        .await
        .unwrap()
        .unwrap_or_default();
    let legend_failed = browser
        .execute(
            "return [...document.querySelectorAll('svg text')].find(t => t.textContent === 'failed').previousElementSibling.getAttribute('stroke')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::json!(stroke),
        legend_failed,
        "drawn in the legend's failed colour"
    );
    let halve = browser
        .find(Locator::Css("svg g[data-state='Halve']"))
        .await
        .unwrap();
    assert_eq!(
        halve.attr("data-status").await.unwrap().as_deref(),
        Some("not reached")
    );

    // The failing event is listed, with its error.
    let failing = browser
        .find(Locator::Css("table.events tr.failed"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        failing.contains("TaskFailed") && failing.contains("Check"),
        "{failing}"
    );
    assert!(failing.contains("CheckError.Odd"), "{failing}");

    let png = browser.screenshot().await.unwrap();
    // Not `<manifest>/../target`: the target directory may be anywhere (CARGO_TARGET_DIR).
    let screenshot =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-execution.png");
    std::fs::write(&screenshot, png).unwrap();
    println!("browser: screenshot in {}", screenshot.display());
    browser.close().await.unwrap();
}

#[test]
fn the_redrive_button_works_and_other_pages_cannot_press_it() {
    let Some((_driver, webdriver)) = chromedriver() else {
        let _ = std::io::stderr().write_all(
            b"browser: skipped (install chromium and chromium-driver to run the browser test)\n",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (_console, address) = console(&store, &["--token", "s3cret"]);
    let forger = forger(&address);
    let requests = || -> i64 {
        rusqlite::Connection::open(dir.path().join("executions.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM requests", [], |row| row.get(0))
            .unwrap()
    };
    block_on(async {
        let browser = browser(&webdriver).await;
        // The token once, in the URL: a cookie after.
        browser
            .goto(&format!("{address}/?token=s3cret"))
            .await
            .unwrap();
        browser
            .goto(&format!("{address}/executions/odd-3"))
            .await
            .unwrap();
        browser
            .find(Locator::XPath("//button[text()='Redrive']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let asked = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//p[contains(., 'redrive requested')]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(asked.contains("workflow Halving"), "{asked}");
        assert_eq!(requests(), 1, "the button's redrive");
        let screenshot =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-redrive.png");
        std::fs::write(&screenshot, browser.screenshot().await.unwrap()).unwrap();
        println!("browser: screenshot in {}", screenshot.display());

        // Another port of the same host: the same site, so the cookie goes along.
        browser.goto(&forger).await.unwrap();
        let refused = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(
                "//*[contains(., \"the console's own pages only\")]",
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(refused.contains(&forger), "{refused}");
        browser.close().await.unwrap();
    });
    assert_eq!(requests(), 1, "a forged request was taken");
    println!("browser: the console's button redrove odd-3; a same-site page's fetch and form were refused");
}

/// A page on another port of 127.0.0.1 that asks the console at `console` to redrive odd-3,
/// with a no-cors fetch and then an auto-submitting form; its address.
fn forger(console: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let target = format!("{console}/api/executions/odd-3/redrive");
    let page = format!(
        r#"<!doctype html><html><body>
<form method="post" action="{target}" enctype="text/plain"><input name='{{"x":"' value='"}}'></form>
<script>
fetch("{target}", {{ method: "POST", mode: "no-cors", credentials: "include",
  headers: {{ "Content-Type": "text/plain" }}, body: "{{}}" }})
  .finally(() => document.forms[0].submit());
</script></body></html>"#
    );
    std::thread::spawn(move || {
        // The page and perhaps a favicon; the thread ends with the test.
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    address
}
