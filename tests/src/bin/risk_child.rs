//! `margin-api odds` and `margin-api forward-risk` in a process of their own, for the tests
//! that check what the command prints and how it exits (`risk_cli`): the same parsing
//! (`api::cli::Cli`), data loading and error line as the `margin-api` binary, built with the
//! tests so `CARGO_BIN_EXE_risk_child` always exists.

use std::process::ExitCode;

use api::cli::{Cli, Command};
use clap::Parser;

fn run(cli: Cli) -> anyhow::Result<String> {
    let market = engine::MarketData::load_dir(&cli.config.data_dir)?;
    match cli.command {
        Some(Command::Odds(args)) => api::risk_cli::run_odds(market, &args),
        Some(Command::ForwardRisk(args)) => api::risk_cli::run_forward_risk(market, &args),
        _ => anyhow::bail!("risk_child runs `odds` and `forward-risk` only"),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
