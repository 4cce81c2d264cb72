//! Test harness: the real server on an ephemeral port, against a fresh SQLite file or a
//! fresh PostgreSQL database (when `TEST_DATABASE_URL` is set), with Redis when
//! `TEST_REDIS_URL` is set.

pub mod process;
pub mod rows;
pub mod socket;
pub mod webdriver;

use std::{future::Future, path::PathBuf, time::Duration};

use api::{Application, Config, app::ShutdownHandle};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub database_url: String,
    /// The server's own state, for tests that wait on an internal event.
    pub state: api::state::AppState,
    shutdown: ShutdownHandle,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A configuration for tests: port 0, the shipped data, the given database, no signals.
pub fn test_config(database_url: String) -> Config {
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".parse().expect("static address");
    config.database_url = Some(database_url);
    config.data_dir = data_dir();
    config.redis_url = redis_url();
    config.playground_assets = None;
    config.cors_origins = vec![];
    // Tests fire dozens of requests at once on a slow, shared machine to prove what the
    // serialisation guarantees; queueing for a connection there is not an outage. Fault
    // tests that prove the outage answer put the shipped 2 s back.
    config.db_acquire_timeout_ms = 30_000;
    // Every test client is 127.0.0.1, and tests fire requests and sockets in bursts: the
    // rate limits and socket caps are off here and on in the tests that prove them.
    config.rate_requests_per_min = 0;
    config.rate_requests_per_min_anonymous = 0;
    config.rate_engine_runs_per_min = 0;
    config.rate_engine_runs_per_min_anonymous = 0;
    config.max_sockets_per_address = usize::MAX;
    config.max_sockets_per_user = usize::MAX;
    // Every app with Redis runs a sweep worker: each test's apps read a stream of their own,
    // so no test computes (or strands, when it stops) another test's chunks.
    config.sweep_stream = unique_sweep_stream();
    config
}

/// A sweep chunk stream no other test uses.
pub fn unique_sweep_stream() -> String {
    format!("margin:test:{}:sweep:chunks", uuid::Uuid::new_v4().simple())
}

/// A fresh, empty database on `backend`; None (with a note on stderr) when PostgreSQL is not
/// configured.
pub async fn fresh_database(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("margin-api-tests");
            std::fs::create_dir_all(&dir).expect("temp dir is writable");
            let file = dir.join(format!("{}.sqlite", uuid::Uuid::new_v4()));
            Some(format!("sqlite://{}?mode=rwc", file.display()))
        }
        Backend::Postgres => {
            let Some(admin_url) = postgres_url() else {
                eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
                return None;
            };
            let name = format!("margin_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("TEST_DATABASE_URL is reachable");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("can create a test database");
            admin.close().await.ok();
            Some(replace_database_name(&admin_url, &name))
        }
    }
}

fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let database_url = fresh_database(backend).await?;
        let mut config = test_config(database_url.clone());
        adjust(&mut config);
        Some(Self::start(backend, config).await)
    }

    pub async fn start(backend: Backend, config: Config) -> TestApp {
        let database_url = config.database_url();
        let app = Application::build(config)
            .await
            .expect("application builds");
        let address = format!("http://{}", app.local_addr());
        let shutdown = app.shutdown_handle();
        let db = app.state().db.clone();
        let state = app.state().clone();
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            backend,
            address,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client builds"),
            db,
            database_url,
            state,
            shutdown,
            server,
        }
    }

    /// Another server process on the same database (as a second replica would be), with
    /// migrations left to the first and `adjust` applied to its configuration.
    pub async fn replica(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(self.database_url.clone());
        config.migrate = false;
        config
            .sweep_stream
            .clone_from(&self.state.config.sweep_stream);
        adjust(&mut config);
        Self::start(self.backend, config).await
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.address.replacen("http", "ws", 1))
    }

    /// GETs a path of the server (`/livez`, `/metrics`): the response, whatever its status.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the GET reaches the server")
    }

    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn post_graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request is sent");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The JSON body of a GraphQL request that the server answered as GraphQL (200, or 400
    /// for a request refused before execution); any other status fails the test.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let (status, body) = self.post_graphql(query, variables, token).await;
        assert!(
            status == 200 || status == 400,
            "unexpected status {status}: {body}"
        );
        body
    }

    /// `data` of a request that must succeed.
    pub async fn ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.gql(query, variables, token).await;
        assert!(body.get("errors").is_none(), "expected success, got {body}");
        body["data"].clone()
    }

    /// Signs in through the `login` mutation and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql(
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                json!({"e": email, "p": password}),
                None,
            )
            .await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {email} failed: {body}"))
            .to_string()
    }

    /// A new API token with `scopes` (GraphQL list syntax, e.g. `[READ, WRITE]`), created by
    /// the holder of `bearer`.
    pub async fn api_token(&self, bearer: &str, scopes: &str) -> String {
        let query =
            format!("mutation {{ createApiToken(name: \"test\", scopes: {scopes}) {{ token }} }}");
        let data = self.ok(&query, json!({}), Some(bearer)).await;
        data["createApiToken"]["token"]
            .as_str()
            .expect("the new token")
            .to_string()
    }

    /// A query expected to succeed: returns `data`, panicking with the errors otherwise.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post_graphql(query, variables, None).await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "query failed ({status}): {body}"
        );
        body["data"].clone()
    }

    pub async fn stop(self) {
        self.shutdown.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        self.db.close().await.ok();
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }
}

/// Runs `test` against a fresh server on SQLite, then on PostgreSQL when configured.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    on_each_backend_with(|_| {}, test).await
}

/// [`on_each_backend`] with the configuration adjusted for each server.
pub async fn on_each_backend_with<F, Fut>(adjust: impl Fn(&mut Config), test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(app) = TestApp::spawn_with(backend, &adjust).await {
            test(app).await;
        }
    }
}

/// Waits for `condition` to hold, checking every 20 ms, and fails the test after 30 s: for
/// events the server has no notification for (a background task finishing), never as a
/// delay that hopes something has happened.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The async form of [`wait_until`], for conditions read from the database or over HTTP.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `extensions.code` of the first error of a response body.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// The database row behind a global id the API hands out (`base64url("User:42")` → 42), for
/// tests that go on to read or write that row directly.
pub fn row_id(global_id: &str) -> i64 {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global_id)
        .unwrap_or_else(|_| panic!("{global_id:?} is a global id"));
    let text = String::from_utf8(bytes).expect("a global id is text");
    let (_, key) = text.split_once(':').expect("a global id is Type:key");
    key.parse().expect("a row-keyed global id")
}

#[cfg(test)]
mod tests {
    use super::replace_database_name;

    #[test]
    fn swaps_the_database_of_a_postgres_url() {
        assert_eq!(
            replace_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database_name("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
