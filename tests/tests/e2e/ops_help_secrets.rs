//! `--help` never prints a password: clap would show the environment values of DATABASE_URL
//! and REDIS_URL. The CLI runs in a child process with those variables set, so the suite's own
//! environment is never changed.

use std::process::Command;

#[test]
fn help_never_shows_a_password_from_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_help_child"))
        .env(
            "DATABASE_URL",
            "postgres://margin:Pg-hunter2@db:5432/margin",
        )
        .env("REDIS_URL", "redis://:Rd-hunter2@cache:6379/")
        .output()
        .expect("help_child runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 help");
    let mut parts: Vec<&str> = stdout.split("\n---\n").collect();
    let parsed = parts.pop().expect("the parsed settings come last");
    assert!(parts.len() >= 2 * 8, "every subcommand's help is checked");
    for help in &parts {
        assert!(
            help.contains("DATABASE_URL"),
            "the settings are listed: {help}"
        );
        assert!(!help.contains("hunter2"), "a password in --help: {help}");
    }
    // And the settings still come from the environment.
    assert_eq!(
        parsed.trim(),
        "database_url=postgres://margin:Pg-hunter2@db:5432/margin"
    );
}
