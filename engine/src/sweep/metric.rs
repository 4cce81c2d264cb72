//! What a sweep compares its cells by, and which way is better.

use serde::{Deserialize, Serialize};

use crate::backtest::Summary;
use crate::error::InputError;

/// Which end of a metric is the best cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Highest,
    Lowest,
}

/// A headline number of a cell's [`Summary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SweepMetric {
    /// `cagr` (fraction).
    Cagr,
    /// `totalReturn`: time-weighted (fraction).
    TotalReturn,
    /// `finalEquity` ($).
    FinalEquity,
    /// `maxDrawdown` (fraction, ≤ 0): the best is the one closest to zero.
    MaxDrawdown,
    Sharpe,
    Sortino,
    Calmar,
    /// Annualised (fraction).
    Volatility,
    Liquidations,
    /// Share of trading days in position (fraction).
    TimeInMarket,
    /// Interest paid on the loan ($).
    TotalInterest,
}

impl SweepMetric {
    pub const ALL: [SweepMetric; 11] = [
        SweepMetric::Cagr,
        SweepMetric::TotalReturn,
        SweepMetric::FinalEquity,
        SweepMetric::MaxDrawdown,
        SweepMetric::Sharpe,
        SweepMetric::Sortino,
        SweepMetric::Calmar,
        SweepMetric::Volatility,
        SweepMetric::Liquidations,
        SweepMetric::TimeInMarket,
        SweepMetric::TotalInterest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SweepMetric::Cagr => "CAGR",
            SweepMetric::TotalReturn => "TOTAL_RETURN",
            SweepMetric::FinalEquity => "FINAL_EQUITY",
            SweepMetric::MaxDrawdown => "MAX_DRAWDOWN",
            SweepMetric::Sharpe => "SHARPE",
            SweepMetric::Sortino => "SORTINO",
            SweepMetric::Calmar => "CALMAR",
            SweepMetric::Volatility => "VOLATILITY",
            SweepMetric::Liquidations => "LIQUIDATIONS",
            SweepMetric::TimeInMarket => "TIME_IN_MARKET",
            SweepMetric::TotalInterest => "TOTAL_INTEREST",
        }
    }

    /// The CLI spelling (`total-return`, …).
    pub fn cli_name(self) -> String {
        self.as_str().to_ascii_lowercase().replace('_', "-")
    }

    /// The metric's value in `s` (fractions stay fractions), `None` when undefined.
    pub fn value(self, s: &Summary) -> Option<f64> {
        let v = match self {
            SweepMetric::Cagr => s.cagr,
            SweepMetric::TotalReturn => s.total_return,
            SweepMetric::FinalEquity => Some(s.final_equity),
            SweepMetric::MaxDrawdown => s.max_drawdown,
            SweepMetric::Sharpe => s.sharpe,
            SweepMetric::Sortino => s.sortino,
            SweepMetric::Calmar => s.calmar,
            SweepMetric::Volatility => s.volatility,
            SweepMetric::Liquidations => Some(f64::from(s.liquidations)),
            SweepMetric::TimeInMarket => Some(s.time_in_market),
            SweepMetric::TotalInterest => Some(s.total_interest),
        };
        v.filter(|x| x.is_finite())
    }

    /// Which way is better. Drawdowns are ≤ 0, so the highest is the one closest to zero.
    /// Time in market: more is better (a run knocked out by liquidations waits or sits in
    /// cash).
    pub fn direction(self) -> Direction {
        match self {
            SweepMetric::Volatility | SweepMetric::Liquidations | SweepMetric::TotalInterest => {
                Direction::Lowest
            }
            _ => Direction::Highest,
        }
    }

    /// Human name for figure titles.
    pub fn label(self) -> &'static str {
        match self {
            SweepMetric::Cagr => "CAGR",
            SweepMetric::TotalReturn => "total return",
            SweepMetric::FinalEquity => "final equity",
            SweepMetric::MaxDrawdown => "max drawdown",
            SweepMetric::Sharpe => "Sharpe ratio",
            SweepMetric::Sortino => "Sortino ratio",
            SweepMetric::Calmar => "Calmar ratio",
            SweepMetric::Volatility => "volatility",
            SweepMetric::Liquidations => "liquidations",
            SweepMetric::TimeInMarket => "time in market",
            SweepMetric::TotalInterest => "total interest",
        }
    }

    /// Factor from [`SweepMetric::value`] to what a figure shows (fractions as percent).
    pub fn display_scale(self) -> f64 {
        match self {
            SweepMetric::Cagr
            | SweepMetric::TotalReturn
            | SweepMetric::MaxDrawdown
            | SweepMetric::Volatility
            | SweepMetric::TimeInMarket => 100.0,
            _ => 1.0,
        }
    }

    /// Unit of the displayed value.
    pub fn unit(self) -> &'static str {
        match self {
            SweepMetric::Cagr
            | SweepMetric::TotalReturn
            | SweepMetric::MaxDrawdown
            | SweepMetric::Volatility
            | SweepMetric::TimeInMarket => "%",
            SweepMetric::FinalEquity | SweepMetric::TotalInterest => "$",
            SweepMetric::Sharpe | SweepMetric::Sortino | SweepMetric::Calmar => "ratio",
            SweepMetric::Liquidations => "count",
        }
    }

    /// Where a diverging colour scale is centred, for metrics whose sign means something
    /// (a gain or a loss): 0 for returns and the risk-adjusted ratios.
    pub fn centre(self) -> Option<f64> {
        match self {
            SweepMetric::Cagr
            | SweepMetric::TotalReturn
            | SweepMetric::Sharpe
            | SweepMetric::Sortino
            | SweepMetric::Calmar => Some(0.0),
            _ => None,
        }
    }
}

impl std::fmt::Display for SweepMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SweepMetric {
    type Err = InputError;
    /// `cagr`, `total-return`, `final-equity`, `max-drawdown`, `sharpe`, `sortino`, `calmar`,
    /// `volatility`, `liquidations`, `time-in-market`, `total-interest`, or the enum names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let token = crate::account::norm_token(s);
        SweepMetric::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(&token))
            .ok_or_else(|| {
                let known: Vec<String> = SweepMetric::ALL.iter().map(|m| m.cli_name()).collect();
                InputError::new(
                    "metric",
                    format!("unknown metric `{}` (use {})", s.trim(), known.join(", ")),
                )
            })
    }
}

impl std::str::FromStr for Direction {
    type Err = InputError;
    /// `highest` or `lowest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::account::norm_token(s).as_str() {
            "highest" => Ok(Direction::Highest),
            "lowest" => Ok(Direction::Lowest),
            _ => Err(InputError::new(
                "direction",
                format!("unknown direction `{}` (use highest or lowest)", s.trim()),
            )),
        }
    }
}
