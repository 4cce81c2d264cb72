//! Runtime configuration: every setting is a flag and an environment variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "MARGIN_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Database URL (sqlite://… or postgres://…). Default: a SQLite file under ./var/.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Redis URL for the shared cache and progress bus. Unset: in-process cache and bus.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Directory holding the price CSVs and rates/.
    #[arg(long, env = "MARGIN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Apply pending migrations at start.
    #[arg(long, env = "MARGIN_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate: bool,

    /// Comma-separated origins allowed by CORS (exact matches, e.g. https://app.example.com).
    #[arg(long, env = "MARGIN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Largest accepted request body in bytes.
    #[arg(long, env = "MARGIN_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Per-request timeout in seconds.
    #[arg(long, env = "MARGIN_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Deepest selection nesting accepted.
    #[arg(long, env = "MARGIN_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,

    /// Largest query complexity accepted (each field costs 1 unless it says otherwise).
    #[arg(long, env = "MARGIN_MAX_COMPLEXITY", default_value_t = 1000)]
    pub max_complexity: usize,

    /// Points a request from an anonymous caller may cost (see the README, *Cost of a
    /// request*); priced on the document before anything runs.
    #[arg(long, env = "MARGIN_COST_LIMIT_ANONYMOUS", default_value_t = 5_000)]
    pub cost_limit_anonymous: u64,

    /// Points a request from a signed-in session may cost.
    #[arg(long, env = "MARGIN_COST_LIMIT_SIGNED_IN", default_value_t = 20_000)]
    pub cost_limit_signed_in: u64,

    /// Points a request made with an API token may cost.
    #[arg(long, env = "MARGIN_COST_LIMIT_API_TOKEN", default_value_t = 20_000)]
    pub cost_limit_api_token: u64,

    /// Engine runs (`calculate`, `runBacktest`) one request may ask for.
    #[arg(long, env = "MARGIN_MAX_ENGINE_RUNS", default_value_t = 5)]
    pub max_engine_runs: u64,

    /// Most directives allowed on one field.
    #[arg(long, env = "MARGIN_MAX_DIRECTIVES", default_value_t = 5)]
    pub max_directives: usize,

    /// Allow schema introspection (turn off in production if the schema is private).
    #[arg(long, env = "MARGIN_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Serve the GraphiQL playground on GET /graphql.
    #[arg(long, env = "MARGIN_PLAYGROUND", default_value_t = true, action = clap::ArgAction::Set)]
    pub playground: bool,

    /// Directory with GraphiQL's files (`npm ci --prefix playground` installs them into
    /// playground/node_modules). Unset: the playground loads GraphiQL from a CDN.
    #[arg(long, env = "MARGIN_PLAYGROUND_ASSETS")]
    pub playground_assets: Option<PathBuf>,

    /// Seconds between keep-alive messages on subscription sockets.
    #[arg(long, env = "MARGIN_WS_KEEPALIVE_SECS", default_value_t = 15)]
    pub ws_keepalive_secs: u64,

    /// Accounts: a session ends after this many seconds without a request (idle timeout).
    #[arg(long, env = "MARGIN_SESSION_IDLE_SECS", default_value_t = 2 * 60 * 60)]
    pub session_idle_secs: u64,

    /// Accounts: a session ends this many seconds after login, however active (absolute expiry).
    #[arg(long, env = "MARGIN_SESSION_ABSOLUTE_SECS", default_value_t = 24 * 60 * 60)]
    pub session_absolute_secs: u64,

    /// Accounts: allow `register` without an invite (the user then waits for an admin's approval).
    #[arg(long, env = "MARGIN_OPEN_REGISTRATION", default_value_t = false, action = clap::ArgAction::Set)]
    pub open_registration: bool,

    /// Accounts: hours an invite stays redeemable.
    #[arg(long, env = "MARGIN_INVITE_TTL_HOURS", default_value_t = 7 * 24)]
    pub invite_ttl_hours: u64,

    /// Accounts: the window, in seconds, over which failed logins are counted for throttling.
    #[arg(long, env = "MARGIN_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,

    /// Accounts: failed logins for one email within the window before further attempts are refused.
    #[arg(
        long,
        env = "MARGIN_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5
    )]
    pub login_max_failures_per_account: u64,

    /// Accounts: failed logins from one IP address within the window before further attempts are refused.
    #[arg(long, env = "MARGIN_LOGIN_MAX_FAILURES_PER_IP", default_value_t = 20)]
    pub login_max_failures_per_ip: u64,

    /// Accounts: also carry the session in a `__Host-` cookie for browser SPAs (CSRF-defended).
    #[arg(long, env = "MARGIN_SESSION_COOKIE", default_value_t = false, action = clap::ArgAction::Set)]
    pub session_cookie: bool,

    /// Comma-separated IPs of reverse proxies whose X-Forwarded-For is trusted for the client IP
    /// (login audit and per-IP throttling). Empty: the peer address is the client.
    #[arg(long, env = "MARGIN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Margin: allow `calculate` without signing in (stored with no user).
    #[arg(long, env = "MARGIN_ANONYMOUS_CALCULATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub anonymous_calculate: bool,

    /// Margin: allow `runBacktest` without signing in (the session id is the only key to it).
    #[arg(long, env = "MARGIN_ANONYMOUS_BACKTEST", default_value_t = true, action = clap::ArgAction::Set)]
    pub anonymous_backtest: bool,

    /// Margin: saved results per user (at most migration::MAX_SAVED_RESULTS_QUOTA).
    #[arg(long, env = "MARGIN_SAVED_RESULTS_QUOTA", default_value_t = 50)]
    pub saved_results_quota: u32,

    /// Margin: seconds a backtest result stays cached (memory, Redis and the cache table).
    #[arg(long, env = "MARGIN_CACHE_TTL_SECS", default_value_t = 24 * 60 * 60)]
    pub cache_ttl_secs: u64,

    /// Margin: seconds between sweeps that delete expired cache-table rows.
    #[arg(long, env = "MARGIN_CACHE_SWEEP_SECS", default_value_t = 10 * 60)]
    pub cache_sweep_secs: u64,

    /// Margin: megabytes of results kept in the in-process cache (in front of Redis, or in its
    /// place when REDIS_URL is unset).
    #[arg(long, env = "MARGIN_MEMORY_CACHE_MB", default_value_t = 256)]
    pub memory_cache_mb: u64,

    /// Margin: backtests computed at the same time (0: one per CPU).
    #[arg(long, env = "MARGIN_COMPUTE_CONCURRENCY", default_value_t = 0)]
    pub compute_concurrency: usize,

    /// Margin: backtests allowed to wait for a compute slot before RATE_LIMITED.
    #[arg(long, env = "MARGIN_COMPUTE_QUEUE", default_value_t = 256)]
    pub compute_queue: usize,

    /// Margin: progress messages buffered per subscriber; a subscriber further behind is dropped.
    #[arg(long, env = "MARGIN_SUBSCRIPTION_BUFFER", default_value_t = 128)]
    pub subscription_buffer: usize,

    /// Margin: pause this many milliseconds at each progress step of a computation. For demos
    /// and tests of live progress only; keep 0 in production.
    #[arg(long, env = "MARGIN_PROGRESS_STEP_DELAY_MS", default_value_t = 0)]
    pub progress_step_delay_ms: u64,

    /// Sweeps: with REDIS_URL, the Redis Stream their chunks are handed out on; every process
    /// sharing it computes chunks for the others (give replicas that should not the same
    /// Redis a different one).
    #[arg(
        long,
        env = "MARGIN_SWEEP_STREAM",
        default_value = "margin:sweep:chunks"
    )]
    pub sweep_stream: String,

    /// Sweeps: milliseconds a chunk may stay with one process before another reclaims it
    /// (`XAUTOCLAIM`): the first process died, or is too slow to wait for.
    #[arg(long, env = "MARGIN_SWEEP_CLAIM_IDLE_MS", default_value_t = 15_000)]
    pub sweep_claim_idle_ms: u64,

    /// Sweeps: pause this many milliseconds before computing each chunk. For tests that hold
    /// a worker in the middle of a chunk only; keep 0 in production.
    #[arg(long, env = "MARGIN_SWEEP_CHUNK_DELAY_MS", default_value_t = 0)]
    pub sweep_chunk_delay_ms: u64,

    // --- Observability ---
    /// Distinct `operation` label values of the request metrics (the operation name when the
    /// request gives one, else its root fields); later ones are counted as `other`.
    #[arg(long, env = "MARGIN_METRICS_MAX_OPERATIONS", default_value_t = crate::metrics::DEFAULT_MAX_OPERATIONS)]
    pub metrics_max_operations: usize,

    /// Log lines as `text` (colours only on a terminal) or `json` (one object per line).
    #[arg(long, env = "MARGIN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    // --- Connections ---
    /// Seconds a client has to send a request's headers, on a new connection and while a
    /// keep-alive connection waits for its next request (idle connections close after it).
    #[arg(long, env = "MARGIN_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Sockets open at once, WebSockets included (lowered to stay below the process's
    /// descriptor limit). At the cap the connection idle the longest is closed for a new one.
    #[arg(long, env = "MARGIN_MAX_CONNECTIONS", default_value_t = 8192)]
    pub max_connections: usize,

    /// Subscription sockets open at once from one client address (more answer 429).
    #[arg(long, env = "MARGIN_MAX_SOCKETS_PER_ADDRESS", default_value_t = 64)]
    pub max_sockets_per_address: usize,

    /// Subscription sockets open at once for one user (more are closed with 4429 at
    /// `connection_init`).
    #[arg(long, env = "MARGIN_MAX_SOCKETS_PER_USER", default_value_t = 16)]
    pub max_sockets_per_user: usize,

    // --- Rate limits (token buckets; see the README, *Rate limits*; 0 turns one off) ---
    /// Requests per minute for one signed-in user (all their sessions) or one API token.
    #[arg(long, env = "MARGIN_RATE_REQUESTS_PER_MIN", default_value_t = 600)]
    pub rate_requests_per_min: u32,

    /// Requests per minute from one client address without credentials.
    #[arg(
        long,
        env = "MARGIN_RATE_REQUESTS_PER_MIN_ANONYMOUS",
        default_value_t = 300
    )]
    pub rate_requests_per_min_anonymous: u32,

    /// Engine runs (`calculate`, `runBacktest`) per minute for one user or API token.
    #[arg(long, env = "MARGIN_RATE_ENGINE_RUNS_PER_MIN", default_value_t = 120)]
    pub rate_engine_runs_per_min: u32,

    /// Engine runs per minute from one client address without credentials.
    #[arg(
        long,
        env = "MARGIN_RATE_ENGINE_RUNS_PER_MIN_ANONYMOUS",
        default_value_t = 30
    )]
    pub rate_engine_runs_per_min_anonymous: u32,

    /// Seconds of its rate a full bucket holds: how large a burst may be (never less than
    /// one request's engine-run cap).
    #[arg(long, env = "MARGIN_RATE_BURST_SECS", default_value_t = 10)]
    pub rate_burst_secs: u32,

    // --- WebSocket connections and subscriptions ---
    /// Seconds a new subscription socket has to send `connection_init` before it is closed
    /// with 4408.
    #[arg(long, env = "MARGIN_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Milliseconds a checked WebSocket credential is trusted: an operation on the socket
    /// re-checks it (session or token live, user active) when the last check is older, and an
    /// open socket is re-checked this often; a revoked credential closes the socket with 4403.
    #[arg(long, env = "MARGIN_WS_CREDENTIAL_RECHECK_MS", default_value_t = 5000)]
    pub ws_credential_recheck_ms: u64,

    /// Milliseconds between re-reads of a followed session's row by `backtestProgress`, so a
    /// run that finished where the progress bus could not reach us still ends the stream.
    #[arg(long, env = "MARGIN_SUBSCRIPTION_POLL_MS", default_value_t = 5000)]
    pub subscription_poll_ms: u64,
    // Faults: bounded waits on the database.
    /// Faults: milliseconds a request waits for a database connection (an idle one from the
    /// pool, or a new one being opened) before it answers SERVICE_UNAVAILABLE.
    #[arg(long, env = "MARGIN_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000)]
    pub db_acquire_timeout_ms: u64,
    // Operations: run leases and retention.
    /// Operations: seconds a process's lease on the backtest runs it started lasts (renewed
    /// every third of it). A pending or running session whose lease lapsed is marked
    /// interrupted by the next process to look; keep it well above clock skew between replicas.
    #[arg(long, env = "MARGIN_RUN_LEASE_SECS", default_value_t = 60)]
    pub run_lease_secs: u64,

    /// Operations: seconds between retention purges (0: never; run `margin-api purge` instead).
    #[arg(long, env = "MARGIN_PURGE_INTERVAL_SECS", default_value_t = 60 * 60)]
    pub purge_interval_secs: u64,

    /// Operations: days an ended user session (expired, idle, logged out or revoked) is kept
    /// before it is deleted (0: kept forever).
    #[arg(long, env = "MARGIN_RETAIN_ENDED_SESSIONS_DAYS", default_value_t = 7)]
    pub retain_ended_sessions_days: u64,

    /// Operations: days login attempts are kept (never less than the throttling window;
    /// 0: kept forever).
    #[arg(long, env = "MARGIN_RETAIN_LOGIN_ATTEMPTS_DAYS", default_value_t = 90)]
    pub retain_login_attempts_days: u64,

    /// Operations: days finished backtest sessions are kept (0: kept forever). Saved results
    /// hold their own copy of the result and are never deleted by this.
    #[arg(
        long,
        env = "MARGIN_RETAIN_BACKTEST_SESSIONS_DAYS",
        default_value_t = 30
    )]
    pub retain_backtest_sessions_days: u64,

    /// Operations: days used or expired invites are kept (0: kept forever).
    #[arg(long, env = "MARGIN_RETAIN_INVITES_DAYS", default_value_t = 30)]
    pub retain_invites_days: u64,

    /// Operations: rows deleted per statement by the purge, so no table is locked for long
    /// (the expired cache-table rows are deleted in one statement regardless).
    #[arg(long, env = "MARGIN_PURGE_BATCH", default_value_t = 1000)]
    pub purge_batch: u64,
}

