//! Prints every `--help` text of `margin-api` and then the database URL `serve` would use,
//! for the test that sets DATABASE_URL/REDIS_URL on this process only (`ops_help_secrets`),
//! so the suite never changes its own environment. Help texts are separated by a line
//! holding only `---`.

use api::cli::Cli;
use clap::{CommandFactory, Parser};

fn main() {
    let mut command = Cli::command();
    let mut helps = vec![
        command.render_help().to_string(),
        command.render_long_help().to_string(),
    ];
    command.build();
    for sub in command.get_subcommands_mut() {
        if sub.get_name() != "help" {
            helps.push(sub.render_help().to_string());
            helps.push(sub.render_long_help().to_string());
        }
    }
    for help in &helps {
        println!("{help}\n---");
    }
    let cli = Cli::parse_from(["margin-api", "serve"]);
    println!(
        "database_url={}",
        cli.config.database_url.unwrap_or_default()
    );
}
