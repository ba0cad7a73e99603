//! The console in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`). It opens the execution list of a store holding a failed
//! and a succeeded execution, clicks the failed one, and checks that its failed state is drawn
//! as failed and that the failing event is listed. It saves a screenshot to
//! `console-execution.png` in Cargo's scratch directory for tests (`CARGO_TARGET_TMPDIR`,
//! under the target directory wherever `CARGO_TARGET_DIR` puts it), and prints its path.
//!
//! Without chromedriver on the PATH the test is skipped, saying so; CI installs it.

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
fn console(store: &str) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["--store", store, "serve", "--bind", "127.0.0.1:0"])
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
    let (_console, address) = console(&store);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(click_through(&webdriver, &address));
}

async fn click_through(webdriver: &str, address: &str) {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1100"],
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .unwrap();

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
