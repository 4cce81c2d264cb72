//! Plotly figures (`{data, layout}`) built on demand from a stored result, so results stay small.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::backtest::{BacktestResult, EventKind, Mode, Status};
use crate::metrics::rolling_vol_sharpe_padded;

pub const ROLLING_WINDOW: usize = 126;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FigureName {
    Wealth,
    PositionLoan,
    PriceCallPrice,
    Drawdown,
    Leverage,
    Cushion,
    MonthlyHeatmap,
    RollingVolatility,
    RollingSharpe,
    Rounds,
}

impl FigureName {
    pub const ALL: [FigureName; 10] = [
        FigureName::Wealth,
        FigureName::PositionLoan,
        FigureName::PriceCallPrice,
        FigureName::Drawdown,
        FigureName::Leverage,
        FigureName::Cushion,
        FigureName::MonthlyHeatmap,
        FigureName::RollingVolatility,
        FigureName::RollingSharpe,
        FigureName::Rounds,
    ];
}

mod downsample;

/// The points a line trace draws when the caller does not say: about a screen's width.
pub const DEFAULT_MAX_POINTS: usize = 1_500;

/// Significant digits of a plotted number: more than a chart's pixels can show.
const DIGITS: i32 = 6;

/// How figures are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureOptions {
    /// Points per line trace (largest-triangle-three-buckets); 0 draws every day. Event days,
    /// drawdown valleys and the first and last day are always drawn.
    pub max_points: usize,
}

impl Default for FigureOptions {
    fn default() -> Self {
        FigureOptions {
            max_points: DEFAULT_MAX_POINTS,
        }
    }
}

/// A trace's large array, kept typed until serialisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Column {
    Numbers(Vec<f64>),
    /// `None` is a gap (JSON `null`).
    Optional(Vec<Option<f64>>),
    /// ISO dates (`2020-01-02`), which Plotly reads as a date axis.
    Dates(Vec<NaiveDate>),
}

/// One Plotly trace: small attributes in `props`, the big `x`/`y` arrays typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    #[serde(flatten)]
    pub props: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<Column>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<Column>,
}

/// A Plotly figure (`{data, layout}`). Serialising it directly (e.g. as a GraphQL JSON scalar
/// over any `Serialize`) avoids building a `serde_json::Value` tree of large arrays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub data: Vec<Trace>,
    pub layout: Value,
}

fn round(v: f64) -> f64 {
    crate::serde_round::sig(v, DIGITS)
}

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A trace whose arrays all live in `props` (heatmap, bars: small).
fn raw(v: Value) -> Trace {
    Trace {
        props: props(v),
        x: None,
        y: None,
    }
}

/// A daily series: every row has a value, or some rows have none (drawn as gaps).
enum Series<'a> {
    Full(&'a [f64]),
    Gappy(&'a [Option<f64>]),
}

fn layout(title: &str, y_title: &str, y_format: Option<&str>) -> Value {
    let mut y = json!({ "title": { "text": y_title } });
    if let Some(f) = y_format {
        y["tickformat"] = f.into();
    }
    json!({
        "title": { "text": title },
        "xaxis": { "type": "date", "title": { "text": "date" } },
        "yaxis": y,
        "hovermode": "x unified",
        // Above the plot, right-aligned: below it the legend would overlap the x axis title.
        "legend": { "orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom" },
    })
}

fn figure(data: Vec<Trace>, mut layout: Value) -> Figure {
    // Plotly draws no legend for a single trace, so its settings would be unused input
    // (which `Plotly.validate` reports, and in plotly.js 2–4 trips over).
    if data.len() < 2
        && let Some(map) = layout.as_object_mut()
    {
        map.remove("legend");
    }
    Figure { data, layout }
}

/// Rolling volatility and Sharpe, aligned with the daily rows.
type Rolling = (Vec<Option<f64>>, Vec<Option<f64>>);

struct Ctx<'a> {
    r: &'a BacktestResult,
    options: FigureOptions,
    /// Rows every line trace draws: event days and drawdown valleys.
    keep: Vec<usize>,
    rolling: Option<Rolling>,
}

