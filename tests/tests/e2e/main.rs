//! The end-to-end suite as one test binary: the real server on port 0 over HTTP and
//! WebSocket, a fresh database per test, SQLite always and PostgreSQL and Redis when
//! `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set. One module per area; the shared harness
//! (`TestApp`, fresh databases, waiting for events) is the `tests` library.

mod abuse_connections;
mod abuse_cost;
mod abuse_hygiene;
mod abuse_limits;
mod accounts;
mod client_audit;
mod client_connections;
mod client_identity;
mod client_persisted;
mod client_relay;
mod client_support;
mod client_transport;
mod client_typescript;
mod faults_kill;
mod faults_postgres;
mod faults_redis;
mod faults_support;
mod hostile_fuzz;
mod hostile_input;
mod http_surface;
mod import_django;
mod margin_backtests;
mod margin_calculator;
mod margin_progress;
mod margin_saved;
mod margin_support;
mod migrations;
mod ops_cli;
mod ops_help_secrets;
mod ops_interrupted;
mod ops_retention;
mod playground_browser;
mod results_browser;
mod results_out;
mod risk_cli;
mod risk_graphql;
mod scale_queries;
mod schema_snapshot;
mod snapshots;
mod sweep_browser;
mod sweep_cli;
mod sweep_graphql;
mod sweep_replicas;
mod trust_sockets;
mod websocket;