/// How the server writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    pub fn ws_keepalive(&self) -> Duration {
        Duration::from_secs(self.ws_keepalive_secs.max(1))
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_init_timeout_secs.max(1))
    }

    /// How long a checked WebSocket credential is trusted (0: re-check every operation).
    pub fn ws_credential_recheck(&self) -> Duration {
        Duration::from_millis(self.ws_credential_recheck_ms)
    }

    pub fn subscription_poll(&self) -> Duration {
        Duration::from_millis(self.subscription_poll_ms.max(10))
    }

    /// How long a request waits for a database connection (at least 100 ms).
    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms.max(100))
    }

    /// The database URL in force: the configured one, or the embedded SQLite default.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| "sqlite://./var/margin.sqlite?mode=rwc".to_string())
    }

    /// A configuration with every default and nothing from the environment: what tests,
    /// the SDL export and tools that build a configuration in code start from, so a
    /// `MARGIN_*` variable in the shell cannot change a test or `schema.graphql`.
    pub fn defaults() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let command = ConfigOnly::command().mut_args(|arg| arg.env(None));
        let matches = command.get_matches_from(["margin-api"]);
        ConfigOnly::from_arg_matches(&matches)
            .expect("every setting has a default")
            .config
    }

    /// The configuration `margin-api serve` would run with: the defaults overridden by the
    /// environment.
    pub fn from_env() -> Self {
        use clap::Parser;
        ConfigOnly::parse_from(["margin-api"]).config
    }
}

#[derive(clap::Parser)]
struct ConfigOnly {
    #[command(flatten)]
    config: Config,
}
