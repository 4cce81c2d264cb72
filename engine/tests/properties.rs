//! Property tests (issue item 5) over random valid inputs and random price paths.

use std::sync::atomic::AtomicBool;

use chrono::{Duration, NaiveDate};
use engine::AccountType;
use engine::backtest::{
    BacktestInput, BacktestOptions, BacktestResult, EventKind, InterestModel, LiquidationPolicy,
    Mode, Status, cache_key, normalize, run_backtest,
};
use engine::market::{Columns, Dataset, MarketData, RateSeries};
use engine::metrics::{compute, mean, rolling_vol_sharpe, std};
use proptest::prelude::*;
use serde_json::Value;

/// One day of a random path: close-to-close return, open gap, intraday dip below, pays dividend.
type Move = (f64, f64, f64, bool);

fn market(moves: &[Move], rate: f64) -> MarketData {
    let start = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
    let dates = engine::fixtures::business_days(start, moves.len() + 1);
    let (mut close, mut open, mut low, mut div) = (vec![100.0], vec![100.0], vec![99.0], vec![0.0]);
    for &(ret, gap, dip, pays) in moves {
        let prev = close[close.len() - 1];
        let c = (prev * (1.0 + ret)).max(0.01);
        let o = (prev * (1.0 + gap)).max(0.01);
        close.push(c);
        open.push(o);
        low.push(c.min(o) * (1.0 - dip));
        div.push(if pays { c * 0.004 } else { 0.0 });
    }
    let high: Vec<f64> = close.iter().zip(&open).map(|(c, o)| c.max(*o)).collect();
    let cols = Columns {
        dates: dates.clone(),
        open: Some(open),
        high: Some(high),
        low: Some(low),
        close,
        dividends: Some(div),
        ..Default::default()
    };
    let ds = Dataset::from_columns("RND", cols).unwrap();
    // A stepping fed-funds series exercises forward fill and rate changes.
    let rd: Vec<NaiveDate> = (0..=dates.len() / 20)
        .map(|k| start + Duration::days(28 * k as i64))
        .collect();
    let rr: Vec<f64> = (0..rd.len())
        .map(|k| rate + (k % 3) as f64 * 0.25)
        .collect();
    MarketData::new(
        vec![ds],
        RateSeries::new("DFF", rd, rr).unwrap(),
        RateSeries::constant("DTB3", rate),
    )
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        (
            -0.12f64..0.12,
            -0.08f64..0.08,
            0.0f64..0.06,
            prop::bool::weighted(0.03),
        ),
        20..260,
    )
}

prop_compose! {
    fn input(n_rows: usize)(
        mode in prop_oneof![Just(Mode::LiquidationReentry), Just(Mode::FreshCapital), Just(Mode::ProfitThreshold)],
        portfolio in any::<bool>(),
        lev_frac in 0.0f64..=1.0,
        policy_restore in any::<bool>(),
        intraday in any::<bool>(),
        slippage in 0.0f64..100.0,
        wait_days in 0u32..5,
        fixed in any::<bool>(),
        rate in 0.0f64..25.0,
        basis360 in any::<bool>(),
        threshold in 1.0f64..300.0,
        buffer in 0.0f64..0.2,
        min_equity in 0.0f64..20_000.0,
        initial in 1_000.0f64..10_000_000.0,
        start in 0usize..5,
        override_m in prop::option::weighted(0.2, 0.1f64..0.5),
    ) -> BacktestInput {
        let account = if portfolio { AccountType::Portfolio } else { AccountType::RegT };
        let m = override_m.unwrap_or(match account { AccountType::RegT => 0.25, AccountType::Portfolio => 0.15 });
        let im = match account { AccountType::RegT => 0.5, AccountType::Portfolio => m };
        let lmax = 1.0 / im.max(m);
        let day0 = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let dates = engine::fixtures::business_days(day0, n_rows);
        BacktestInput {
            ticker: "RND".into(),
            mode,
            start_date: dates[start],
            end_date: dates[n_rows - 1],
            leverage: 1.0 + (lmax - 1.0) * lev_frac,
            account_type: account,
            initial_investment: initial,
            profit_threshold_pct: Some(threshold),
            options: BacktestOptions {
                wait_days,
                min_equity,
                day_count_basis: if basis360 { 360 } else { 365 },
                interest: if fixed { InterestModel::Fixed { rate_pct: rate } } else { InterestModel::FedFundsPlus { spread_pct: rate / 5.0 } },
                liquidation_policy: if policy_restore { LiquidationPolicy::Restore } else { LiquidationPolicy::Full },
                restore_buffer: buffer,
                intraday,
                liquidation_slippage_bps: slippage,
                maintenance_override: override_m,
                ..Default::default()
            },
        }
    }
}

