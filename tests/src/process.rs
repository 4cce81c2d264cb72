//! The server in a process of its own (`serve_child`, i.e. `margin-api serve`), for the tests
//! that SIGKILL a server (`faults_kill`) or run several replicas as real processes
//! (`sweep_replicas`). Configured through the environment, like `margin-api serve`.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use crate::data_dir;

/// A server process; SIGKILLed on drop.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
}

impl ServerProcess {
    /// Starts `serve_child` on an ephemeral port with the shipped data, the given database,
    /// no Redis unless `env` sets `REDIS_URL`, and `env` on top; returns once it listens.
    pub fn start(serve_child: &str, database_url: &str, env: &[(&str, String)]) -> ServerProcess {
        let mut command = Command::new(serve_child);
        command
            .env("DATABASE_URL", database_url)
            .env("MARGIN_BIND", "127.0.0.1:0")
            .env("MARGIN_DATA_DIR", data_dir())
            .env("MARGIN_MIGRATE", "true")
            .env_remove("REDIS_URL");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving GraphQL on ").nth(1) {
                    let address = rest.trim().trim_end_matches("/graphql").to_string();
                    let _ = tx.send(address);
                } else {
                    eprintln!("server: {line}");
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server says where it listens");
        ServerProcess { child, address }
    }

    /// SIGKILL: the process ends at once, without any of its shutdown steps.
    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
