//! Golden fixtures: every §4 metric against quantstats 0.0.86 / empyrical-reloaded 0.7.1
//! (tests/golden/generate.py), to 1e-9 relative.
mod common;

use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use engine::backtest::run_backtest;
use engine::metrics::{compute, rolling_vol_sharpe};
use serde_json::Value;

const REL: f64 = 1e-9;

fn load(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300) || (a - b).abs() < 1e-15
}

/// Reference key → the engine's metric it must equal (the *Empyrical keys cross-check that
/// both packages agree with the one engine value).
fn engine_key(k: &str) -> &str {
    match k {
        "tailRatioEmpyrical" => "tailRatio",
        "sharpeEmpyrical" => "sharpe",
        "volatilityEmpyrical" => "volatility",
        "maxDrawdownEmpyrical" => "maxDrawdown",
        other => other,
    }
}

#[test]
fn engine_still_produces_the_exported_returns() {
    let exported = load("returns.json");
    let synthetic = engine::fixtures::case_a_market();
    for (name, input) in engine::golden::golden_runs() {
        let data = if name == "case_a" {
            &synthetic
        } else {
            common::shipped()
        };
        let r = run_backtest(data, &input, &mut |_| {}, &AtomicBool::new(false)).unwrap();
        let case = exported["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let want: Vec<f64> = serde_json::from_value(case["returns"].clone()).unwrap();
        let got = &r.daily.daily_return[1..];
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1e-3),
                "{name} row {i}: {g} vs {w}"
            );
        }
    }
}

#[test]
fn metrics_match_quantstats_and_empyrical() {
    let exported = load("returns.json");
    let fixtures = load("fixtures.json");
    let mut checked = 0;
    for case in fixtures["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let src = exported["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let dates: Vec<NaiveDate> = serde_json::from_value(src["dates"].clone()).unwrap();
        let returns: Vec<f64> = serde_json::from_value(src["returns"].clone()).unwrap();
        let m = serde_json::to_value(compute(&dates, &returns, 0.0)).unwrap();
        for (k, want) in case["metrics"].as_object().unwrap() {
            if k == "rolling" {
                let (vol, sh) = rolling_vol_sharpe(&returns, 126);
                for p in want.as_array().unwrap() {
                    let i = p["index"].as_u64().unwrap() as usize;
                    for (label, series) in [("volatility", &vol), ("sharpe", &sh)] {
                        match (series[i], p[label].as_f64()) {
                            (Some(g), Some(w)) => {
                                assert!(close(g, w, REL), "{name} rolling {label}[{i}]: {g} vs {w}")
                            }
                            (g, w) => assert_eq!(g, w, "{name} rolling {label}[{i}]"),
                        }
                        checked += 1;
                    }
                }
                continue;
            }
            let got = &m[engine_key(k)];
            match (got.as_f64(), want.as_f64()) {
                (Some(g), Some(w)) => assert!(
                    close(g, w, REL),
                    "{name} {k}: engine {g:.17e}, reference {w:.17e}"
                ),
                _ => assert!(
                    got.is_null() && want.is_null(),
                    "{name} {k}: engine {got}, reference {want}"
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} values checked");
}
