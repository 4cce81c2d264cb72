//! `backtestProgress(sessionId)`: a snapshot, then progress and events, then one terminal
//! message (COMPLETED with the summary, ERROR or CANCELLED), after which the stream ends.
//!
//! The subscription is taken on the bus *before* the session row is read, so nothing
//! published in between is lost. Each subscriber has a bounded buffer; one that falls behind
//! it gets an error and is dropped. While waiting, the session row is re-read every few
//! seconds, so a run finishing on a replica that cannot reach us (Redis down) still ends the
//! stream.

use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::ids::{Kind, parse_uuid};
use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{
    bus::{BusEvent, BusKind, Subscription as BusSubscription},
    error::ApiError,
    graphql::types::{
        backtest::{BacktestProgress, ProgressKind},
        margin_enums::BacktestStatus,
        scalars::Date,
    },
    services::backtests::{SessionRecord, SessionStatus},
    state::AppState,
};

#[derive(Default)]
pub struct MarginSubscription;

enum Phase {
    Queue(Vec<BacktestProgress>),
    Live,
    Done,
}

struct Follow {
    phase: Phase,
    bus: BusSubscription,
    state: AppState,
    /// The subscriber, whose own identity reads the row on every poll (None: anonymous).
    caller: Option<i64>,
    session_id: Uuid,
    poll: tokio::time::Interval,
}

fn from_bus(event: &BusEvent) -> BacktestProgress {
    let (kind, status) = match event.kind {
        BusKind::Running => (ProgressKind::Running, BacktestStatus::Running),
        BusKind::Progress => (ProgressKind::Progress, BacktestStatus::Running),
        BusKind::Completed => (ProgressKind::Completed, BacktestStatus::Completed),
        BusKind::Error => (ProgressKind::Error, BacktestStatus::Error),
        BusKind::Cancelled => (ProgressKind::Cancelled, BacktestStatus::Cancelled),
    };
    BacktestProgress {
        kind,
        session_id: event.session_id.into(),
        status,
        percent: event.percent,
        current_date: event.date.map(Date),
        equity: event.equity,
        event: event.event.map(Into::into),
        summary: event.summary.as_deref().map(Into::into),
        message: event.message.clone(),
        execution_time_ms: event.execution_time_ms,
    }
}

/// The terminal message for a finished session read from the database.
async fn terminal_of(state: &AppState, record: &SessionRecord) -> Option<BacktestProgress> {
    let status = record.status;
    let kind = match status {
        SessionStatus::Completed => ProgressKind::Completed,
        SessionStatus::Error => ProgressKind::Error,
        SessionStatus::Cancelled => ProgressKind::Cancelled,
        _ => return None,
    };
    let summary = if status == SessionStatus::Completed {
        state
            .backtests
            .result_of(record)
            .await
            .ok()
            .flatten()
            .map(|r| (&r.summary).into())
    } else {
        None
    };
    Some(BacktestProgress {
        kind,
        session_id: record.session_id.into(),
        status: status.into(),
        percent: (status == SessionStatus::Completed).then_some(100.0),
        current_date: None,
        equity: None,
        event: None,
        summary,
        message: record.error_message.clone(),
        execution_time_ms: record.execution_time_ms,
    })
}

fn snapshot_of(record: &SessionRecord) -> BacktestProgress {
    let status = record.status;
    BacktestProgress {
        kind: ProgressKind::Snapshot,
        session_id: record.session_id.into(),
        status: status.into(),
        percent: match status {
            SessionStatus::Completed => Some(100.0),
            SessionStatus::Pending => Some(0.0),
            _ => None,
        },
        current_date: None,
        equity: None,
        event: None,
        summary: None,
        message: record.error_message.clone(),
        execution_time_ms: record.execution_time_ms,
    }
}

async fn step(mut follow: Follow) -> Option<(async_graphql::Result<BacktestProgress>, Follow)> {
    loop {
        match &mut follow.phase {
            Phase::Done => return None,
            Phase::Queue(items) => {
                if items.is_empty() {
                    follow.phase = Phase::Live;
                    continue;
                }
                let item = items.remove(0);
                if matches!(
                    item.kind,
                    ProgressKind::Completed | ProgressKind::Error | ProgressKind::Cancelled
                ) {
                    follow.phase = Phase::Done;
                }
                return Some((Ok(item), follow));
            }
            Phase::Live => {
                tokio::select! {
                    received = follow.bus.receiver.recv() => match received {
                        Ok(event) => {
                            if event.kind.is_terminal() {
                                follow.phase = Phase::Done;
                            }
                            return Some((Ok(from_bus(&event)), follow));
                        }
                        Err(RecvError::Lagged(_)) => {
                            follow.phase = Phase::Done;
                            let err = ApiError::BadRequest(
                                "this subscriber fell too far behind the progress stream and was dropped; subscribe again".into(),
                            );
                            return Some((Err(err.into()), follow));
                        }
                        Err(RecvError::Closed) => return None,
                    },
                    _ = follow.poll.tick() => {
                        let found = state_session(&follow).await;
                        if let Some(record) = found
                            && let Some(item) = terminal_of(&follow.state, &record).await
                        {
                            follow.phase = Phase::Done;
                            return Some((Ok(item), follow));
                        }
                    }
                }
            }
        }
    }
}

async fn state_session(follow: &Follow) -> Option<SessionRecord> {
    // Read as the subscriber: an owned session is invisible to nobody-in-particular.
    follow
        .state
        .backtests
        .session(follow.caller, follow.session_id)
        .await
        .ok()
}

#[Subscription]
impl MarginSubscription {
    /// Live progress of a backtest session (yours, or an anonymous one whose id you hold).
    async fn backtest_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's global id or its `sessionId`.")] session_id: ID,
    ) -> Result<impl Stream<Item = async_graphql::Result<BacktestProgress>> + use<>, ApiError> {
        let session_id = parse_uuid(&session_id, Kind::BacktestSession)?;
        let state = app_state(ctx).clone();
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        let bus = state.backtests.bus.subscribe(session_id);
        let record = state.backtests.session(caller, session_id).await?;
        let mut queue = vec![snapshot_of(&record)];
        if let Some(terminal) = terminal_of(&state, &record).await {
            queue.push(terminal);
        }
        let every = state.config.subscription_poll();
        let mut poll = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let follow = Follow {
            phase: Phase::Queue(queue),
            bus,
            state,
            caller,
            session_id,
            poll,
        };
        Ok(stream::unfold(follow, step))
    }
}
