//! Load-time breakdown per file: `cargo run -p engine --release --example vbench`
use std::path::PathBuf;
use std::time::Instant;
fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    for f in [
        "SPY.csv",
        "VTI.csv",
        "QQQ.csv",
        "rates/DFF.csv",
        "rates/DTB3.csv",
    ] {
        let p = dir.join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let t = Instant::now();
        for _ in 0..20 {
            if f.starts_with("rates") {
                let _ = engine::market::RateSeries::parse_csv("X", f, &text);
            } else {
                let _ = engine::market::Dataset::parse_csv("X", f, &text);
            }
        }
        println!(
            "{f:<16} {:>7} bytes {:>8.3} ms",
            text.len(),
            t.elapsed().as_secs_f64() * 1e3 / 20.0
        );
    }
}
