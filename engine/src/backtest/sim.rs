//! The daily state machine of SPEC.md §3 (steps A–G). Everything else in a result is derived
//! from what this loop records.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Datelike;

use super::input::{LiquidationPolicy, Mode, Resolved};
use super::rounds::{RoundAcc, close_round, daily_view};
use super::types::{Daily, Event, EventKind, Progress, Round, Status};

/// Shares below this count as no position (float dust after a RESTORE sale of nearly everything).
const DUST_SHARES: f64 = 1e-9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Flat,
    Waiting(u32),
    InPosition,
    /// Below `minEquity` when flat: stays in cash to the end.
    Stopped,
}

pub(crate) struct SimOutput {
    pub daily: Daily,
    pub rounds: Vec<Round>,
    pub events: Vec<Event>,
    pub contributed: f64,
    pub slippage_cost: f64,
    pub total_deficit: f64,
}

pub(crate) struct Cancelled;

pub(crate) fn simulate(
    r: &Resolved<'_>,
    margin_rate_pct: &[f64],
    fed_funds_pct: &[f64],
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<SimOutput, Cancelled> {
    let ds = r.ds;
    let inp = &r.input;
    let o = &inp.options;
    let rows = r.end - r.start + 1;
    let fresh = inp.mode == Mode::FreshCapital;
    let threshold = inp.profit_threshold_pct.map(|t| t / 100.0);
    let l = inp.leverage;
    let m = r.profile.maintenance;
    let e0 = inp.initial_investment;
    let basis = f64::from(o.day_count_basis);
    let s = o.liquidation_slippage_bps / 1e4;
    let m_star = m + o.restore_buffer;

    // All 28 columns are allocated up front. The loop writes only what the state machine
    // decides (`RecordedCols`), by index into zero-filled columns: an indexed store is a
    // fraction of a `push` (no capacity check, no length update through memory). Everything
    // that follows from those columns is appended afterwards in straight-line passes
    // (`derive_columns`).
    let mut daily = Daily::with_capacity(rows);
    let cols = RecordedCols::zeroed(&mut daily, rows);
    let mut rounds = Vec::new();
    let mut events = Vec::new();

    let mut phase = Phase::Flat;
    let (mut n, mut d, mut v_ref) = (0.0_f64, 0.0_f64, 0.0_f64);
    let mut e = if fresh { 0.0 } else { e0 };
    let mut banked = 0.0;
    let mut contributed = if fresh { 0.0 } else { e0 };
    let mut round_no = 0u32;
    let mut acc: Option<RoundAcc> = None;
    let (mut slippage_cost, mut total_deficit) = (0.0, 0.0);
    // Day number of the previous row: one calendar conversion per row for `Δt`.
    let mut prev_day = ds.dates[r.start].num_days_from_ce();
    let step = (rows / 100).max(1);
    // A countdown instead of `i % step`: an integer division per row was measurable.
    let mut until_report = 0usize;
    let mut pending_event: Option<EventKind> = None;

    for i in 0..rows {
        let t = r.start + i;
        let date = ds.dates[t];
        let day = date.num_days_from_ce();
        let p = ds.close[t];
        let mut status = Status::Holding;
        let (mut flow, mut interest_t, mut div_t, mut tc_t) = (0.0, 0.0, 0.0, 0.0);
        let mut entered_today = false;

        // A: waiting out the cool-off after a liquidation.
        if let Phase::Waiting(k) = phase {
            if k > 0 {
                phase = Phase::Waiting(k - 1);
                status = Status::Waiting;
            } else {
                phase = Phase::Flat;
            }
        }
        if phase == Phase::Stopped {
            status = Status::InsufficientEquity;
        }

        // B: (re-)entry.
        if phase == Phase::Flat {
            if fresh {
                e = e0;
                contributed += e0;
                if i > 0 {
                    flow = e0;
                }
            }
            if e >= o.min_equity && e > 0.0 {
                n = e * l / p;
                d = e * (l - 1.0);
                v_ref = e * l;
                round_no += 1;
                status = Status::Entered;
                phase = Phase::InPosition;
                entered_today = true;
                acc = Some(RoundAcc {
                    round: round_no,
                    start_idx: i,
                    start_price: p,
                    start_value: n * p,
                    start_equity: e,
                    interest: 0.0,
                    dividends: 0.0,
                    restores: 0,
                    rebalances: 0,
                    tc: 0.0,
                });
                let mut ev = Event::new(EventKind::Entry, date, round_no, p, e);
                ev.shares = Some(n);
                ev.position_value = Some(n * p);
                ev.loan = Some(d);
                events.push(ev);
                pending_event = Some(EventKind::Entry);
            } else {
                status = Status::InsufficientEquity;
                phase = Phase::Stopped;
                events.push(Event::new(
                    EventKind::InsufficientEquity,
                    date,
                    round_no,
                    p,
                    e,
                ));
                pending_event = Some(EventKind::InsufficientEquity);
            }
        }

        if phase == Phase::InPosition {
            // C: carry the position through the day.
            if !entered_today {
                let dt = f64::from(day - prev_day);
                interest_t = d * margin_rate_pct[i - 1] / 100.0 / basis * dt;
                d += interest_t;
                let q = ds.dividends[t];
                if q > 0.0 {
                    div_t = n * q;
                    n += div_t / p;
                }
                if let Some(a) = acc.as_mut() {
                    a.interest += interest_t;
                    a.dividends += div_t;
                }
            }
            e = n * p - d;

            // D: re-lever after a gain (profit-threshold mode only; never sells).
            if let Some(th) = threshold {
                let v = n * p;
                let g = v / v_ref - 1.0;
                if i > 0 && !entered_today && e > 0.0 && g >= th && v / e < o.relever_band * l {
                    let dn = e * l / p - n;
                    if dn > 0.01 {
                        let lev_before = v / e;
                        let cost = dn * p * o.tc_bps / 1e4;
                        e -= cost;
                        let v2 = e * l;
                        n = v2 / p;
                        d = v2 - e;
                        v_ref = v2;
                        tc_t = cost;
                        status = Status::Rebalanced;
                        if let Some(a) = acc.as_mut() {
                            a.rebalances += 1;
                            a.tc += cost;
                        }
                        let mut ev = Event::new(EventKind::Rebalance, date, round_no, p, e);
                        ev.growth_pct = Some(g * 100.0);
                        ev.leverage_before = Some(lev_before);
                        ev.cost = Some(cost);
                        ev.value_after = Some(v2);
                        ev.shares = Some(n);
                        ev.loan = Some(d);
                        events.push(ev);
                        pending_event = Some(EventKind::Rebalance);
                    }
                }
            }

            // E: maintenance check.
            let v = n * p;
            let p_call = d / (n * (1.0 - m));
            let intraday_hit = o.intraday && !entered_today && ds.low[t] <= p_call;
            if e < m * v || intraday_hit {
                let fill = if intraday_hit {
                    ds.open[t].min(p_call)
                } else {
                    p
                };
                let vf = n * fill;
                let ef = vf - d;
                let shortfall = m * vf - ef;
                let full = match o.liquidation_policy {
                    LiquidationPolicy::Full => true,
                    LiquidationPolicy::Restore => {
                        let x = ((m_star * vf - ef) / (m_star - s)).clamp(0.0, vf);
                        n -= x / fill;
                        d -= x * (1.0 - s);
                        slippage_cost += x * s;
                        e = n * p - d;
                        status = Status::MarginCallRestored;
                        if let Some(a) = acc.as_mut() {
                            a.restores += 1;
                        }
                        let mut ev =
                            Event::new(EventKind::MarginCallRestored, date, round_no, p, e);
                        ev.fill_price = Some(fill);
                        ev.shortfall = Some(shortfall);
                        ev.amount_sold = Some(x);
                        ev.shares = Some(n);
                        ev.loan = Some(d);
                        ev.position_value = Some(n * p);
                        events.push(ev);
                        pending_event = Some(EventKind::MarginCallRestored);
                        // The round ends only when what is left is too small to keep going.
                        e < o.min_equity || n <= DUST_SHARES
                    }
                };
                if full {
                    // A RESTORE that gave up sells the remainder at the close.
                    let fill = if o.liquidation_policy == LiquidationPolicy::Full {
                        fill
                    } else {
                        p
                    };
                    let e_liq = n * fill * (1.0 - s) - d;
                    slippage_cost += n * fill * s;
                    let deficit = e_liq.min(0.0);
                    total_deficit += deficit;
                    e = e_liq.max(0.0);
                    let entry_equity = acc.as_ref().map_or(0.0, |a| a.start_equity);
                    let entry_price = acc.as_ref().map_or(p, |a| a.start_price);
                    let days = acc.as_ref().map_or(0, |a| (i - a.start_idx) as u32);
                    let mut ev = Event::new(EventKind::Liquidation, date, round_no, p, e);
                    ev.fill_price = Some(fill);
                    ev.entry_price = Some(entry_price);
                    ev.days_in_position = Some(days);
                    ev.entry_equity = Some(entry_equity);
                    ev.loss_amount = Some(entry_equity - e);
                    ev.loss_pct = Some(if entry_equity > 0.0 {
                        (e / entry_equity - 1.0) * 100.0
                    } else {
                        0.0
                    });
                    ev.shortfall = Some(shortfall);
                    ev.deficit = Some(deficit);
                    ev.shares = Some(n);
                    ev.position_value = Some(n * fill);
                    ev.loan = Some(d);
                    events.push(ev);
                    pending_event = Some(EventKind::Liquidation);
                    if let Some(a) = acc.take() {
                        rounds.push(close_round(
                            a,
                            i,
                            &daily_view(ds, r.start),
                            p,
                            n * fill,
                            e,
                            true,
                            deficit,
                        ));
                    }
                    n = 0.0;
                    d = 0.0;
                    status = Status::Liquidated;
                    phase = Phase::Waiting(o.wait_days);
                    if fresh {
                        banked += e;
                        e = 0.0;
                    }
                }
            }
        }

        // G: record the row (derived columns are filled after the loop).
        let in_pos = phase == Phase::InPosition;
        if in_pos {
            e = n * p - d;
        }
        let w = if fresh { banked + e } else { e };
        prev_day = day;

        cols.status[i] = status;
        cols.in_position[i] = in_pos;
        cols.wait_days_remaining[i] = match phase {
            Phase::Waiting(k) => k,
            _ => 0,
        };
        cols.round[i] = round_no;
        cols.days_in_position[i] = match (&acc, in_pos) {
            (Some(a), true) => (i - a.start_idx) as u32,
            _ => 0,
        };
        cols.shares[i] = if in_pos { n } else { 0.0 };
        cols.loan[i] = if in_pos { d } else { 0.0 };
        cols.equity[i] = e;
        cols.wealth[i] = w;
        cols.contributed[i] = contributed;
        cols.flow[i] = flow;
        cols.daily_interest[i] = interest_t;
        cols.dividend[i] = div_t;
        cols.transaction_cost[i] = tc_t;

        let report = until_report == 0 || i + 1 == rows;
        until_report = if until_report == 0 {
            step - 1
        } else {
            until_report - 1
        };
        if report {
            if cancel.load(Ordering::Relaxed) {
                return Err(Cancelled);
            }
            on_progress(&Progress {
                percent: ((i + 1) as f64 / rows as f64 * 100.0).min(100.0),
                date,
                equity: w,
                event: pending_event.take(),
            });
        }
    }

    derive_columns(
        &mut daily,
        &ds.dates[r.start..=r.end],
        &ds.close[r.start..=r.end],
        fed_funds_pct,
        margin_rate_pct,
        m,
    );
    if let Some(a) = acc.take() {
        let last = rows - 1;
        let p = daily.price[last];
        let v = daily.position_value[last];
        rounds.push(close_round(
            a,
            last,
            &daily_view(ds, r.start),
            p,
            v,
            daily.equity[last],
            false,
            0.0,
        ));
        if let Some(rd) = rounds.last_mut() {
            rd.open = true;
        }
    }

    Ok(SimOutput {
        daily,
        rounds,
        events,
        contributed,
        slippage_cost,
        total_deficit,
    })
}

/// Mutable views of the columns the state machine writes, each exactly `rows` long so the
/// loop's indexing `[i]` for `i < rows` needs no bounds check.
struct RecordedCols<'a> {
    status: &'a mut [Status],
    in_position: &'a mut [bool],
    wait_days_remaining: &'a mut [u32],
    round: &'a mut [u32],
    days_in_position: &'a mut [u32],
    shares: &'a mut [f64],
    loan: &'a mut [f64],
    equity: &'a mut [f64],
    wealth: &'a mut [f64],
    contributed: &'a mut [f64],
    flow: &'a mut [f64],
    daily_interest: &'a mut [f64],
    dividend: &'a mut [f64],
    transaction_cost: &'a mut [f64],
}

