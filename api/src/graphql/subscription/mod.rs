mod margin;
mod sweep;

use async_graphql::MergedSubscription;

/// Subscriptions by domain: backtest progress and sweep progress.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(margin::MarginSubscription, sweep::SweepSubscription);
