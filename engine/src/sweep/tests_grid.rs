//! The grid around the cells: validation, axis syntax, best, heatmap, chunks, threads, cancel.

use std::sync::atomic::{AtomicBool, Ordering};

use super::tests_cells::{axis, base, shipped};
use super::*;
use crate::backtest::Mode;

fn no() -> AtomicBool {
    AtomicBool::new(false)
}

fn leverage_by_year() -> SweepInput {
    let lev: Vec<f64> = (0..10)
        .map(|k| 1.0 + 0.1 * f64::from(k))
        .chain([2.0, 2.5])
        .collect();
    SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "1999-01-01",
            "2014-12-31",
            2.0,
        ),
        x: axis(SweepParameter::Leverage, &lev),
        y: Some(axis(
            SweepParameter::StartYear,
            &[1999.0, 2001.0, 2003.0, 2005.0, 2007.0, 2009.0, 2011.0],
        )),
    }
}

fn run(input: &SweepInput) -> SweepResult {
    run_sweep(shipped(), input, &mut |_, _| {}, &no()).unwrap()
}

fn err(r: Result<impl std::fmt::Debug, InputError>) -> (String, String) {
    let e = r.unwrap_err();
    (e.field, e.message)
}

#[test]
fn axis_syntax() {
    let a = parse_axis("leverage=1,1.5,2").unwrap();
    assert_eq!(a, axis(SweepParameter::Leverage, &[1.0, 1.5, 2.0]));
    let a = parse_axis("start-year=2000:2020:5").unwrap();
    assert_eq!(a.parameter, SweepParameter::StartYear);
    assert_eq!(a.values, [2000.0, 2005.0, 2010.0, 2015.0, 2020.0]);
    // Decimal steps give the decimals written, and `to` is reached.
    let a = parse_axis("maintenance-pct=25:26:0.1").unwrap();
    assert_eq!(a.values.len(), 11);
    assert_eq!(a.values[3], 25.3);
    assert_eq!(a.values[10], 26.0);
    assert_eq!(
        parse_axis("relever-band=0.1:0.3:0.1").unwrap().values,
        [0.1, 0.2, 0.3]
    );
    // `to` not reached by a whole step is left out.
    assert_eq!(
        parse_axis("wait-days=0:10:4").unwrap().values,
        [0.0, 4.0, 8.0]
    );
    assert_eq!(parse_axis("WAIT_DAYS=3").unwrap().values, [3.0]);
    for p in SweepParameter::ALL {
        let a = parse_axis(&format!("{}=1", p.cli_name())).unwrap();
        assert_eq!(a.parameter, p);
        assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
    }
    for bad in [
        "leverage",
        "lev=1,2",
        "leverage=1,,2",
        "leverage=1,nan",
        "leverage=2:1:0.5",
        "leverage=1:2:0",
        "leverage=1:2:-1",
        "leverage=1:2",
        "leverage=1:100:0.5",
        "leverage=1,2,1",
    ] {
        let (field, msg) = err(parse_axis(bad));
        assert_eq!(field, "axis", "{bad}: {msg}");
    }
    assert!(
        err(parse_axis("leverage=0:100:1"))
            .1
            .contains("more than 100 values")
    );
    assert!(parse_axis("leverage=1:100:1").is_ok());
    assert!(err(parse_axis("lev=1")).1.contains("start-year"));
}

