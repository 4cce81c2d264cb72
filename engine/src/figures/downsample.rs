//! Which rows of a daily series a chart draws: largest-triangle-three-buckets (Steinarsson,
//! 2013) over the rows with a value, plus rows that must never disappear (the first and last,
//! event days, drawdown valleys, the edges of gaps). A 33-year run has ~8,300 rows; a screen
//! is ~1,500 pixels wide, so the rest only costs bytes and render time.

/// The rows to draw of `values` (None: no value that day, drawn as a gap), in order.
/// `max_points == 0`, or a series already that short, keeps every row. `keep` lists rows
/// that are always drawn, as are the series' highest and lowest values; they count toward
/// `max_points` but are never dropped, so a series with more such rows than `max_points`
/// keeps them all.
pub(crate) fn rows_to_draw(
    values: &[Option<f64>],
    max_points: usize,
    keep: &[usize],
) -> Vec<usize> {
    let n = values.len();
    if max_points == 0 || n <= max_points {
        return (0..n).collect();
    }
    let mut forced = vec![false; n];
    for &i in keep.iter().filter(|&&i| i < n) {
        forced[i] = values[i].is_some();
    }
    // A gap stays a gap: its first row (None) and the valued rows either side of it.
    let mut gap_starts = Vec::new();
    for i in 0..n {
        let here = values[i].is_some();
        let before = i > 0 && values[i - 1].is_some();
        let after = i + 1 < n && values[i + 1].is_some();
        if here && (!before || !after) {
            forced[i] = true;
        }
        if !here && (i == 0 || values[i - 1].is_some()) {
            gap_starts.push(i);
        }
    }
    let valued: Vec<usize> = (0..n).filter(|&i| values[i].is_some()).collect();
    let value = |i: &&usize| values[**i].unwrap_or(0.0);
    for extreme in [
        valued.iter().max_by(|a, b| value(a).total_cmp(&value(b))),
        valued.iter().min_by(|a, b| value(a).total_cmp(&value(b))),
    ]
    .into_iter()
    .flatten()
    {
        forced[*extreme] = true;
    }
    let fixed = forced.iter().filter(|&&f| f).count() + gap_starts.len();
    let budget = max_points.saturating_sub(fixed);
    let mut chosen = forced;
    for i in lttb(&valued, values, budget + 2) {
        chosen[i] = true;
    }
    for i in gap_starts {
        chosen[i] = true;
    }
    (0..n).filter(|&i| chosen[i]).collect()
}

/// Largest-triangle-three-buckets over the rows `rows` (all valued), choosing `target`
/// of them (the first and last always). The row number is the x coordinate: trading days
/// are what the chart spaces evenly enough.
fn lttb(rows: &[usize], values: &[Option<f64>], target: usize) -> Vec<usize> {
    let n = rows.len();
    if target >= n || n < 3 {
        return rows.to_vec();
    }
    let y = |k: usize| values[rows[k]].unwrap_or(0.0);
    let x = |k: usize| rows[k] as f64;
    let mut out = Vec::with_capacity(target);
    out.push(rows[0]);
    if target <= 2 {
        out.push(rows[n - 1]);
        return out;
    }
    // More than one row per bucket (target < n), so no bucket is empty.
    let every = (n - 2) as f64 / (target - 2) as f64;
    let edge = |b: usize| (b as f64 * every) as usize + 1;
    let mut a = 0usize;
    for bucket in 0..target - 2 {
        // The third corner of each triangle: the average of the next bucket.
        let (next_from, next_to) = (edge(bucket + 1), edge(bucket + 2).min(n));
        let count = (next_to - next_from) as f64;
        let avg_x = (next_from..next_to).map(x).sum::<f64>() / count;
        let avg_y = (next_from..next_to).map(y).sum::<f64>() / count;
        let (ax, ay) = (x(a), y(a));
        let mut best = edge(bucket);
        let mut best_area = f64::NEG_INFINITY;
        for k in edge(bucket)..edge(bucket + 1) {
            let area = ((ax - avg_x) * (y(k) - ay) - (ax - x(k)) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = k;
            }
        }
        out.push(rows[best]);
        a = best;
    }
    out.push(rows[n - 1]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<Option<f64>> {
        (0..n)
            .map(|i| Some((i as f64 / 50.0).sin() * 100.0 + i as f64))
            .collect()
    }

    #[test]
    fn short_series_and_zero_keep_every_row() {
        let s = series(100);
        assert_eq!(rows_to_draw(&s, 0, &[]).len(), 100);
        assert_eq!(rows_to_draw(&s, 100, &[]).len(), 100);
        assert_eq!(rows_to_draw(&s, 5_000, &[]).len(), 100);
    }

    #[test]
    fn long_series_meet_the_budget_and_keep_ends_extremes_and_forced_rows() {
        let mut s = series(8_000);
        s[4_321] = Some(-10_000.0); // a crash no chart may hide
        let rows = rows_to_draw(&s, 1_500, &[17, 3_000, 7_998]);
        assert!(rows.len() <= 1_500, "{}", rows.len());
        assert!(rows.len() > 1_400, "{}", rows.len());
        for must in [0, 17, 3_000, 4_321, 7_998, 7_999] {
            assert!(rows.contains(&must), "row {must}");
        }
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    }

    #[test]
    fn gaps_stay_gaps() {
        let mut s = series(5_000);
        for v in &mut s[2_000..2_500] {
            *v = None;
        }
        let rows = rows_to_draw(&s, 500, &[]);
        assert!(rows.contains(&1_999) && rows.contains(&2_000) && rows.contains(&2_500));
        assert_eq!(rows.iter().filter(|&&i| s[i].is_none()).count(), 1);
        assert!(rows.len() <= 500);
    }

    #[test]
    fn more_forced_rows_than_the_budget_are_all_kept() {
        let s = series(3_000);
        let keep: Vec<usize> = (0..3_000).step_by(2).collect();
        let rows = rows_to_draw(&s, 100, &keep);
        assert!(keep.iter().all(|k| rows.contains(k)));
    }
}
