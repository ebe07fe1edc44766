//! Score history: the successful scans' scores over time, and daily series
//! built from them by carrying each repository's latest score forward.

use super::stmt;
use crate::db::entities::scans::{self, ScanStatus};
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// One successful scan's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub repository_id: i32,
    pub at: DateTime<Utc>,
    pub score: f64,
}

/// Each repository's latest score before `at` (its latest successful scan).
///
/// # Errors
/// Database errors.
pub async fn latest_before<C: ConnectionTrait>(db: &C, at: DateTime<Utc>) -> Result<HashMap<i32, f64>, DbErr> {
    // One index probe per repository (ix_scans_repository_time) instead of
    // grouping every older scan: a year of daily scans is 365 rows per
    // repository, and the overview asks this on every load.
    let sql = "SELECT r.id AS repository_id, \
               (SELECT s.overall_score FROM scans s WHERE s.repository_id = r.id AND s.status = 'succeeded' \
                AND s.finished_at < $1 ORDER BY s.queued_at DESC, s.id DESC LIMIT 1) AS overall_score \
               FROM repositories r";
    let rows = db.query_all_raw(stmt(db, sql, vec![crate::db::db_time(at).into()])).await?;
    let mut out = HashMap::new();
    for row in rows {
        if let Some(score) = row.try_get::<Option<f64>>("", "overall_score")? {
            out.insert(row.try_get::<i32>("", "repository_id")?, score);
        }
    }
    Ok(out)
}

/// Scores from `since` on, preceded by each repository's last score before
/// `since` (so a series starts at the right value), in time order. `repo`
/// narrows to one repository.
///
/// # Errors
/// Database errors.
pub async fn points<C: ConnectionTrait>(db: &C, repo: Option<i32>, since: DateTime<Utc>) -> Result<Vec<Point>, DbErr> {
    let mut out: Vec<Point> = latest_before(db, since)
        .await?
        .into_iter()
        .filter(|(id, _)| repo.is_none_or(|r| r == *id))
        .map(|(repository_id, score)| Point { repository_id, at: since, score })
        .collect();
    let mut q = scans::Entity::find()
        .select_only()
        .columns([scans::Column::RepositoryId, scans::Column::FinishedAt, scans::Column::OverallScore])
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .filter(scans::Column::FinishedAt.gte(crate::db::db_time(since)))
        .order_by_asc(scans::Column::FinishedAt)
        .order_by_asc(scans::Column::Id);
    if let Some(r) = repo {
        q = q.filter(scans::Column::RepositoryId.eq(r));
    }
    let rows: Vec<(i32, Option<DateTime<Utc>>, Option<f64>)> = q.into_tuple().all(db).await?;
    out.extend(
        rows.into_iter().filter_map(|(repository_id, at, score)| Some(Point { repository_id, at: at?, score: score? })),
    );
    Ok(out)
}

/// One value per day from `from` to `to` inclusive: the mean of every
/// repository's latest score at the end of that day; days before any score
/// are left out.
pub fn daily(points: &[Point], from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, f64)> {
    let mut latest: HashMap<i32, f64> = HashMap::new();
    let mut out = Vec::new();
    let mut i = 0;
    let mut day = from;
    while day <= to {
        while i < points.len() && points[i].at.date_naive() <= day {
            latest.insert(points[i].repository_id, points[i].score);
            i += 1;
        }
        if !latest.is_empty() {
            let mean = latest.values().sum::<f64>() / latest.len() as f64;
            out.push((day, (mean * 10.0).round() / 10.0));
        }
        day = match day.checked_add_days(Days::new(1)) {
            Some(d) => d,
            None => break,
        };
    }
    out
}

/// A category's score per scan of one repository since `since`.
///
/// # Errors
/// Database errors.
pub async fn category_points<C: ConnectionTrait>(
    db: &C,
    repo: i32,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, f64)>, DbErr> {
    let sql = "SELECT c.category, s.finished_at, c.score FROM category_scores c JOIN scans s ON s.id = c.scan_id \
               WHERE s.repository_id = $1 AND s.status = 'succeeded' AND s.finished_at >= $2 \
               ORDER BY s.finished_at, s.id";
    let rows = db.query_all_raw(stmt(db, sql, vec![repo.into(), crate::db::db_time(since).into()])).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "category")?, r.try_get("", "finished_at")?, r.try_get("", "score")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn daily_carries_each_repository_forward_and_averages() {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 1, d, 12, 0, 0).unwrap();
        let p = |r, d, s| Point { repository_id: r, at: at(d), score: s };
        let pts = [p(1, 2, 50.0), p(2, 3, 70.0), p(1, 5, 90.0)];
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let got = daily(&pts, day(1), day(5));
        assert_eq!(got, vec![(day(2), 50.0), (day(3), 60.0), (day(4), 60.0), (day(5), 80.0)]);
    }
}
