mod margin;

use async_graphql::MergedSubscription;

/// Subscriptions by domain: the margin API's backtest progress.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(margin::MarginSubscription);