fn case() -> impl Strategy<Value = (Vec<Move>, BacktestInput, f64)> {
    moves().prop_flat_map(|mv| {
        let n = mv.len() + 1;
        (Just(mv), input(n), 0.0f64..8.0)
    })
}

fn run(md: &MarketData, inp: &BacktestInput) -> BacktestResult {
    run_backtest(md, inp, &mut |_| {}, &AtomicBool::new(false)).expect("valid generated input")
}

fn all_finite(r: &BacktestResult) -> Result<(), String> {
    let d = &r.daily;
    for (name, col) in [
        ("price", &d.price),
        ("shares", &d.shares),
        ("positionValue", &d.position_value),
        ("loan", &d.loan),
        ("equity", &d.equity),
        ("wealth", &d.wealth),
        ("contributed", &d.contributed),
        ("flow", &d.flow),
        ("maintenanceRequired", &d.maintenance_required),
        ("dailyInterest", &d.daily_interest),
        ("cumulativeInterest", &d.cumulative_interest),
        ("dividend", &d.dividend),
        ("transactionCost", &d.transaction_cost),
        ("dailyReturn", &d.daily_return),
        ("drawdown", &d.drawdown),
        ("marginRate", &d.margin_rate),
    ] {
        if let Some(i) = col.iter().position(|v| !v.is_finite()) {
            return Err(format!("daily.{name}[{i}] = {}", col[i]));
        }
    }
    for (name, col) in [
        ("cushion", &d.cushion),
        ("cushionPct", &d.cushion_pct),
        ("marginCallPrice", &d.margin_call_price),
        ("leverage", &d.leverage),
    ] {
        if let Some(i) = col.iter().position(|v| v.is_some_and(|x| !x.is_finite())) {
            return Err(format!("daily.{name}[{i}] not finite"));
        }
    }
    // Everything else: a NaN would serialise as null and then either fail to deserialise into
    // an f64 or compare unequal after the round trip (NaN != NaN).
    let json = serde_json::to_string(r).map_err(|e| e.to_string())?;
    let mut back: BacktestResult =
        serde_json::from_str(&json).map_err(|e| format!("round trip: {e}"))?;
    back.daily = r.daily.clone();
    if &back != r {
        return Err("result does not survive a JSON round trip (non-finite value?)".into());
    }
    Ok(())
}