impl Ctx<'_> {
    fn rolling(&mut self) -> &mut Rolling {
        let r = self.r;
        self.rolling.get_or_insert_with(|| {
            let rets = r.daily.daily_return.get(1..).unwrap_or(&[]);
            // Row 0 has no return; one leading gap keeps the series aligned with the dates.
            rolling_vol_sharpe_padded(rets, ROLLING_WINDOW, 1)
        })
    }

    /// A line trace of a daily series, downsampled to the options' point budget, its
    /// numbers rounded to what a chart can show.
    fn line(&self, name: &str, series: Series<'_>, extra: Value) -> Trace {
        let values: Vec<Option<f64>> = match series {
            Series::Full(v) => v.iter().map(|&x| Some(x)).collect(),
            Series::Gappy(v) => v.to_vec(),
        };
        let rows = downsample::rows_to_draw(&values, self.options.max_points, &self.keep);
        let dates = &self.r.daily.date;
        let x = Column::Dates(rows.iter().filter_map(|&i| dates.get(i).copied()).collect());
        let y = match series {
            Series::Full(_) => Column::Numbers(
                rows.iter()
                    .map(|&i| round(values[i].unwrap_or(0.0)))
                    .collect(),
            ),
            Series::Gappy(_) => {
                Column::Optional(rows.iter().map(|&i| values[i].map(round)).collect())
            }
        };
        let mut m = props(extra);
        m.insert("type".into(), "scatter".into());
        m.insert("mode".into(), "lines".into());
        m.insert("name".into(), name.into());
        Trace {
            props: m,
            x: Some(x),
            y: Some(y),
        }
    }
}

/// The rows no chart may drop: entries, rebalances, liquidations, restored margin calls,
/// and the deepest day of each drawdown.
fn rows_to_keep(r: &BacktestResult) -> Vec<usize> {
    let d = &r.daily;
    let mut keep: Vec<usize> = d
        .status
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s,
                Status::Entered
                    | Status::Rebalanced
                    | Status::Liquidated
                    | Status::MarginCallRestored
            )
        })
        .map(|(i, _)| i)
        .collect();
    let mut valley: Option<usize> = None;
    for (i, &dd) in d.drawdown.iter().enumerate() {
        if dd < 0.0 {
            if valley.is_none_or(|v| dd < d.drawdown[v]) {
                valley = Some(i);
            }
        } else if let Some(v) = valley.take() {
            keep.push(v);
        }
    }
    keep.extend(valley);
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// Builds the requested figures in typed form, in the order asked (duplicates are built
/// once). Serialise them directly: arrays are plain `Vec`s until then.
pub fn build_figures(
    result: &BacktestResult,
    names: &[FigureName],
    options: FigureOptions,
) -> Vec<(FigureName, Figure)> {
    let mut ctx = Ctx {
        r: result,
        options,
        keep: rows_to_keep(result),
        rolling: None,
    };
    let mut out: Vec<(FigureName, Figure)> = Vec::with_capacity(names.len());
    for &name in names {
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let fig = match name {
            FigureName::Wealth => wealth(&ctx),
            FigureName::PositionLoan => position_loan(&ctx),
            FigureName::PriceCallPrice => price_call(&ctx),
            FigureName::Drawdown => drawdown(&ctx),
            FigureName::Leverage => leverage(&ctx),
            FigureName::Cushion => cushion(&ctx),
            FigureName::MonthlyHeatmap => monthly_heatmap(&ctx),
            FigureName::RollingVolatility => {
                // Each rolling series feeds one figure (duplicates are skipped): move it.
                let vol = std::mem::take(&mut ctx.rolling().0);
                figure(
                    vec![ctx.line("126-day volatility", Series::Gappy(&vol), json!({}))],
                    layout(
                        "Rolling 126-day volatility (annualised)",
                        "volatility (annualised, %)",
                        Some(".0%"),
                    ),
                )
            }
            FigureName::RollingSharpe => {
                let sh = std::mem::take(&mut ctx.rolling().1);
                figure(
                    vec![ctx.line("126-day Sharpe", Series::Gappy(&sh), json!({}))],
                    layout(
                        "Rolling 126-day Sharpe ratio",
                        "Sharpe ratio (annualised)",
                        None,
                    ),
                )
            }
            FigureName::Rounds => rounds(&ctx),
        };
        out.push((name, fig));
    }
    out
}

