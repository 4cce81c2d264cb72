//! Writes the returns series of the golden runs to tests/golden/returns.json, the input of
//! tests/golden/generate.py. Run: `cargo run -p engine --example export_returns`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use engine::backtest::run_backtest;
use engine::market::MarketData;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shipped = MarketData::load_dir(&root.join("../data"))?;
    let synthetic = engine::fixtures::case_a_market();
    let mut cases = Vec::new();
    for (name, input) in engine::golden::golden_runs() {
        let data = if name == "case_a" {
            &synthetic
        } else {
            &shipped
        };
        let r = run_backtest(data, &input, &mut |_| {}, &AtomicBool::new(false))?;
        cases.push(serde_json::json!({
            "name": name,
            "input": r.input,
            "dates": r.daily.date[1..],
            "returns": r.daily.daily_return[1..],
        }));
    }
    let out = root.join("tests/golden/returns.json");
    std::fs::write(
        &out,
        serde_json::to_string(&serde_json::json!({ "cases": cases }))?,
    )?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
