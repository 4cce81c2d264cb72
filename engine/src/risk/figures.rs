//! Plotly figures of the risk lab, in the shape of [`crate::figures`] (`{data, layout}`),
//! returned as JSON values so results stay `Deserialize` for caching.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::stats::Percentiles;
use super::window::Outcome;
use crate::figures::{Column, Figure, Trace};

/// Entries in the rolling mean of the 0/1 strip (about a year of entry dates).
pub const ROLLING_ENTRIES: usize = 252;
/// Bars in the days-to-first-call histogram at most.
const MAX_BARS: usize = 60;

fn round(v: f64) -> f64 {
    crate::serde_round::sig(v, 6)
}

fn trace(props: Value, x: Option<Column>, y: Option<Column>) -> Trace {
    Trace {
        props: match props {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        x,
        y,
    }
}

fn to_json(f: Figure) -> Value {
    serde_json::to_value(f).unwrap_or(Value::Null)
}

/// 0/1 by entry date (drawn as a step line through the days the flag changes, which is all
/// a strip needs) and the trailing mean over the last 252 entries.
pub(crate) fn strip(entry_dates: &[NaiveDate], outcomes: &[Outcome], h: usize) -> Value {
    let flags: Vec<f64> = outcomes
        .iter()
        .map(|o| if o.call_day.is_some() { 1.0 } else { 0.0 })
        .collect();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (k, (&d, &f)) in entry_dates.iter().zip(&flags).enumerate() {
        let changes = k == 0 || flags[k - 1] != f;
        if changes || k + 1 == flags.len() {
            xs.push(d);
            ys.push(f);
        }
    }
    let mut data = vec![trace(
        json!({
            "type": "scatter", "mode": "lines", "name": format!("call within {h} days (1 = yes)"),
            "line": { "shape": "hv", "width": 1, "color": "rgba(214,39,40,0.6)" },
            "fill": "tozeroy", "fillcolor": "rgba(214,39,40,0.25)",
        }),
        Some(Column::Dates(xs)),
        Some(Column::Numbers(ys)),
    )];
    if flags.len() >= ROLLING_ENTRIES {
        let mut sum: f64 = flags[..ROLLING_ENTRIES].iter().sum();
        let mut mean = Vec::with_capacity(flags.len() - ROLLING_ENTRIES + 1);
        mean.push(round(sum / ROLLING_ENTRIES as f64));
        for k in ROLLING_ENTRIES..flags.len() {
            // Integer-valued sums of 0/1 are exact, so the running sum never drifts.
            sum += flags[k] - flags[k - ROLLING_ENTRIES];
            mean.push(round(sum / ROLLING_ENTRIES as f64));
        }
        data.push(trace(
            json!({
                "type": "scatter", "mode": "lines",
                "name": format!("rolling {ROLLING_ENTRIES}-entry probability"),
                "line": { "width": 2, "color": "#1f77b4" },
            }),
            Some(Column::Dates(entry_dates[ROLLING_ENTRIES - 1..].to_vec())),
            Some(Column::Numbers(mean)),
        ));
    }
    to_json(Figure {
        data,
        layout: json!({
            "title": { "text": format!("Margin call within {h} trading days, by entry date") },
            "xaxis": { "type": "date", "title": { "text": "entry date" } },
            "yaxis": { "title": { "text": "probability" }, "range": [0, 1.05], "tickformat": ".0%" },
            "hovermode": "x unified",
            "legend": { "orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom" },
        }),
    })
}

/// Counts of calls by day after entry, in bins of equal width (at most 60 bars).
pub(crate) fn call_day_histogram(days: &[u32], h: usize) -> Value {
    let width = h.div_ceil(MAX_BARS).max(1);
    let bins = h.div_ceil(width) + 1;
    let mut counts = vec![0.0_f64; bins];
    for &d in days {
        if let Some(c) = counts.get_mut(d as usize / width) {
            *c += 1.0;
        }
    }
    // Bin k covers days [k·w, (k+1)·w); drawn at its centre (day 0 is only a bin's edge).
    let centres: Vec<f64> = (0..bins)
        .map(|k| (k * width) as f64 + (width as f64 - 1.0) / 2.0)
        .collect();
    to_json(Figure {
        data: vec![trace(
            json!({ "type": "bar", "name": "windows", "width": width as f64 * 0.9,
                    "marker": { "color": "#d62728" } }),
            Some(Column::Numbers(centres)),
            Some(Column::Numbers(counts)),
        )],
        layout: json!({
            "title": { "text": "Days to first margin call" },
            "xaxis": { "title": { "text": "trading days after entry" }, "range": [0, h as f64 + 1.0] },
            "yaxis": { "title": { "text": "windows" } },
            "bargap": 0.05,
        }),
    })
}

/// The forward fan: equity percentile bands by trading day, and the cumulative share of
/// paths called on a second axis.
pub(crate) fn fan(days: &[u32], bands: &[Percentiles], called_share: &[f64]) -> Value {
    let x = || {
        Some(Column::Numbers(
            days.iter().map(|&d| f64::from(d)).collect(),
        ))
    };
    let band = |f: fn(&Percentiles) -> f64| {
        Some(Column::Numbers(bands.iter().map(|p| round(f(p))).collect()))
    };
    let edge = |name: &str, fill: Option<&str>| {
        let mut p = json!({ "type": "scatter", "mode": "lines", "name": name,
                            "line": { "width": 0.5, "color": "rgba(31,119,180,0.5)" } });
        if let Some(f) = fill {
            p["fill"] = "tonexty".into();
            p["fillcolor"] = f.into();
        }
        p
    };
    let data = vec![
        trace(edge("5th percentile", None), x(), band(|p| p.p5)),
        trace(
            edge("95th percentile", Some("rgba(31,119,180,0.15)")),
            x(),
            band(|p| p.p95),
        ),
        trace(edge("25th percentile", None), x(), band(|p| p.p25)),
        trace(
            edge("75th percentile", Some("rgba(31,119,180,0.35)")),
            x(),
            band(|p| p.p75),
        ),
        trace(
            json!({ "type": "scatter", "mode": "lines", "name": "median",
                    "line": { "width": 2, "color": "#1f77b4" } }),
            x(),
            band(|p| p.p50),
        ),
        trace(
            json!({ "type": "scatter", "mode": "lines", "name": "paths called (cumulative)",
                    "yaxis": "y2", "line": { "width": 2, "color": "#d62728", "shape": "hv" } }),
            Some(Column::Numbers(
                (0..called_share.len()).map(|d| d as f64).collect(),
            )),
            Some(Column::Numbers(
                called_share.iter().map(|&s| round(s)).collect(),
            )),
        ),
    ];
    to_json(Figure {
        data,
        layout: json!({
            "title": { "text": "Equity by trading day (percentile bands)" },
            "xaxis": { "title": { "text": "trading days from entry" } },
            "yaxis": { "title": { "text": "equity" } },
            "yaxis2": { "title": { "text": "paths called" }, "overlaying": "y", "side": "right",
                        "tickformat": ".0%", "rangemode": "tozero" },
            "hovermode": "x unified",
            "legend": { "orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom" },
        }),
    })
}
