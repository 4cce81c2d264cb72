//! Plotly figures (`{data, layout}`) built on demand from a stored result, so results stay small.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::backtest::{BacktestResult, EventKind, Mode};
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

/// A trace's large numeric array, kept typed until serialisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Column {
    Numbers(Vec<f64>),
    /// `None` is a gap (JSON `null`).
    Optional(Vec<Option<f64>>),
    /// Epoch milliseconds for date axes.
    Ints(Vec<i64>),
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
/// over any `Serialize`) avoids building a `serde_json::Value` tree of ~8k-element arrays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub data: Vec<Trace>,
    pub layout: Value,
}

fn epoch_ms(d: chrono::NaiveDate) -> i64 {
    // 719_163 = days from 0001-01-01 (CE day 1) to 1970-01-01.
    (i64::from(d.num_days_from_ce()) - 719_163) * 86_400_000
}

fn nums(v: &[f64]) -> Column {
    Column::Numbers(v.to_vec())
}

fn opt_nums(v: &[Option<f64>]) -> Column {
    Column::Optional(v.to_vec())
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

fn line(name: &str, x: &Column, y: Column, extra: Value) -> Trace {
    let mut m = props(extra);
    m.insert("type".into(), "scatter".into());
    m.insert("mode".into(), "lines".into());
    m.insert("name".into(), name.into());
    Trace {
        props: m,
        x: Some(x.clone()),
        y: Some(y),
    }
}

fn layout(title: &str, y_title: &str, y_format: Option<&str>) -> Value {
    let mut y = json!({ "title": { "text": y_title } });
    if let Some(f) = y_format {
        y["tickformat"] = f.into();
    }
    json!({
        "title": { "text": title },
        "xaxis": { "type": "date" },
        "yaxis": y,
        "hovermode": "x unified",
        "legend": { "orientation": "h" },
    })
}

fn figure(data: Vec<Trace>, layout: Value) -> Figure {
    Figure { data, layout }
}

/// Rolling volatility and Sharpe, aligned with the daily rows.
type Rolling = (Vec<Option<f64>>, Vec<Option<f64>>);

struct Ctx<'a> {
    r: &'a BacktestResult,
    x: Column,
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
}

/// Builds the requested figures as JSON values, in the order asked (duplicates are built once).
pub fn build(result: &BacktestResult, names: &[FigureName]) -> Vec<(FigureName, Value)> {
    build_figures(result, names)
        .into_iter()
        .map(|(n, f)| (n, serde_json::to_value(&f).unwrap_or(Value::Null)))
        .collect()
}

/// Builds the requested figures in typed form (cheap: arrays are plain `Vec`s until
/// serialised), in the order asked (duplicates are built once).
pub fn build_figures(result: &BacktestResult, names: &[FigureName]) -> Vec<(FigureName, Figure)> {
    // Plotly date axes accept epoch milliseconds; numbers avoid ~8k string allocations per run.
    let x = Column::Ints(result.daily.date.iter().map(|d| epoch_ms(*d)).collect());
    let mut ctx = Ctx {
        r: result,
        x,
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
                    vec![line(
                        "126-day volatility",
                        &ctx.x,
                        Column::Optional(vol),
                        json!({}),
                    )],
                    layout(
                        "Rolling 126-day volatility (annualised)",
                        "volatility",
                        Some(".0%"),
                    ),
                )
            }
            FigureName::RollingSharpe => {
                let sh = std::mem::take(&mut ctx.rolling().1);
                figure(
                    vec![line(
                        "126-day Sharpe",
                        &ctx.x,
                        Column::Optional(sh),
                        json!({}),
                    )],
                    layout("Rolling 126-day Sharpe ratio", "Sharpe", None),
                )
            }
            FigureName::Rounds => rounds(&ctx),
        };
        out.push((name, fig));
    }
    out
}

/// All figures, as JSON values.
pub fn build_all(result: &BacktestResult) -> Vec<(FigureName, Value)> {
    build(result, &FigureName::ALL)
}

fn wealth(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let fresh = c.r.input.mode == Mode::FreshCapital;
    let mut data = vec![line(
        if fresh {
            "wealth (banked + equity)"
        } else {
            "equity"
        },
        &c.x,
        nums(&d.wealth),
        json!({}),
    )];
    data.push(line(
        "contributed",
        &c.x,
        nums(&d.contributed),
        json!({ "line": { "dash": "dash" } }),
    ));
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
            line("position value", &c.x, nums(&d.position_value), json!({})),
            line("margin loan", &c.x, nums(&d.loan), json!({})),
            line(
                "equity",
                &c.x,
                nums(&d.equity),
                json!({ "line": { "dash": "dot" } }),
            ),
        ],
        layout("Position value vs margin loan", "USD", Some("$,.0f")),
    )
}