#[test]
fn metric_and_direction_names() {
    for m in SweepMetric::ALL {
        assert_eq!(m.cli_name().parse::<SweepMetric>().unwrap(), m);
        assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
    assert_eq!(
        "total-return".parse::<SweepMetric>().unwrap(),
        SweepMetric::TotalReturn
    );
    assert_eq!(err("drawdown".parse::<SweepMetric>()).0, "metric");
    assert_eq!("LOWEST".parse::<Direction>().unwrap(), Direction::Lowest);
    assert_eq!(SweepMetric::MaxDrawdown.direction(), Direction::Highest);
    assert_eq!(SweepMetric::Volatility.direction(), Direction::Lowest);
    assert_eq!(SweepMetric::TimeInMarket.direction(), Direction::Highest);
}

#[test]
fn grids_are_validated_with_field_names() {
    let md = shipped();
    let mut i = leverage_by_year();
    i.x.values.clear();
    assert_eq!(err(normalize_sweep(md, &i)).0, "x.values");
    let mut i = leverage_by_year();
    if let Some(y) = i.y.as_mut() {
        y.values = (0..101).map(f64::from).collect();
    }
    let (f, m) = err(normalize_sweep(md, &i));
    assert_eq!(
        (f.as_str(), m.as_str()),
        ("y.values", "must have between 1 and 100 values (got 101)")
    );
    let mut i = leverage_by_year();
    i.x.values[2] = f64::INFINITY;
    assert_eq!(
        err(normalize_sweep(md, &i)),
        ("x.values".into(), "value 3 is not a finite number".into())
    );
    let mut i = leverage_by_year();
    i.x.values[2] = 1.0;
    assert_eq!(err(normalize_sweep(md, &i)).1, "1 appears more than once");
    let mut i = leverage_by_year();
    i.y = Some(axis(SweepParameter::Leverage, &[1.0]));
    assert_eq!(err(normalize_sweep(md, &i)).0, "y.parameter");
    let mut i = leverage_by_year();
    i.base.leverage = 3.0;
    assert_eq!(err(normalize_sweep(md, &i)).0, "base.leverage");
    i.base.ticker = "NOPE".into();
    assert_eq!(err(normalize_sweep(md, &i)).0, "base.ticker");
    // A sweep error is typed.
    assert!(matches!(
        run_sweep(md, &i, &mut |_, _| {}, &no()),
        Err(SweepError::Input(e)) if e.field == "base.ticker"
    ));
}

#[test]
fn best_follows_the_metric_direction() {
    let input = SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "2000-01-01",
            "2014-12-31",
            2.0,
        ),
        x: axis(SweepParameter::Leverage, &[1.5, 1.0, 2.0, 3.0, 1.25]),
        y: None,
    };
    let r = run(&input);
    let value = |c: &SweepCell, m: SweepMetric| m.value(c.summary.as_ref().unwrap()).unwrap();
    // The least risky drawdown is the one closest to zero: the unlevered run.
    let dd = r.best(SweepMetric::MaxDrawdown, None).unwrap();
    assert_eq!(dd.x, 1.0);
    let ok: Vec<&SweepCell> = r.cells.iter().filter(|c| c.summary.is_some()).collect();
    assert_eq!(ok.len(), 4);
    assert!(
        ok.iter()
            .all(|c| value(c, SweepMetric::MaxDrawdown) <= value(dd, SweepMetric::MaxDrawdown))
    );
    // Forced the other way it is the deepest.
    let deepest = r
        .best(SweepMetric::MaxDrawdown, Some(Direction::Lowest))
        .unwrap();
    assert!(ok.iter().all(|c| value(c, SweepMetric::MaxDrawdown) >= value(deepest, SweepMetric::MaxDrawdown)));
    assert_ne!(deepest.x, 1.0);
    let cagr = r.best(SweepMetric::Cagr, None).unwrap();
    assert!(
        ok.iter()
            .all(|c| value(c, SweepMetric::Cagr) <= value(cagr, SweepMetric::Cagr))
    );
    let vol = r.best(SweepMetric::Volatility, None).unwrap();
    assert_eq!(vol.x, 1.0);
    // The error cell (3x) is never best.
    for m in SweepMetric::ALL {
        for dir in [None, Some(Direction::Highest), Some(Direction::Lowest)] {
            assert!(r.best(m, dir).is_some_and(|c| c.error.is_none()));
        }
    }
    // Ties go to the first cell in grid order; undefined values are skipped.
    let mut tied = r.clone();
    let s = tied.cells[0].summary.clone().unwrap();
    for c in &mut tied.cells {
        if let Some(cs) = c.summary.as_mut() {
            cs.sharpe = s.sharpe;
        }
    }
    if let Some(cs) = tied.cells[0].summary.as_mut() {
        cs.sharpe = None;
    }
    assert_eq!(tied.best(SweepMetric::Sharpe, None).unwrap().x, 1.0);
    assert!(
        SweepResult::pending(shipped(), &input)
            .unwrap()
            .best(SweepMetric::Cagr, None)
            .is_none()
    );
}

