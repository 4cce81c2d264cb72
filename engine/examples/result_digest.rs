//! One SHA-256 line per run over a broad grid of inputs (every shipped ticker, mode, several
//! leverages, both policies, intraday, slippage, interest models, 360/365, risk-free, short
//! spans), hashing the `Debug` form of the whole result (shortest round-trip floats, so any
//! bit change shows) and the JSON of the typed figures.
//!
//! `cargo run -p engine --release --example result_digest > digests.txt`: run it before and
//! after an optimisation and `diff` the files; performance work must not change a single bit.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use engine::AccountType;
use engine::backtest::{
    BacktestInput, BacktestOptions, InterestModel, LiquidationPolicy, Mode, run_backtest,
};
use engine::figures::{FigureName, FigureOptions, build_figures};
use engine::market::MarketData;
use sha2::{Digest, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let md = MarketData::load_dir(&dir)?;
    let cancel = AtomicBool::new(false);
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).ok_or("date");
    let mut all = Sha256::new();
    let mut runs = 0;
    for ds in md.datasets() {
        let spans = [
            (ds.first_date(), ds.last_date()),
            (date(2007, 6, 1)?, date(2009, 12, 31)?),
            (date(2020, 2, 3)?, date(2020, 2, 28)?),
        ];
        for (start, end) in spans {
            for mode in [
                Mode::LiquidationReentry,
                Mode::FreshCapital,
                Mode::ProfitThreshold,
            ] {
                for (account, leverage) in [
                    (AccountType::RegT, 1.0),
                    (AccountType::RegT, 2.0),
                    (AccountType::Portfolio, 3.0),
                    (AccountType::Portfolio, 1.0 / 0.15),
                ] {
                    for variant in 0..4 {
                        let mut o = BacktestOptions::default();
                        match variant {
                            1 => {
                                o.liquidation_policy = LiquidationPolicy::Restore;
                                o.intraday = true;
                                o.liquidation_slippage_bps = 10.0;
                                o.restore_buffer = 0.05;
                            }
                            2 => {
                                o.interest = InterestModel::Fixed { rate_pct: 7.0 };
                                o.day_count_basis = 360;
                                o.risk_free_rate_pct = 2.0;
                                o.wait_days = 0;
                                o.intraday = true;
                            }
                            3 => {
                                o.interest = InterestModel::TbillPlus { spread_pct: 0.5 };
                                o.liquidation_policy = LiquidationPolicy::Restore;
                                o.maintenance_override = Some(0.3);
                                o.min_equity = 20_000.0;
                                o.tc_bps = 20.0;
                                o.relever_band = 0.8;
                            }
                            _ => {}
                        }
                        let input = BacktestInput {
                            ticker: ds.symbol.clone(),
                            mode,
                            start_date: start,
                            end_date: end,
                            leverage,
                            account_type: account,
                            initial_investment: 100_000.0,
                            profit_threshold_pct: Some(if variant == 3 { 20.0 } else { 100.0 }),
                            options: o,
                        };
                        let label = format!(
                            "{} {start} {end} {mode:?} {account:?} {leverage:.3} v{variant}",
                            ds.symbol
                        );
                        let line = match run_backtest(&md, &input, &mut |_| {}, &cancel) {
                            Ok(r) => {
                                let figs = build_figures(
                                    &r,
                                    &FigureName::ALL,
                                    FigureOptions { max_points: 0 },
                                );
                                let mut h = Sha256::new();
                                h.update(format!("{r:?}"));
                                h.update(serde_json::to_vec(&figs)?);
                                h.update(serde_json::to_vec(&r)?);
                                format!("{label} {}", hex::encode(h.finalize()))
                            }
                            Err(e) => format!("{label} error {e}"),
                        };
                        all.update(&line);
                        println!("{line}");
                        runs += 1;
                    }
                }
            }
        }
    }
    println!("{runs} runs, all {}", hex::encode(all.finalize()));
    Ok(())
}
