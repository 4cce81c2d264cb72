//! Reading a finished grid: the best cell for a metric, and the Plotly heatmap.

use serde_json::{Value, json};

use super::metric::{Direction, SweepMetric};
use super::run::{SweepCell, SweepResult};

/// Significant digits of a plotted number (as [`crate::figures`]).
const DIGITS: i32 = 6;

/// Losses red, gains green, zero white: the monthly-returns heatmap's scale
/// ([`crate::figures`]), for metrics whose sign means something.
const DIVERGING: [(f64, &str); 5] = [
    (0.0, "#b2182b"),
    (0.25, "#ef8a62"),
    (0.5, "#f7f7f7"),
    (0.75, "#7fbf7b"),
    (1.0, "#1b7837"),
];

/// Worse light, better dark green, for metrics with no meaningful centre; reversed when
/// lower is better, so darker is always better.
const SEQUENTIAL: [(f64, &str); 3] = [(0.0, "#f7fcf5"), (0.5, "#74c476"), (1.0, "#00441b")];

fn round(v: f64) -> f64 {
    crate::serde_round::sig(v, DIGITS)
}

fn scale(stops: &[(f64, &str)]) -> Value {
    Value::Array(stops.iter().map(|(at, c)| json!([at, c])).collect())
}

impl SweepResult {
    /// The best finished cell for `metric`, in the metric's own direction unless `direction`
    /// says otherwise. Cells with an error or an undefined metric are skipped; of equal
    /// values the first in grid order wins. `None` when no cell has the metric.
    pub fn best(&self, metric: SweepMetric, direction: Option<Direction>) -> Option<&SweepCell> {
        let dir = direction.unwrap_or(metric.direction());
        let mut best: Option<(&SweepCell, f64)> = None;
        for c in &self.cells {
            let Some(v) = c.summary.as_ref().and_then(|s| metric.value(s)) else {
                continue;
            };
            let better = match (best, dir) {
                (None, _) => true,
                (Some((_, b)), Direction::Highest) => v > b,
                (Some((_, b)), Direction::Lowest) => v < b,
            };
            if better {
                best = Some((c, v));
            }
        }
        best.map(|(c, _)| c)
    }

    /// `z[row][column]`: one row per y value (one row without a y axis), one column per x
    /// value, the displayed metric (fractions as percent, 6 significant digits); `null` for
    /// error, pending or undefined cells.
    pub fn heatmap_z(&self, metric: SweepMetric) -> Vec<Vec<Option<f64>>> {
        let nx = self.input.x.values.len().max(1);
        self.cells
            .chunks(nx)
            .map(|row| {
                row.iter()
                    .map(|c| {
                        c.summary
                            .as_ref()
                            .and_then(|s| metric.value(s))
                            .map(|v| round(v * metric.display_scale()))
                    })
                    .collect()
            })
            .collect()
    }

    /// A Plotly heatmap (`{data, layout}`) of `metric` over the grid: axes titled with the
    /// parameters' names and units, every value its own category (uneven steps draw equal
    /// cells), a diverging scale centred at zero where the sign means something (returns,
    /// Sharpe, Sortino, Calmar), otherwise a sequential one that is darker where better.
    pub fn heatmap(&self, metric: SweepMetric) -> Value {
        let x = &self.input.x;
        let unit = metric.unit();
        let colour_title = if unit == "ratio" || unit == "count" {
            metric.label().to_string()
        } else {
            format!("{} ({unit})", metric.label())
        };
        let mut trace = json!({
            "type": "heatmap",
            "x": x.values,
            "z": self.heatmap_z(metric),
            "hoverongaps": false,
            "colorbar": { "title": { "text": colour_title } },
        });
        let y = self.input.y.as_ref();
        // One row without a y axis, its label hidden.
        trace["y"] = y.map_or(json!([""]), |y| json!(y.values));
        let hover_y = y.map_or(String::new(), |y| {
            format!("<br>{}: %{{y}}", y.parameter.label())
        });
        trace["hovertemplate"] = json!(format!(
            "{}: %{{x}}{hover_y}<br>{}: %{{z}}{}<extra></extra>",
            x.parameter.label(),
            metric.label(),
            if unit == "%" { "%" } else { "" },
        ));
        match metric.centre() {
            Some(mid) => {
                trace["colorscale"] = scale(&DIVERGING);
                trace["zmid"] = json!(mid);
            }
            None => {
                trace["colorscale"] = scale(&SEQUENTIAL);
                trace["reversescale"] = json!(metric.direction() == Direction::Lowest);
            }
        }
        let title = match y {
            Some(y) => format!(
                "{} by {} and {}",
                metric.label(),
                x.parameter.label(),
                y.parameter.label()
            ),
            None => format!("{} by {}", metric.label(), x.parameter.label()),
        };
        let yaxis = match y {
            Some(y) => json!({ "type": "category", "title": { "text": y.parameter.title() } }),
            None => json!({ "type": "category", "showticklabels": false }),
        };
        json!({
            "data": [trace],
            "layout": {
                "title": { "text": title },
                "xaxis": { "type": "category", "title": { "text": x.parameter.title() } },
                "yaxis": yaxis,
            },
        })
    }
}
