//! The checks catalogue and the per-check campaign: which repositories fail
//! each check in their latest scan (or would fail it, for a check that
//! takes effect later).

use super::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use shipshape_analysis::Policy;
use shipshape_analysis::checks::CheckInfo;
use std::collections::HashMap;

/// A check of the catalogue and how many repositories fail it now.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    pub spec: CheckInfo,
    pub failing: i64,
}

/// Every check of the policy (built-in and custom), in catalogue order,
/// with its failing count.
///
/// # Errors
/// Database errors.
pub async fn catalogue<C: ConnectionTrait>(db: &C, policy: &Policy) -> Result<Vec<CatalogueEntry>, DbErr> {
    let sql = "SELECT c.check_id, COUNT(*) AS n FROM check_results c \
               JOIN repositories r ON r.last_scan_id = c.scan_id \
               WHERE c.outcome = 'fail' AND r.archived = $1 GROUP BY c.check_id";
    let mut failing: HashMap<String, i64> = HashMap::new();
    for row in db.query_all_raw(stmt(db, sql, vec![false.into()])).await? {
        failing.insert(row.try_get("", "check_id")?, row.try_get("", "n")?);
    }
    Ok(policy
        .catalogue()
        .into_iter()
        .map(|spec| CatalogueEntry { failing: failing.get(&spec.id).copied().unwrap_or(0), spec })
        .collect())
}

/// A repository failing a check, with the check's summary there.
#[derive(Debug, Clone)]
pub struct Failing {
    pub owner: String,
    pub name: String,
    pub team: Option<String>,
    pub summary: String,
    pub findings: i32,
}

/// The repositories failing `check_id` in their latest scan, most findings first.
///
/// # Errors
/// Database errors.
pub async fn campaign<C: ConnectionTrait>(db: &C, check_id: &str) -> Result<Vec<Failing>, DbErr> {
    listed(db, check_id, "c.outcome = 'fail'").await
}

/// The repositories an upcoming check would fail once in effect: its
/// latest outcome is `upcoming` with findings.
///
/// # Errors
/// Database errors.
pub async fn would_fail<C: ConnectionTrait>(db: &C, check_id: &str) -> Result<Vec<Failing>, DbErr> {
    listed(db, check_id, "c.outcome = 'upcoming' AND c.findings_count > 0").await
}

async fn listed<C: ConnectionTrait>(db: &C, check_id: &str, condition: &str) -> Result<Vec<Failing>, DbErr> {
    let sql = format!(
        "SELECT r.owner, r.name, t.name AS team, c.summary, c.findings_count FROM check_results c \
         JOIN repositories r ON r.last_scan_id = c.scan_id LEFT JOIN teams t ON t.id = r.team_id \
         WHERE {condition} AND c.check_id = $1 AND r.archived = $2 \
         ORDER BY c.findings_count DESC, r.owner, r.name"
    );
    let rows = db.query_all_raw(stmt(db, &sql, vec![check_id.into(), false.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(Failing {
                owner: r.try_get("", "owner")?,
                name: r.try_get("", "name")?,
                team: r.try_get("", "team")?,
                summary: r.try_get("", "summary")?,
                findings: r.try_get("", "findings_count")?,
            })
        })
        .collect()
}
