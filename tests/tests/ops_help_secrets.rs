//! `--help` never prints a password: clap would show the environment values of DATABASE_URL
//! and REDIS_URL. One test in its own binary, since it sets process environment variables.

use api::cli::Cli;
use clap::CommandFactory;

#[test]
fn help_never_shows_a_password_from_the_environment() {
    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var(
            "DATABASE_URL",
            "postgres://margin:Pg-hunter2@db:5432/margin",
        );
        std::env::set_var("REDIS_URL", "redis://:Rd-hunter2@cache:6379/");
    }
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
    assert!(helps.len() >= 2 * 8, "every subcommand's help is checked");
    for help in &helps {
        assert!(
            help.contains("DATABASE_URL"),
            "the settings are listed: {help}"
        );
        assert!(!help.contains("hunter2"), "a password in --help: {help}");
    }
    // And the settings still come from the environment.
    let cli = <Cli as clap::Parser>::try_parse_from(["margin-api", "serve"]).unwrap();
    assert_eq!(
        cli.config.database_url.as_deref(),
        Some("postgres://margin:Pg-hunter2@db:5432/margin")
    );
}
