//! `sweepProgress(sweepId)`: a snapshot, then the cells in batches as they finish (with the
//! percentage), then one terminal COMPLETED, ERROR or CANCELLED, after which the stream ends.
//!
//! A sweep running in this process is followed directly: the follower's starting count and
//! its first batch are taken under one lock, so every cell arrives once, either counted in the
//! snapshot or in a batch. A sweep running elsewhere is followed through its row, read every
//! [`POLL_EVERY`] (its progress, without the cells).

use std::time::Duration;

use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use crate::{
    error::ApiError,
    graphql::{
        app_state, guards,
        ids::{Kind, parse_uuid},
        types::{margin_enums::BacktestStatus, scalars::Uuid as UuidScalar, sweep::SweepCell},
    },
    services::sweeps::{SweepEvent, SweepRecord, Sweeps},
};

const POLL_EVERY: Duration = Duration::from_millis(250);

/// Which kind of message a sweep progress subscription delivered.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SweepProgressKind {
    /// The sweep's state when the subscription started (always first).
    Snapshot,
    /// Cells finished (in `cells`, when the sweep runs on the server you are connected to).
    Cells,
    /// The sweep finished; read its grid with `sweepSession` (last message).
    Completed,
    /// The sweep failed; `message` says why (last message).
    Error,
    /// The sweep was cancelled (last message).
    Cancelled,
}

/// One message of a `sweepProgress` subscription.
#[derive(SimpleObject, Clone, Debug)]
pub struct SweepProgress {
    /// What this message reports.
    pub kind: SweepProgressKind,
    /// The sweep followed.
    pub sweep_id: UuidScalar,
    /// The sweep's status as of this message.
    pub status: BacktestStatus,
    /// Cells in the grid.
    pub cell_count: i32,
    /// Cells finished so far, error cells included.
    pub completed_cells: i32,
    /// `completedCells / cellCount`, percent 0–100.
    pub percent: f64,
    /// CELLS: the cells this message reports, with their grid index; empty otherwise.
    pub cells: Vec<SweepProgressCell>,
    /// ERROR: why the sweep failed.
    pub message: Option<String>,
}

/// A finished cell with its place in the grid.
#[derive(SimpleObject, Clone, Debug)]
pub struct SweepProgressCell {
    /// Grid index (y outer, x inner), as `cells` pages them.
    pub index: i32,
    /// The cell.
    pub cell: SweepCell,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn message(
    kind: SweepProgressKind,
    record: &SweepRecord,
    completed: usize,
    cells: Vec<SweepProgressCell>,
) -> SweepProgress {
    let total = record.cell_count.max(1);
    SweepProgress {
        kind,
        sweep_id: record.sweep_id.into(),
        status: record.status.into(),
        cell_count: record.cell_count,
        completed_cells: count(completed),
        percent: (f64::from(count(completed)) / f64::from(total) * 100.0).clamp(0.0, 100.0),
        cells,
        message: record.error_message.clone(),
    }
}

/// The terminal message of a finished row, or None while it runs.
fn terminal(record: &SweepRecord) -> Option<SweepProgress> {
    use entity::sweep_session::SessionStatus as S;
    let kind = match record.status {
        S::Completed => SweepProgressKind::Completed,
        S::Error => SweepProgressKind::Error,
        S::Cancelled => SweepProgressKind::Cancelled,
        S::Pending | S::Running => return None,
    };
    let completed = usize::try_from(record.completed_cells).unwrap_or(0);
    Some(message(kind, record, completed, Vec::new()))
}

struct Follow {
    sweeps: Sweeps,
    caller: Option<i64>,
    sweep_id: Uuid,
    queue: Vec<SweepProgress>,
    events: Option<Receiver<SweepEvent>>,
    completed: usize,
    poll: tokio::time::Interval,
    done: bool,
}

impl Follow {
    async fn record(&self) -> Option<SweepRecord> {
        self.sweeps
            .view(self.caller, self.sweep_id)
            .await
            .ok()
            .map(|view| view.record)
    }
}

async fn step(mut follow: Follow) -> Option<(async_graphql::Result<SweepProgress>, Follow)> {
    loop {
        if !follow.queue.is_empty() {
            let item = follow.queue.remove(0);
            return Some((Ok(item), follow));
        }
        if follow.done {
            return None;
        }
        let Some(events) = follow.events.as_mut() else {
            // Running elsewhere: the row's progress until it is finished.
            follow.poll.tick().await;
            let record = follow.record().await?;
            if let Some(last) = terminal(&record) {
                follow.done = true;
                return Some((Ok(last), follow));
            }
            let completed = usize::try_from(record.completed_cells).unwrap_or(0);
            if completed > follow.completed {
                follow.completed = completed;
                let item = message(SweepProgressKind::Cells, &record, completed, Vec::new());
                return Some((Ok(item), follow));
            }
            continue;
        };
        match events.recv().await {
            Ok(SweepEvent::Cells { start, cells }) => {
                follow.completed += cells.len();
                let record = follow.record().await?;
                let cells = cells
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| SweepProgressCell {
                        index: count(start + i),
                        cell: cell.into(),
                    })
                    .collect();
                let mut item = message(SweepProgressKind::Cells, &record, follow.completed, cells);
                item.status = BacktestStatus::Running;
                return Some((Ok(item), follow));
            }
            Ok(SweepEvent::Finished) | Err(RecvError::Closed) => {
                follow.done = true;
                let record = follow.record().await?;
                return terminal(&record).map(|last| (Ok(last), follow));
            }
            Err(RecvError::Lagged(_)) => {
                follow.done = true;
                let err = ApiError::BadRequest(
                    "this subscriber fell too far behind the sweep and was dropped; subscribe again"
                        .into(),
                );
                return Some((Err(err.into()), follow));
            }
        }
    }
}

#[derive(Default)]
pub struct SweepSubscription;

#[Subscription]
impl SweepSubscription {
    /// Live progress of a sweep (yours, or an anonymous one whose id you hold).
    async fn sweep_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sweep's global id or its `sweepId`.")] sweep_id: ID,
    ) -> Result<impl Stream<Item = async_graphql::Result<SweepProgress>> + use<>, ApiError> {
        let sweep_id = parse_uuid(&sweep_id, Kind::SweepSession)?;
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        let sweeps = app_state(ctx).sweeps.clone();
        // Follow first, then read the row: a sweep finishing in between is then terminal in
        // the row, or its last batches are on the channel.
        let following = sweeps.follow(sweep_id);
        let record = sweeps.view(caller, sweep_id).await?.record;
        let stored = usize::try_from(record.completed_cells).unwrap_or(0);
        let completed = following.as_ref().map_or(stored, |f| f.finished);
        let mut queue = vec![message(
            SweepProgressKind::Snapshot,
            &record,
            completed,
            Vec::new(),
        )];
        let last = terminal(&record);
        let done = last.is_some();
        queue.extend(last);
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let follow = Follow {
            sweeps,
            caller,
            sweep_id,
            queue,
            events: if done {
                None
            } else {
                following.map(|f| f.events)
            },
            completed,
            poll,
            done,
        };
        Ok(stream::unfold(follow, step))
    }
}
