mod margin;

use async_graphql::MergedSubscription;

/// Subscriptions by domain: the margin API's backtest progress.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(margin::MarginSubscription);