impl RecordedCols<'_> {
    /// Zero-fills the recorded columns of `daily` (allocated with capacity `rows`).
    fn zeroed(daily: &mut Daily, rows: usize) -> RecordedCols<'_> {
        fn fill<T: Clone>(v: &mut Vec<T>, rows: usize, x: T) -> &mut [T] {
            v.resize(rows, x);
            &mut v[..rows]
        }
        RecordedCols {
            status: fill(&mut daily.status, rows, Status::Holding),
            in_position: fill(&mut daily.in_position, rows, false),
            wait_days_remaining: fill(&mut daily.wait_days_remaining, rows, 0),
            round: fill(&mut daily.round, rows, 0),
            days_in_position: fill(&mut daily.days_in_position, rows, 0),
            shares: fill(&mut daily.shares, rows, 0.0),
            loan: fill(&mut daily.loan, rows, 0.0),
            equity: fill(&mut daily.equity, rows, 0.0),
            wealth: fill(&mut daily.wealth, rows, 0.0),
            contributed: fill(&mut daily.contributed, rows, 0.0),
            flow: fill(&mut daily.flow, rows, 0.0),
            daily_interest: fill(&mut daily.daily_interest, rows, 0.0),
            dividend: fill(&mut daily.dividend, rows, 0.0),
            transaction_cost: fill(&mut daily.transaction_cost, rows, 0.0),
        }
    }
}

