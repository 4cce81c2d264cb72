use std::path::PathBuf;

use chrono::NaiveDate;
use engine::market::{Dataset, MarketData};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn loads_shipped_data() {
    let md = MarketData::load_dir(&data_dir()).unwrap();
    let syms: Vec<_> = md.datasets().map(|d| d.symbol.as_str()).collect();
    assert_eq!(syms, ["QQQ", "SPY", "VTI"]);
    let spy = md.dataset("spy").unwrap();
    assert_eq!(spy.name, "SPDR S&P 500 ETF Trust");
    assert_eq!(spy.len(), 8222);
    assert_eq!(spy.first_date(), d("1993-01-29"));
    assert_eq!(spy.last_date(), d("2025-09-26"));
    assert_eq!(spy.close[0], 43.9375);
    assert_eq!(spy.fingerprint.len(), 64);
    // SOURCES.md check 5/6: 132 SPY ex-dates and known amounts.
    assert_eq!(spy.dividends.iter().filter(|q| **q > 0.0).count(), 132);
    for (date, amount) in [
        ("2000-03-17", 0.371),
        ("2023-06-16", 1.638),
        ("2023-12-15", 1.906),
        ("2024-12-20", 1.966),
    ] {
        let i = spy.index_on_or_after(d(date)).unwrap();
        assert_eq!(spy.dates[i], d(date));
        assert!(
            (spy.dividends[i] - amount).abs() < 0.002,
            "{date}: {}",
            spy.dividends[i]
        );
    }
    assert_eq!(
        md.dataset("VTI")
            .unwrap()
            .dividends
            .iter()
            .filter(|q| **q > 0.0)
            .count(),
        97
    );
    assert_eq!(
        md.dataset("QQQ")
            .unwrap()
            .dividends
            .iter()
            .filter(|q| **q > 0.0)
            .count(),
        86
    );
    // Forward fill: DFF is daily; DTB3 has gaps on bond holidays.
    assert_eq!(md.fed_funds().rate_on(d("2024-09-19")), 4.83);
    assert_eq!(md.tbill_3m().rate_on(d("2023-12-29")), 5.20);
    let al = md.fed_funds().aligned(&spy.dates);
    assert_eq!(al.len(), spy.len());
    assert_eq!(al[0], 3.02);
}

#[test]
fn unknown_ticker_lists_known_ones() {
    let md = MarketData::load_dir(&data_dir()).unwrap();
    let e = md.dataset("XYZ").unwrap_err();
    assert_eq!(e.field, "ticker");
    assert!(e.message.contains("QQQ, SPY, VTI"), "{}", e.message);
}

fn parse(text: &str) -> Result<Dataset, engine::DataError> {
    Dataset::parse_csv("T", "t.csv", text)
}

#[test]
fn rejects_bad_files_with_line_and_reason() {
    let h = "date,open,high,low,close,adj_close,volume\n";
    let e = parse("date,open,close\n2024-01-02,1,1\n").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.reason.contains("missing column `high`"));
    let e = parse(&format!(
        "{h}2024-01-03,1,1,1,1,1,1\n2024-01-02,1,1,1,1,1,1\n"
    ))
    .unwrap_err();
    assert_eq!((e.line, e.reason.contains("not sorted")), (3, true));
    let e = parse(&format!(
        "{h}2024-01-02,1,1,1,1,1,1\n2024-01-02,1,1,1,1,1,1\n"
    ))
    .unwrap_err();
    assert_eq!((e.line, e.reason.contains("duplicate")), (3, true));
    let e = parse(&format!("{h}2024-01-02,1,1,1,0,1,1\n")).unwrap_err();
    assert!(e.reason.contains("close must be > 0"), "{e}");
    let e = parse(&format!("{h}2024-01-02,1,1,1,NaN,1,1\n")).unwrap_err();
    assert!(e.reason.contains("close is not a finite"), "{e}");
    let e = parse(&format!("{h}2024-01-02,1,1,1,abc,1,1\n")).unwrap_err();
    assert!(e.reason.contains("not a number"), "{e}");
    let e = parse(h).unwrap_err();
    assert!(e.reason.contains("no data rows"));
    assert_eq!(e.to_string(), "t.csv:0: no data rows");
    assert!(
        parse(&format!(
            "{h}2024-01-02,1,1,1,1,1,1\r\n2024-01-03,1,1,1,1,1,1\r\n"
        ))
        .is_ok()
    );
}

#[test]
fn dividend_derivation() {
    let h = "date,open,high,low,close,adj_close,volume\n";
    // k steps from 0.99 to 1.0 on day 2: q = 100·(1 − 0.99) = 1.0
    let ds = parse(&format!(
        "{h}2024-01-02,1,1,1,100,99,1\n2024-01-03,1,1,1,99,99,1\n"
    ))
    .unwrap();
    assert!((ds.dividends[1] - 1.0).abs() < 1e-12);
}

#[test]
fn rejects_prices_outside_the_sane_range() {
    let h = "date,open,high,low,close,adj_close,volume\n";
    let e = parse(&format!("{h}2024-01-02,1,1,1,2e9,1,1\n")).unwrap_err();
    assert!(e.reason.contains("between 0.000001 and 1000000000"), "{e}");
    let e = parse(&format!("{h}2024-01-02,1,1,1,1e-7,1,1\n")).unwrap_err();
    assert!(e.reason.contains("between"), "{e}");
}
