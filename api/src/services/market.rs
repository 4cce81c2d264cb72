use chrono::NaiveDate;
use engine::market::MarketData;

#[derive(Debug, Clone, PartialEq)]
pub struct TickerSummary {
    pub symbol: String,
    pub name: String,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub last_close: f64,
    pub rows: usize,
}

/// Every loaded dataset with its span and last close, ordered by symbol.
pub fn tickers(market: &MarketData) -> Vec<TickerSummary> {
    market
        .datasets()
        .filter_map(|d| {
            Some(TickerSummary {
                symbol: d.symbol.clone(),
                name: d.name.clone(),
                first_date: *d.dates.first()?,
                last_date: *d.dates.last()?,
                last_close: *d.close.last()?,
                rows: d.dates.len(),
            })
        })
        .collect()
}
