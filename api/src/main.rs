use std::process::ExitCode;

use api::{
    Application,
    cli::{Cli, Command},
    config::LogFormat,
};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A request allocates and frees thousands of small objects across worker threads, and a
/// result is a few large columns: mimalloc's thread-local free lists serve the first faster
/// than glibc, and it does not make a run pay page faults for memory glibc trimmed after the
/// last one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.config.log_format {
        // One JSON object per line, the span fields (request id, trace id) included.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        // Colour codes only where a person reads them.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(cli.config).await?;
            tracing::info!(address = %app.local_addr(), "serving GraphQL on http://{}/graphql", app.local_addr());
            app.run_until_stopped().await
        }
        Command::Migrate(args) => {
            api::cli::migrate(&cli.config, &args, &mut std::io::stdout().lock()).await
        }
        Command::Purge => api::cli::purge(&cli.config, &mut std::io::stdout().lock())
            .await
            .map(drop),
        Command::Schema => {
            print!("{}", api::graphql::sdl());
            Ok(())
        }
        Command::Backtest(args) => {
            let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
            let output = api::engine_cli::run_backtest(market, &args)?;
            // A CSV file ends with its own line break (CRLF); the other formats do not.
            if output.ends_with('\n') {
                print!("{output}");
            } else {
                println!("{output}");
            }
            Ok(())
        }
        Command::Calculate(args) => {
            let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
            println!("{}", api::engine_cli::run_calculate(&market, &args)?);
            Ok(())
        }
        Command::Odds(args) => {
            let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
            println!("{}", api::risk_cli::run_odds(market, &args)?);
            Ok(())
        }
        Command::ForwardRisk(args) => {
            let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
            println!("{}", api::risk_cli::run_forward_risk(market, &args)?);
            Ok(())
        }
        Command::Sweep(args) => {
            let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
            println!("{}", api::sweep_cli::run_sweep(&market, &args)?);
            Ok(())
        }
        Command::ImportDjango(args) => {
            api::import_django::run(&cli.config, &args, &mut std::io::stdout().lock())
                .await
                .map(drop)
        }
        Command::CreateAdmin {
            email, username, ..
        } => api::cli::create_admin(&cli.config, &email, &username, std::io::stdin().lock()).await,
    }
}