/// Writes a JSON value with object keys in reverse order, to test order independence.
fn reversed(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.reverse();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), reversed(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(reversed).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn backtest_invariants((mv, inp, rate) in case()) {
        let md = market(&mv, rate);
        let r = run(&md, &inp);
        prop_assert!(all_finite(&r).is_ok(), "{:?}", all_finite(&r));
        let d = &r.daily;
        let m = r.cushion.maintenance;
        for i in 0..d.len() {
            if d.in_position[i] {
                let scale = d.position_value[i].abs().max(d.loan[i].abs()).max(1.0);
                prop_assert!((d.equity[i] - (d.position_value[i] - d.loan[i])).abs() <= 1e-9 * scale, "E = V - D at row {}", i);
                prop_assert!(d.shares[i] > 0.0);
            } else {
                prop_assert_eq!(d.position_value[i], 0.0);
                prop_assert_eq!(d.loan[i], 0.0);
            }
            match d.status[i] {
                Status::Entered | Status::Rebalanced => {
                    let lev = d.leverage[i].unwrap();
                    prop_assert!((lev - inp.leverage).abs() <= 1e-9 * inp.leverage, "leverage {} at {:?} row {}", lev, d.status[i], i);
                    prop_assert!(d.equity[i] >= m * d.position_value[i] * (1.0 - 1e-12));
                }
                Status::Liquidated => prop_assert!(d.equity[i] >= 0.0 && d.wealth[i] >= 0.0),
                _ => {}
            }
            prop_assert!(d.wealth[i] >= 0.0 || inp.options.liquidation_policy == LiquidationPolicy::Restore);
        }
        for e in r.events.iter().filter(|e| e.kind == EventKind::Liquidation) {
            prop_assert!(e.equity >= 0.0);
            prop_assert!(e.deficit.unwrap() <= 0.0);
        }
        let deficits: f64 = r.rounds.iter().map(|x| x.deficit).sum();
        prop_assert!((deficits - r.engine_metrics.total_deficit).abs() <= 1e-6 * deficits.abs().max(1.0));
        prop_assert_eq!(r.rounds.len() as u32, r.summary.rounds);
        // The run reuses its drawdown column; the result must equal a from-scratch computation.
        prop_assert_eq!(&compute(&d.date[1..], &d.daily_return[1..], 0.0), &r.metrics);
        let interest: f64 = r.rounds.iter().map(|x| x.interest_paid).sum();
        prop_assert!((interest - r.engine_metrics.total_interest).abs() <= 1e-6 * interest.max(1.0));
    }

    #[test]
    fn same_input_same_bytes((mv, inp, rate) in case()) {
        let md = market(&mv, rate);
        let a = serde_json::to_string(&run(&md, &inp)).unwrap();
        let b = serde_json::to_string(&run(&md, &inp)).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn cache_key_ignores_order_and_defaults((mv, inp, rate) in case()) {
        let md = market(&mv, rate);
        let fp = &md.dataset("RND").unwrap().fingerprint;
        let norm = normalize(&inp, &md).unwrap();
        let key = cache_key(&norm, fp);
        // Reversed key order.
        let v = serde_json::to_value(&inp).unwrap();
        let back: BacktestInput = serde_json::from_str(&reversed(&v)).unwrap();
        prop_assert_eq!(cache_key(&normalize(&back, &md).unwrap(), fp), key.clone());
        // Options at their defaults: omitted or spelled out give one key.
        let mut plain = inp.clone();
        plain.options = BacktestOptions::default();
        plain.leverage = 1.5; // valid for every account at default maintenance
        let mut v = serde_json::to_value(&plain).unwrap();
        let explicit = cache_key(&normalize(&serde_json::from_value(v.clone()).unwrap(), &md).unwrap(), fp);
        v["options"] = serde_json::json!({});
        let omitted = cache_key(&normalize(&serde_json::from_value(v.clone()).unwrap(), &md).unwrap(), fp);
        prop_assert_eq!(&explicit, &omitted);
        if let Some(o) = v.as_object_mut() { o.remove("options"); }
        let absent = cache_key(&normalize(&serde_json::from_value(v).unwrap(), &md).unwrap(), fp);
        prop_assert_eq!(&explicit, &absent);
        // A threshold given to a mode that ignores it does not split the cache.
        if inp.mode != Mode::ProfitThreshold {
            let mut t = norm.clone();
            t.profit_threshold_pct = Some(42.0);
            prop_assert_eq!(cache_key(&t, fp), key);
        }
    }

    #[test]
    fn rolling_matches_two_pass(rets in prop::collection::vec(-0.2f64..0.2, 0..400), window in 2usize..40) {
        let (vol, sh) = rolling_vol_sharpe(&rets, window);
        for end in 0..rets.len() {
            if end + 1 < window {
                prop_assert!(vol[end].is_none());
                continue;
            }
            let w = &rets[end + 1 - window..=end];
            let s = std(w).unwrap();
            let want_vol = s * 252f64.sqrt();
            prop_assert!((vol[end].unwrap() - want_vol).abs() <= 1e-9 * want_vol + 1e-12, "{} vs {}", vol[end].unwrap(), want_vol);
            if s > 0.0 {
                let want = mean(w).unwrap() / s * 252f64.sqrt();
                prop_assert!((sh[end].unwrap() - want).abs() <= 1e-7 * want.abs().max(1e-6));
            }
        }
    }

    #[test]
    fn metrics_never_non_finite(rets in prop::collection::vec(prop_oneof![Just(0.0), Just(-1.0), -1.0f64..3.0], 0..80)) {
        let day0 = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let dates = engine::fixtures::business_days(day0, rets.len());
        let m = compute(&dates, &rets, 0.0);
        let v = serde_json::to_value(&m).unwrap();
        let back: engine::metrics::Metrics = serde_json::from_value(v).unwrap();
        prop_assert_eq!(back, m);
    }
}

proptest! {
    #[test]
    fn fast_decimal_parse_equals_std(int in 0u64..10_000_000_000, frac in "[0-9]{0,12}", neg in any::<bool>(), exp in prop::option::of(-30i32..30)) {
        let mut s = format!("{}{}", if neg { "-" } else { "" }, int);
        if !frac.is_empty() {
            s.push('.');
            s.push_str(&frac);
        }
        if let Some(e) = exp {
            s.push_str(&format!("e{e}"));
        }
        let want: f64 = s.parse().unwrap();
        let got = engine::market::parse_f64(&s).unwrap();
        prop_assert_eq!(got.to_bits(), want.to_bits(), "{}", s);
    }
}

proptest! {
    #[test]
    fn tail_statistics_equal_the_sorted_definitions(rets in prop::collection::vec(-0.3f64..0.3, 1..300)) {
        let day0 = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let dates = engine::fixtures::business_days(day0, rets.len());
        let m = compute(&dates, &rets, 0.0);
        let mut sorted = rets.clone();
        sorted.sort_by(f64::total_cmp);
        let cutoff = ((rets.len() - 1) as f64 * 0.05) as usize;
        let want_cvar = sorted[..=cutoff].iter().sum::<f64>() / (cutoff + 1) as f64;
        prop_assert!((m.cvar95.unwrap() - want_cvar).abs() <= 1e-12);
        let q05 = engine::metrics::quantile_sorted(&sorted, 0.05).unwrap();
        prop_assert_eq!(m.var95.unwrap(), q05);
    }
}
