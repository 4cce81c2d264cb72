//! Market queries: tickers and the version, and price, dividend and rate series for charts.

use async_graphql::{Context, Object};

use crate::{
    error::ApiResult,
    graphql::{
        app_state,
        types::{
            market::{Dividend, PriceSeries, RateSeries, RateSeriesKind, Ticker, VersionInfo},
            scalars::Date,
        },
    },
    services::market,
};

#[derive(Default)]
pub struct MarketQuery;

#[Object]
impl MarketQuery {
    /// Every dataset in the data directory, by symbol, with its span and last close.
    async fn tickers(&self, ctx: &Context<'_>) -> Vec<Ticker> {
        let state = app_state(ctx);
        market::tickers(&state.market)
            .into_iter()
            .map(|t| Ticker {
                symbol: t.symbol,
                name: t.name,
                first_date: t.first_date.into(),
                last_date: t.last_date.into(),
                last_close: t.last_close,
                rows: i32::try_from(t.rows).unwrap_or(i32::MAX),
            })
            .collect()
    }

    /// The versions of the service and of its calculation engine.
    async fn version(&self) -> VersionInfo {
        VersionInfo {
            service: crate::SERVICE_VERSION.to_string(),
            engine: engine::ENGINE_VERSION.to_string(),
        }
    }
}

/// The market data series. A second object only so that the merged `Query` lists these
/// fields where it always has (after the margin fields): the schema stays the same.
#[derive(Default)]
pub struct MarketSeriesQuery;

#[Object]
impl MarketSeriesQuery {
    /// Daily prices of a ticker, column-wise; `every` keeps one row in `every` (the last is
    /// always kept). At most 10,000 points: beyond that, BAD_USER_INPUT names the `every`
    /// needed.
    async fn prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dataset's symbol (see `tickers`), case-insensitive.")] ticker: String,
        #[graphql(desc = "The first day to include; null: the dataset's first day.")] from: Option<
            Date,
        >,
        #[graphql(desc = "The last day to include; null: the dataset's last day.")] to: Option<
            Date,
        >,
        #[graphql(
            desc = "Keep one trading day in this many, 1–10,000 (the last is always kept); null: every day."
        )]
        every: Option<i32>,
    ) -> ApiResult<PriceSeries> {
        let state = app_state(ctx);
        market::prices(
            &state.market,
            &ticker,
            from.map(|d| d.0),
            to.map(|d| d.0),
            every,
        )
        .map(Into::into)
    }

    /// Cash dividends per share on their ex-dates (derived from close and adjusted close).
    async fn dividends(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dataset's symbol (see `tickers`), case-insensitive.")] ticker: String,
        #[graphql(desc = "Ex-dates on or after this day; null: from the dataset's first day.")]
        from: Option<Date>,
        #[graphql(desc = "Ex-dates on or before this day; null: to the dataset's last day.")]
        to: Option<Date>,
    ) -> ApiResult<Vec<Dividend>> {
        let state = app_state(ctx);
        market::dividends(&state.market, &ticker, from.map(|d| d.0), to.map(|d| d.0))
            .map(|rows| rows.into_iter().map(Into::into).collect())
    }

    /// An interest-rate series (observations as published, not forward-filled). At most
    /// 10,000 points, as for `prices`.
    async fn rates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which series.")] series: RateSeriesKind,
        #[graphql(desc = "The first day to include; null: the series' first observation.")]
        from: Option<Date>,
        #[graphql(desc = "The last day to include; null: the series' last observation.")]
        to: Option<Date>,
        #[graphql(
            desc = "Keep one observation in this many, 1–10,000 (the last is always kept); null: every one."
        )]
        every: Option<i32>,
    ) -> ApiResult<RateSeries> {
        let state = app_state(ctx);
        market::rates(
            &state.market,
            series.into(),
            from.map(|d| d.0),
            to.map(|d| d.0),
            every,
        )
        .map(Into::into)
    }
}
