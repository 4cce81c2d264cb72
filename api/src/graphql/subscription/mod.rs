use async_graphql::EmptySubscription;

/// Subscriptions; the margin API adds backtest progress here.
pub type SubscriptionRoot = EmptySubscription;
