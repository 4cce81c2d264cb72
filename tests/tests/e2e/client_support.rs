//! What the npm client tests share: finding an installed client under `clients/`, and `npx`.

use std::path::{Path, PathBuf};

/// `clients/<name>` when `npm ci --prefix clients/<name>` has installed `package` (a path
/// under its `node_modules`); None (the test
/// skips, saying so) when not, unless MARGIN_TEST_REQUIRE_NPM=1 (as `.ci/run` sets), where a
/// missing client fails the test instead.
pub fn installed_client(name: &str, package: &str) -> Option<PathBuf> {
    let required = std::env::var("MARGIN_TEST_REQUIRE_NPM").is_ok_and(|v| v == "1");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../clients")
        .join(name);
    if dir.join("node_modules").join(package).exists() {
        return Some(dir);
    }
    assert!(
        !required,
        "MARGIN_TEST_REQUIRE_NPM=1 but clients/{name} is not installed"
    );
    eprintln!("skipped: needs `npm ci --prefix clients/{name}`");
    None
}

/// Runs `npx args…` in `dir`; fails the test with its output when it fails.
pub async fn npx(dir: &Path, args: &[&str]) {
    let output = tokio::process::Command::new("npx")
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("npx runs");
    assert!(
        output.status.success(),
        "npx {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
