//! `shipshape demo`: builds sample repositories as real git repositories
//! with months of backdated history, registers them, scans every commit in
//! order (so trends and finding timelines exist) and then serves.
//!
//! Running it again starts over: the demo repositories and their history
//! are deleted and rebuilt, nothing else in the database is touched.

pub mod samples;

use crate::store::{self, ScanMeta};
use chrono::{DateTime, Duration, Utc};
use samples::{Change, SampleRepo};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The owner name of every demo repository.
pub const OWNER: &str = "demo";

/// One demo repository after its history was scanned.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub name: String,
    pub team: String,
    pub scans: usize,
    pub first_score: f64,
    pub last_score: f64,
    pub level: String,
    pub open_findings: usize,
    pub rows_written: usize,
}

/// Builds, registers and scans every sample repository under `dir`.
///
/// # Errors
/// git or the database failing; the message says which step.
pub async fn run(db: &DatabaseConnection, dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<DemoSummary>> {
    use anyhow::Context;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot reset {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for sample in samples::all() {
        let repo_dir = dir.join(sample.name);
        let built = {
            let (sample, repo_dir) = (sample.clone(), repo_dir.clone());
            tokio::task::spawn_blocking(move || build(&sample, &repo_dir, now)).await??
        };
        let repo_id = register(db, &sample, &repo_dir).await?;
        let mut summary = DemoSummary {
            name: sample.name.into(),
            team: sample.team.into(),
            scans: 0,
            first_score: 0.0,
            last_score: 0.0,
            level: String::new(),
            open_findings: 0,
            rows_written: 0,
        };
        for (sha, when) in &built {
            let report = {
                let (repo_dir, sha, today) = (repo_dir.clone(), sha.clone(), when.date_naive());
                tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                    git(&repo_dir, &["checkout", "-q", "--force", "--detach", &sha], None)?;
                    let options = shipshape_analysis::Options { today, github: None, ..Default::default() };
                    Ok(shipshape_analysis::analyze(&repo_dir, &options)?)
                })
                .await??
            };
            let meta = ScanMeta {
                repository_id: repo_id,
                commit_sha: Some(sha),
                trigger: "demo",
                queued_at: *when,
                started_at: *when,
                finished_at: *when + Duration::milliseconds(report.stats.duration_ms as i64),
                github_api_calls: None,
            };
            let recorded = store::record_success(db, &meta, &report).await?;
            if summary.scans == 0 {
                summary.first_score = report.score;
            }
            summary.scans += 1;
            summary.last_score = report.score;
            summary.level = report.level.as_str().to_string();
            summary.open_findings = report.findings().filter(|f| f.suppression.is_none()).count();
            summary.rows_written += recorded.rows_written;
        }
        git(&repo_dir, &["checkout", "-q", "main"], None)?;
        out.push(summary);
    }
    Ok(out)
}

/// Creates the repository with its backdated commits; returns (sha, date) per commit.
fn build(sample: &SampleRepo, dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, DateTime<Utc>)>> {
    std::fs::create_dir_all(dir)?;
    git(dir, &["init", "-q", "-b", "main", "--template="], None)?;
    let mut commits = Vec::new();
    for c in &sample.commits {
        for change in &c.changes {
            match change {
                Change::Write(path, contents) => {
                    let full = dir.join(path);
                    if let Some(parent) = full.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&full, contents.as_bytes())?;
                    git(dir, &["add", "--", path], None)?;
                }
                Change::Remove(path) => {
                    git(dir, &["rm", "-q", "--", path], None)?;
                }
                Change::Rename(from, to) => {
                    if let Some(parent) = dir.join(to).parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    git(dir, &["mv", "--", from, to], None)?;
                }
            }
        }
        let when = now - Duration::days(c.days_ago);
        git(dir, &["commit", "-q", "--allow-empty", "-m", c.message], Some((c.author, when)))?;
        commits.push((git(dir, &["rev-parse", "HEAD"], None)?.trim().to_string(), when));
    }
    Ok(commits)
}

fn git(dir: &Path, args: &[&str], author: Option<((&str, &str), DateTime<Utc>)>) -> anyhow::Result<String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false"])
        .args(args);
    if let Some(((name, email), when)) = author {
        let date = when.to_rfc3339();
        for role in ["AUTHOR", "COMMITTER"] {
            cmd.env(format!("GIT_{role}_NAME"), name)
                .env(format!("GIT_{role}_EMAIL"), email)
                .env(format!("GIT_{role}_DATE"), &date);
        }
    }
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Replaces any earlier demo row for this sample; returns the repository id.
async fn register(db: &DatabaseConnection, sample: &SampleRepo, dir: &Path) -> anyhow::Result<i32> {
    use crate::db::entities::repositories::{self, Provider};
    let now = crate::db::db_time(Utc::now());
    // Deleting cascades to the demo's scans, findings and jobs.
    repositories::Entity::delete_many()
        .filter(repositories::Column::Owner.eq(OWNER))
        .filter(repositories::Column::Name.eq(sample.name))
        .exec(db)
        .await?;
    let row = repositories::ActiveModel {
        provider: Set(Provider::Local),
        owner: Set(OWNER.into()),
        name: Set(sample.name.into()),
        clone_url: Set(format!("file://{}", absolute(dir).display())),
        default_branch: Set("main".into()),
        team_id: Set(Some(crate::sources::team_id(db, sample.team).await?)),
        archived: Set(false),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
