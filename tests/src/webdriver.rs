//! Just enough of the W3C WebDriver protocol to drive headless Chromium through chromedriver
//! on loopback. (The fantoccini crate would do, but it brings a C TLS stack into the build for
//! a connection that never leaves 127.0.0.1.)

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What a browser test needs: the npm files (`npm ci --prefix playground`), chromium and
/// chromedriver.
pub struct BrowserTools {
    /// `playground/node_modules`, or MARGIN_TEST_PLAYGROUND_ASSETS.
    pub assets: PathBuf,
    pub chromium: String,
    pub chromedriver: String,
}

fn which(program: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
            .map(|path| path.display().to_string())
    })
}

/// The tools, when `asset` (a path under the npm files) and both programs are there. Missing
/// any, the test is skipped with a line saying so, unless MARGIN_TEST_REQUIRE_BROWSER=1 (as
/// `.ci/run` sets), which makes a missing piece a failure.
pub fn browser_tools(asset: &str) -> Option<BrowserTools> {
    let required = std::env::var("MARGIN_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let assets = std::env::var_os("MARGIN_TEST_PLAYGROUND_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../playground/node_modules")
        });
    let found = match (
        assets.join(asset).is_file(),
        which("chromium"),
        which("chromedriver"),
    ) {
        (true, Some(chromium), Some(chromedriver)) => Some(BrowserTools {
            assets,
            chromium,
            chromedriver,
        }),
        _ => None,
    };
    if found.is_none() {
        assert!(
            !required,
            "MARGIN_TEST_REQUIRE_BROWSER=1 but {asset}, chromium or chromedriver is missing"
        );
        eprintln!(
            "skipped: needs `npm ci --prefix playground` ({asset}), chromium and chromedriver"
        );
    }
    found
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: std::path::PathBuf,
}

pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session with the flags this
    /// sandbox needs (no GPU, no sandbox, no background network traffic).
    pub async fn launch(chromium: &str, chromedriver: &str) -> anyhow::Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                bail!("chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("margin-chromium-{}", uuid::Uuid::new_v4()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1400,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        let created = browser
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .await?;
        browser.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {created}"))?
            .to_string();
        Ok(browser)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await?.json().await?;
        if let Some(error) = response["value"].get("error") {
            bail!("webdriver {path}: {error} {}", response["value"]["message"]);
        }
        Ok(response["value"].clone())
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(|_| ())
    }

    /// Waits up to `timeout` for an element matching the CSS selector.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let started = Instant::now();
        loop {
            let found = self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await;
            if let Ok(value) = found
                && let Some(id) = value[ELEMENT_KEY].as_str()
            {
                return Ok(Element(id.to_string()));
            }
            if started.elapsed() > timeout {
                bail!("no element {css} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    pub async fn type_into(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .await
        .map(|_| ())
    }

    pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
        let value = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", element.0),
                None,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// A PNG of one element as drawn.
    pub async fn screenshot(&self, element: &Element) -> anyhow::Result<Vec<u8>> {
        use base64::Engine as _;
        let value = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/screenshot", element.0),
                None,
            )
            .await?;
        let text = value
            .as_str()
            .ok_or_else(|| anyhow!("no screenshot data"))?;
        Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
    }

    pub async fn run_script(&self, script: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub async fn close(mut self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