fn price_call(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let mut data = vec![
        line("price", &c.x, nums(&d.price), json!({})),
        line(
            "margin-call price",
            &c.x,
            opt_nums(&d.margin_call_price),
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
            x: Some(Column::Ints(evs.iter().map(|e| epoch_ms(e.date)).collect())),
            y: Some(Column::Numbers(
                evs.iter()
                    .map(|e| e.fill_price.unwrap_or(e.price))
                    .collect(),
            )),
        });
    }
    figure(data, layout("Price vs margin-call price", "price", None))
}

fn drawdown(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    figure(
        vec![line(
            "drawdown",
            &c.x,
            nums(&d.drawdown),
            json!({ "fill": "tozeroy" }),
        )],
        layout("Drawdown (time-weighted wealth)", "drawdown", Some(".0%")),
    )
}

fn leverage(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let target = c.r.input.leverage;
    let mut l = layout("Leverage (position value / equity)", "leverage", None);
    l["shapes"] = json!([{
        "type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
        "line": { "dash": "dash", "color": "grey" },
    }]);
    figure(
        vec![line("leverage", &c.x, opt_nums(&d.leverage), json!({}))],
        l,
    )
}

fn cushion(c: &Ctx<'_>) -> Figure {
    let d = &c.r.daily;
    let mut l = layout(
        &format!(
            "Cushion above maintenance ({} %), % of equity",
            c.r.cushion.maintenance * 100.0
        ),
        "cushion %",
        None,
    );
    let band = |y0: f64, y1: f64, color: &str| {
        json!({ "type": "rect", "xref": "paper", "x0": 0, "x1": 1, "y0": y0, "y1": y1,
                "fillcolor": color, "opacity": 0.12, "line": { "width": 0 }, "layer": "below" })
    };
    l["shapes"] = json!([
        band(50.0, 100.0, "green"),
        band(20.0, 50.0, "yellow"),
        band(5.0, 20.0, "orange"),
        band(-100.0, 5.0, "red")
    ]);
    figure(
        vec![line("cushion %", &c.x, opt_nums(&d.cushion_pct), json!({}))],
        l,
    )
}

fn monthly_heatmap(c: &Ctx<'_>) -> Figure {
    let rows = &c.r.monthly_returns;
    let z: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Array(
                r.months
                    .iter()
                    .map(|m| m.map_or(Value::Null, |v| Value::from(v * 100.0)))
                    .collect(),
            )
        })
        .collect();
    let y: Vec<Value> = rows
        .iter()
        .map(|r| Value::from(r.year.to_string()))
        .collect();
    let text: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Array(
                r.months
                    .iter()
                    .map(|m| m.map_or(Value::from(""), |v| format!("{:.1}%", v * 100.0).into()))
                    .collect(),
            )
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
            "colorscale": "RdYlGn",
            "zmid": 0,
            "colorbar": { "title": { "text": "%" } },
        }))],
        json!({ "title": { "text": "Monthly returns (%)" }, "yaxis": { "autorange": "reversed", "type": "category" } }),
    )
}

fn rounds(c: &Ctx<'_>) -> Figure {
    let rs = &c.r.rounds;
    figure(
        vec![raw(json!({
            "type": "bar",
            "name": "round return",
            "x": rs.iter().map(|r| format!("#{}", r.round)).collect::<Vec<_>>(),
            "y": rs.iter().map(|r| r.return_pct).collect::<Vec<_>>(),
            "marker": { "color": rs.iter().map(|r| if r.margin_call { "crimson" } else { "seagreen" }).collect::<Vec<_>>() },
            "customdata": rs.iter().map(|r| json!([r.start_date.to_string(), r.end_date.to_string(), r.trading_days])).collect::<Vec<_>>(),
            "hovertemplate": "round %{x}<br>%{customdata[0]} to %{customdata[1]}<br>%{customdata[2]} days<br>%{y:.1f}%<extra></extra>",
        }))],
        json!({ "title": { "text": "Return per round (%)" }, "xaxis": { "type": "category" }, "yaxis": { "title": { "text": "%" } } }),
    )
}
