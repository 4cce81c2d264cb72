//! Cushion analysis (SPEC.md §3): how far each in-position day was from a margin call,
//! measured with the account's own maintenance fraction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::backtest::types::Daily;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Zone {
    Safe,
    Caution,
    Warning,
    Critical,
}

/// Zone of a cushion expressed in percent of equity.
pub fn zone(cushion_pct: f64) -> Zone {
    if cushion_pct >= 50.0 {
        Zone::Safe
    } else if cushion_pct >= 20.0 {
        Zone::Caution
    } else if cushion_pct >= 5.0 {
        Zone::Warning
    } else {
        Zone::Critical
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ZoneDays {
    pub safe: u32,
    pub caution: u32,
    pub warning: u32,
    pub critical: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ZoneShares {
    pub safe: f64,
    pub caution: f64,
    pub warning: f64,
    pub critical: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CushionAnalysis {
    /// Maintenance fraction used (the account's, or the override).
    pub maintenance: f64,
    pub days_in_position: usize,
    pub current_cushion: Option<f64>,
    pub current_cushion_pct: Option<f64>,
    pub current_zone: Option<Zone>,
    pub min_cushion_pct: Option<f64>,
    pub min_cushion_date: Option<NaiveDate>,
    pub mean_cushion_pct: Option<f64>,
    /// Day counts per zone.
    pub zone_days: ZoneDays,
    /// Share of in-position days per zone (sums to 1).
    pub zone_share: ZoneShares,
    /// Smallest `(P − P_call)/P` in percent over in-position days.
    pub min_distance_to_call_pct: Option<f64>,
    pub min_distance_to_call_date: Option<NaiveDate>,
}

pub fn analyse(daily: &Daily, maintenance: f64) -> CushionAnalysis {
    let mut a = CushionAnalysis {
        maintenance,
        ..Default::default()
    };
    let mut sum = 0.0;
    let mut counted = 0usize;
    let n = daily.len();
    // One common length, so the indexing below needs no bounds checks.
    let in_position = &daily.in_position[..n];
    let cushion_pct = &daily.cushion_pct[..n];
    let margin_call_price = &daily.margin_call_price[..n];
    let price = &daily.price[..n];
    let date = &daily.date[..n];
    for i in 0..n {
        if !in_position[i] {
            continue;
        }
        a.days_in_position += 1;
        if let Some(pct) = cushion_pct[i] {
            counted += 1;
            sum += pct;
            if a.min_cushion_pct.is_none_or(|m| pct < m) {
                a.min_cushion_pct = Some(pct);
                a.min_cushion_date = Some(date[i]);
            }
            let slot = match zone(pct) {
                Zone::Safe => &mut a.zone_days.safe,
                Zone::Caution => &mut a.zone_days.caution,
                Zone::Warning => &mut a.zone_days.warning,
                Zone::Critical => &mut a.zone_days.critical,
            };
            *slot += 1;
        } else {
            a.zone_days.critical += 1;
        }
        if let Some(pc) = margin_call_price[i] {
            let p = price[i];
            let dist = (p - pc) / p * 100.0;
            if a.min_distance_to_call_pct.is_none_or(|m| dist < m) {
                a.min_distance_to_call_pct = Some(dist);
                a.min_distance_to_call_date = Some(date[i]);
            }
        }
    }
    if let Some(last) = daily.len().checked_sub(1)
        && daily.in_position[last]
    {
        a.current_cushion = daily.cushion[last];
        a.current_cushion_pct = daily.cushion_pct[last];
        a.current_zone = daily.cushion_pct[last].map(zone);
    }
    if counted > 0 {
        a.mean_cushion_pct = Some(sum / counted as f64);
    }
    if a.days_in_position > 0 {
        let n = a.days_in_position as f64;
        a.zone_share = ZoneShares {
            safe: f64::from(a.zone_days.safe) / n,
            caution: f64::from(a.zone_days.caution) / n,
            warning: f64::from(a.zone_days.warning) / n,
            critical: f64::from(a.zone_days.critical) / n,
        };
    }
    a
}