#[test]
fn heatmap_rows_are_y_values_and_columns_x_values() {
    let input = leverage_by_year();
    let r = run(&input);
    let h = r.heatmap(SweepMetric::Cagr);
    let t = &h["data"][0];
    assert_eq!(t["type"], "heatmap");
    let z = t["z"].as_array().unwrap();
    assert_eq!(z.len(), 7);
    assert!(z.iter().all(|row| row.as_array().unwrap().len() == 12));
    assert_eq!(t["x"].as_array().unwrap().len(), 12);
    assert_eq!(t["y"][0], 1999.0);
    // 2.5x on REG_T is an error: the last column is null, every other cell a number.
    for row in z {
        let row = row.as_array().unwrap();
        assert!(row[11].is_null());
        assert!(row[..11].iter().all(|v| v.is_f64()));
    }
    // CAGR in percent, 6 significant digits.
    let want = r.cells[12 + 3].summary.as_ref().unwrap().cagr.unwrap() * 100.0;
    let got = z[1][3].as_f64().unwrap();
    assert!((got - want).abs() <= want.abs() * 1e-5, "{got} vs {want}");
    assert_eq!(t["zmid"], 0.0);
    assert_eq!(h["layout"]["xaxis"]["title"]["text"], "leverage (×)");
    assert_eq!(h["layout"]["yaxis"]["title"]["text"], "start year (year)");
    assert_eq!(t["colorbar"]["title"]["text"], "CAGR (%)");
    // No centre for a drawdown or a count; darker is better either way.
    let dd = r.heatmap(SweepMetric::MaxDrawdown);
    assert!(dd["data"][0].get("zmid").is_none());
    assert_eq!(dd["data"][0]["reversescale"], false);
    assert_eq!(
        r.heatmap(SweepMetric::Liquidations)["data"][0]["reversescale"],
        true
    );
    // One row without a y axis.
    let mut one = input.clone();
    one.y = None;
    let h = run(&one).heatmap(SweepMetric::Sharpe);
    assert_eq!(h["data"][0]["z"].as_array().unwrap().len(), 1);
    assert_eq!(h["data"][0]["z"][0].as_array().unwrap().len(), 12);
    let text = serde_json::to_string(&h).unwrap();
    assert!(!text.contains("NaN") && !text.contains("inf"));
}

#[test]
fn output_does_not_depend_on_threads_or_chunking() {
    let md = shipped();
    let input = leverage_by_year();
    let with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut batches = Vec::new();
        let r = pool.install(|| {
            run_sweep(
                md,
                &input,
                &mut |start, cells| batches.push((start, cells.len())),
                &no(),
            )
        });
        (serde_json::to_string(&r.unwrap()).unwrap(), batches)
    };
    let (one, b1) = with(1);
    let (two, b2) = with(2);
    assert_eq!(one, two);
    // Batches arrive in grid order and cover it.
    for b in [b1, b2] {
        let mut next = 0;
        for (start, len) in b {
            assert_eq!(start, next);
            next += len;
        }
        assert_eq!(next, 84);
    }
    // Chunks computed separately (in any order) and filled in give the same grid.
    let mut assembled = SweepResult::pending(md, &input).unwrap();
    assert_eq!(assembled.completed_cells, 0);
    for range in chunks(assembled.cell_count).into_iter().rev() {
        let start = range.start;
        let cells = compute_chunk(md, &input, range, &no()).unwrap();
        assembled.fill(start, cells).unwrap();
    }
    assert_eq!(assembled.percent(), 100.0);
    assert_eq!(serde_json::to_string(&assembled).unwrap(), one);
    // A chunk put in the wrong place, or outside the grid, is refused.
    let cells = compute_chunk(md, &input, 0..3, &no()).unwrap();
    assert!(assembled.fill(1, cells.clone()).is_err());
    assert!(assembled.fill(83, cells).is_err());
    assert!(compute_chunk(md, &input, 80..85, &no()).is_err());
}

