//! The server in a process of its own, for the tests that SIGKILL it (`faults_kill`): what
//! `margin-api serve` runs (`Application::build` with the configuration from the
//! environment), built with the tests so `CARGO_BIN_EXE_serve_child` always exists. Prints
//! "serving GraphQL on http://ADDR/graphql" on stderr once it listens.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = api::Application::build(api::Config::from_env()).await?;
    eprintln!("serving GraphQL on http://{}/graphql", app.local_addr());
    app.run_until_stopped().await
}