/// Appends the columns that follow from the recorded ones. Every derived value is computed
/// with exactly the operations the per-row definition uses (`V = n·P`, `E − m·V`, the wealth
/// index `Π(1 + r)`, …), so the columns are bit-identical to computing them inside the loop.
/// The iterators have exact lengths, so `extend` writes without per-element capacity checks.
fn derive_columns(
    daily: &mut Daily,
    dates: &[chrono::NaiveDate],
    price: &[f64],
    fed_funds_pct: &[f64],
    margin_rate_pct: &[f64],
    m: f64,
) {
    let Daily {
        date,
        price: price_col,
        in_position,
        fed_funds_rate,
        margin_rate,
        shares,
        position_value,
        loan,
        equity,
        wealth,
        flow,
        maintenance_required,
        cushion,
        cushion_pct,
        margin_call_price,
        leverage,
        daily_interest,
        cumulative_interest,
        dividend,
        cumulative_dividends,
        daily_return,
        drawdown,
        ..
    } = daily;
    date.extend_from_slice(dates);
    price_col.extend_from_slice(price);
    fed_funds_rate.extend_from_slice(fed_funds_pct);
    margin_rate.extend_from_slice(margin_rate_pct);
    // Out of position `shares` is 0, so `n·P` is the recorded 0 as well.
    position_value.extend(shares.iter().zip(price).map(|(n, p)| n * p));
    maintenance_required.extend(position_value.iter().map(|v| m * v));
    let rows = || {
        in_position
            .iter()
            .zip(equity.iter())
            .zip(position_value.iter())
            .map(|((in_pos, e), v)| (*in_pos, *e, *v))
    };
    cushion.extend(
        rows()
            .zip(maintenance_required.iter())
            .map(|((in_pos, e, _), mv)| in_pos.then_some(e - mv)),
    );
    cushion_pct.extend(
        rows()
            .zip(cushion.iter())
            .map(|((in_pos, e, _), c)| match c {
                Some(c) if in_pos && e > 0.0 => Some(c / e * 100.0),
                _ => None,
            }),
    );
    margin_call_price.extend(
        in_position
            .iter()
            .zip(shares.iter())
            .zip(loan.iter())
            .map(|((in_pos, n), d)| (*in_pos && *n > 0.0).then(|| d / (n * (1.0 - m)))),
    );
    leverage.extend(rows().map(|(in_pos, e, v)| (in_pos && e > 0.0).then(|| v / e)));
    let running_sum = |out: &mut Vec<f64>, x: &[f64]| {
        let mut acc = 0.0;
        out.extend(x.iter().map(|v| {
            acc += v;
            acc
        }));
    };
    running_sum(cumulative_interest, daily_interest);
    running_sum(cumulative_dividends, dividend);
    // Time-weighted return net of the day's external flow, and the drawdown of its wealth
    // index (starting at 1, the first peak).
    let mut prev_w = 0.0_f64;
    daily_return.extend(
        wealth
            .iter()
            .zip(flow.iter())
            .enumerate()
            .map(|(i, (w, flow))| {
                let ret = if i == 0 || prev_w <= 0.0 {
                    0.0
                } else {
                    (w - flow) / prev_w - 1.0
                };
                prev_w = *w;
                ret
            }),
    );
    let (mut wealth_index, mut peak) = (1.0_f64, 1.0_f64);
    drawdown.extend(daily_return.iter().map(|ret| {
        wealth_index *= 1.0 + ret;
        peak = peak.max(wealth_index);
        if peak > 0.0 {
            wealth_index / peak - 1.0
        } else {
            0.0
        }
    }));
}