#[test]
fn cancel_stops_the_sweep() {
    let md = shipped();
    let input = leverage_by_year();
    let cancel = AtomicBool::new(true);
    assert_eq!(
        run_sweep(md, &input, &mut |_, _| {}, &cancel).unwrap_err(),
        SweepError::Cancelled
    );
    assert_eq!(
        compute_chunk(md, &input, 0..10, &cancel).unwrap_err(),
        SweepError::Cancelled
    );
    // Cancelled after the first batch: no more batches, and an error. One thread runs waves
    // of 128 cells, so 300 cells are three.
    let mut input = input;
    input.x = axis(
        SweepParameter::Leverage,
        &(0..100)
            .map(|k| 1.0 + f64::from(k) / 100.0)
            .collect::<Vec<_>>(),
    );
    input.y = Some(axis(SweepParameter::StartYear, &[2000.0, 2001.0, 2002.0]));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let cancel = AtomicBool::new(false);
    let mut batches = 0;
    let r = pool.install(|| {
        run_sweep(
            md,
            &input,
            &mut |_, _| {
                batches += 1;
                cancel.store(true, Ordering::Relaxed);
            },
            &cancel,
        )
    });
    assert_eq!(r.unwrap_err(), SweepError::Cancelled);
    assert_eq!(batches, 1);
}

#[test]
fn cache_keys_follow_the_normalised_input() {
    let md = shipped();
    let a = leverage_by_year();
    let mut b = a.clone();
    b.base.ticker = " spy".into();
    // A Saturday: snaps to Monday 1999-01-04, as 1999-01-01 does.
    b.base.start_date = crate::sweep::tests_cells::d("1999-01-02");
    b.base.options.tc_bps = 9.0; // not used outside PROFIT_THRESHOLD
    let key = sweep_cache_key(md, &a).unwrap();
    assert_eq!(key.len(), 64);
    assert_eq!(sweep_cache_key(md, &b).unwrap(), key);
    b.x.values[0] = 1.05;
    assert_ne!(sweep_cache_key(md, &b).unwrap(), key);
    let mut c = a.clone();
    c.y = None;
    assert_ne!(sweep_cache_key(md, &c).unwrap(), key);
    assert_eq!(
        sweep_cache_key(
            md,
            &SweepInput {
                x: axis(SweepParameter::Leverage, &[]),
                ..a
            }
        )
        .unwrap_err()
        .field,
        "x.values"
    );
}

#[test]
fn parameters_that_cannot_matter_are_warned_about() {
    let input = SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "2000-01-01",
            "2014-12-31",
            2.0,
        ),
        x: axis(SweepParameter::ProfitThresholdPct, &[10.0, 50.0]),
        y: Some(axis(SweepParameter::RestoreBuffer, &[0.0, 0.1])),
    };
    let r = run(&input);
    assert_eq!(r.warnings.len(), 2);
    assert!(r.warnings[0].contains("PROFIT_THRESHOLD mode"));
    assert!(r.warnings[1].contains("RESTORE"));
    let first = r.cells[0].summary.as_ref().unwrap();
    assert!(r.cells.iter().all(|c| c.summary.as_ref() == Some(first)));
}