fn wealth(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let fresh = c.r.input.mode == Mode::FreshCapital;
    let data = vec![
        c.line(
            if fresh {
                "wealth (banked + equity)"
            } else {
                "equity"
            },
            Series::Full(&d.wealth),
            json!({}),
        ),
        c.line(
            "contributed",
            Series::Full(&d.contributed),
            json!({ "line": { "dash": "dash" } }),
        ),
    ];
    figure(
        data,
        layout(
            if fresh {
                "Wealth vs capital contributed"
            } else {
                "Equity vs capital contributed"
            },
            "USD",
            Some("$,.0f"),
        ),
    )
}

fn position_loan(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    figure(
        vec![
            c.line("position value", Series::Full(&d.position_value), json!({})),
            c.line("margin loan", Series::Full(&d.loan), json!({})),
            c.line(
                "equity",
                Series::Full(&d.equity),
                json!({ "line": { "dash": "dot" } }),
            ),
        ],
        layout("Position value vs margin loan", "USD", Some("$,.0f")),
    )
}

fn price_call(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let mut data = vec![
        c.line("price", Series::Full(&d.price), json!({})),
        c.line(
            "margin-call price",
            Series::Gappy(&d.margin_call_price),
            json!({ "line": { "dash": "dash" } }),
        ),
    ];
    for (kind, label, symbol, color) in [
        (EventKind::Entry, "entry", "triangle-up", "green"),
        (EventKind::Liquidation, "liquidation", "x", "red"),
        (EventKind::Rebalance, "rebalance", "diamond", "blue"),
        (
            EventKind::MarginCallRestored,
            "margin call (restored)",
            "circle-open",
            "orange",
        ),
    ] {
        let evs: Vec<_> = c.r.events.iter().filter(|e| e.kind == kind).collect();
        if evs.is_empty() {
            continue;
        }
        data.push(Trace {
            props: props(json!({
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "marker": { "symbol": symbol, "color": color, "size": 9 },
            })),
            x: Some(Column::Dates(evs.iter().map(|e| e.date).collect())),
            y: Some(Column::Numbers(
                evs.iter()
                    .map(|e| round(e.fill_price.unwrap_or(e.price)))
                    .collect(),
            )),
        });
    }
    figure(
        data,
        layout("Price vs margin-call price", "price (USD)", Some("$,.2f")),
    )
}

fn drawdown(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    figure(
        vec![c.line(
            "drawdown",
            Series::Full(&d.drawdown),
            json!({ "fill": "tozeroy" }),
        )],
        layout(
            "Drawdown (time-weighted wealth)",
            "drawdown (%)",
            Some(".0%"),
        ),
    )
}

fn leverage(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let target = c.r.input.leverage;
    let mut l = layout("Leverage (position value / equity)", "leverage (×)", None);
    l["shapes"] = json!([{
        "type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
        "line": { "dash": "dash", "color": "grey" },
        "label": { "text": format!("target {target}×"), "textposition": "end" },
    }]);
    figure(
        vec![c.line("leverage", Series::Gappy(&d.leverage), json!({}))],
        l,
    )
}

/// The cushion zones (`cushion::zone`), lowest first: name, lower bound, colour.
const ZONES: [(&str, f64, &str); 4] = [
    ("CRITICAL", f64::NEG_INFINITY, "red"),
    ("WARNING", 5.0, "orange"),
    ("CAUTION", 20.0, "yellow"),
    ("SAFE", 50.0, "green"),
];

fn cushion(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let values = d.cushion_pct.iter().flatten().copied();
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // The data's range with some margin, always showing where the danger zones begin.
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(60.0))
    } else {
        (0.0, 100.0)
    };
    let pad = (hi - lo) * 0.05;
    let (y_min, y_max) = (lo - pad, hi + pad);
    let mut l = layout(
        &format!(
            "Cushion above maintenance ({} %), % of equity",
            c.r.cushion.maintenance * 100.0
        ),
        "cushion (% of equity)",
        None,
    );
    l["yaxis"]["range"] = json!([round(y_min), round(y_max)]);
    let bands: Vec<Value> = ZONES
        .iter()
        .enumerate()
        .filter_map(|(k, &(name, from, color))| {
            let to = ZONES.get(k + 1).map_or(f64::INFINITY, |z| z.1);
            let (y0, y1) = (from.max(y_min), to.min(y_max));
            (y0 < y1).then(|| {
                json!({ "type": "rect", "xref": "paper", "x0": 0, "x1": 1,
                        "y0": round(y0), "y1": round(y1), "fillcolor": color, "opacity": 0.12,
                        "line": { "width": 0 }, "layer": "below",
                        "label": { "text": name, "textposition": "top left",
                                   "font": { "size": 10, "color": "#555" } } })
            })
        })
        .collect();
    l["shapes"] = Value::Array(bands);
    figure(
        vec![c.line("cushion %", Series::Gappy(&d.cushion_pct), json!({}))],
        l,
    )
}

/// Losses red, gains green, no change white; symmetric around zero so the colour of a month
/// says how good or bad it was. (plotly.js has no "RdYlGn": a name it does not know falls back
/// to its default, which drew gains in red.)
const DIVERGING: [(f64, &str); 5] = [
    (0.0, "#b2182b"),
    (0.25, "#ef8a62"),
    (0.5, "#f7f7f7"),
    (0.75, "#7fbf7b"),
    (1.0, "#1b7837"),
];

fn monthly_heatmap(c: &Ctx<'_>) -> Figure {
    let rows = &c.r.monthly_returns;
    let pct = |v: f64| round(v * 100.0);
    let z: Vec<Vec<Option<f64>>> = rows
        .iter()
        .map(|r| r.months.iter().map(|m| m.map(pct)).collect())
        .collect();
    let extreme = z
        .iter()
        .flatten()
        .flatten()
        .fold(0.0_f64, |a, v| a.max(v.abs()))
        .max(0.1);
    let y: Vec<String> = rows.iter().map(|r| r.year.to_string()).collect();
    let text: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.months
                .iter()
                .map(|m| m.map_or(String::new(), |v| format!("{:.1}%", v * 100.0)))
                .collect()
        })
        .collect();
    figure(
        vec![raw(json!({
            "type": "heatmap",
            "x": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
            "y": y,
            "z": z,
            "text": text,
            "texttemplate": "%{text}",
            "colorscale": DIVERGING.iter().map(|(at, colour)| json!([at, colour])).collect::<Vec<_>>(),
            // Symmetric bounds put 0 % at the scale's white midpoint (`zmid` would be
            // ignored beside explicit bounds: Plotly.validate reports it unused).
            "zmin": -extreme,
            "zmax": extreme,
            "hovertemplate": "%{x} %{y}: %{z:.1f}%<extra></extra>",
            "colorbar": { "title": { "text": "return (%)" } },
        }))],
        json!({
            "title": { "text": "Monthly returns (%)" },
            "xaxis": { "title": { "text": "month" } },
            "yaxis": { "autorange": "reversed", "type": "category", "title": { "text": "year" } },
        }),
    )
}

fn round_colour(margin_call: bool, return_pct: f64) -> &'static str {
    if margin_call {
        "#b2182b"
    } else if return_pct < 0.0 {
        "#ef8a62"
    } else {
        "#1b7837"
    }
}

fn rounds(c: &Ctx<'_>) -> Figure {
    let rs = &c.r.rounds;
    figure(
        vec![raw(json!({
            "type": "bar",
            "name": "round return",
            "x": rs.iter().map(|r| format!("#{}", r.round)).collect::<Vec<_>>(),
            "y": rs.iter().map(|r| round(r.return_pct)).collect::<Vec<_>>(),
            // The heatmap's colours: gains green, losses red, darkest when a margin call ended
            // the round (a losing round must never look like a gain).
            "marker": { "color": rs.iter().map(|r| round_colour(r.margin_call, r.return_pct)).collect::<Vec<_>>() },
            "customdata": rs.iter().map(|r| json!([r.start_date.to_string(), r.end_date.to_string(), r.trading_days])).collect::<Vec<_>>(),
            "hovertemplate": "round %{x}<br>%{customdata[0]} to %{customdata[1]}<br>%{customdata[2]} days<br>%{y:.1f}%<extra></extra>",
        }))],
        json!({
            "title": { "text": "Return per round (%)" },
            "xaxis": { "type": "category", "title": { "text": "round (green: gain, light red: loss, dark red: ended by a margin call)" } },
            "yaxis": { "title": { "text": "return (%)" } },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::round_colour;

    #[test]
    fn a_losing_round_is_never_drawn_green() {
        assert_eq!(round_colour(false, 12.0), "#1b7837");
        assert_eq!(round_colour(false, -24.0), "#ef8a62");
        assert_eq!(round_colour(true, -60.0), "#b2182b");
    }
}
