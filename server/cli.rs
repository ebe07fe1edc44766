//! The `shipshape` command line: one subcommand per job, each a thin call
//! into the library. Exit codes: 0 success, 1 a quality gate failed (scan),
//! 2 an error (bad config, unreachable database, unreadable path).

use crate::config::Settings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "shipshape", version, about = "Continuous production-readiness scoring for many repositories")]
pub struct Cli {
    /// A TOML file layered over config/default.toml (environment variables still win).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the dashboard and API server (applies pending migrations first).
    Serve {
        /// Which parts to run in this process (overrides `server.role`):
        /// split web and worker replicas on one Postgres to scale out.
        #[arg(long, value_enum)]
        role: Option<crate::config::Role>,
    },
    /// Scan a directory and print its readiness report (no database needed).
    Scan(crate::scan_cmd::ScanArgs),
    /// Build sample repositories with months of history, scan every commit,
    /// then serve: the quickest way to see Shipshape with real data.
    Demo {
        /// Only build and scan; do not start the server afterwards.
        #[arg(long)]
        no_serve: bool,
    },
    /// Discover the repositories of the GitHub organisations and users in
    /// `github.sources` now (the scheduler also does it hourly).
    Discover,
    /// Print this week's digest (--dry-run) or send it now (--send).
    Digest(DigestArgs),
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["dry_run", "send"])))]
pub struct DigestArgs {
    /// Print the digest to stdout instead of mailing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Mail the week's digests to their recipients now (each at most once per week, as the scheduler would).
    #[arg(long)]
    pub send: bool,
    /// With --dry-run: the digest of this team (slug) instead of the org's.
    #[arg(long, value_name = "SLUG", requires = "dry_run")]
    pub team: Option<String>,
    /// With --dry-run: print the HTML part (chart inlined) instead of the text.
    #[arg(long, requires = "dry_run")]
    pub html: bool,
    /// The ISO week to report on, e.g. 2026-W47; default: the last complete week.
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<crate::digest::period::Week>,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the most recent migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        // `scan` needs no server configuration: a broken config must not stop it.
        Command::Scan(args) => return tokio::task::block_in_place(|| crate::scan_cmd::run(args)),
        Command::Serve { role } => match settings(cli.config.as_deref()) {
            Ok((mut s, _telemetry)) => {
                if let Some(role) = role {
                    s.server.role = role;
                }
                serve(s).await
            }
            Err(code) => return code,
        },
        Command::Demo { no_serve } => match settings(cli.config.as_deref()) {
            Ok((s, _telemetry)) => demo(s, no_serve).await,
            Err(code) => return code,
        },
        Command::Discover => match settings(cli.config.as_deref()) {
            Ok((s, _telemetry)) => discover(s).await,
            Err(code) => return code,
        },
        Command::Digest(args) => match settings(cli.config.as_deref()) {
            Ok((s, _telemetry)) => digest(s, args).await,
            Err(code) => return code,
        },
        Command::Migrate { action } => match settings(cli.config.as_deref()) {
            Ok((s, _telemetry)) => migrate(s, action).await,
            Err(code) => return code,
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Loads and validates the configuration, then starts logging; a config
/// error is printed as one line and becomes exit code 2.
fn settings(config: Option<&std::path::Path>) -> Result<(Settings, crate::telemetry::Telemetry), ExitCode> {
    match Settings::load(config) {
        Ok(s) => {
            let telemetry = crate::telemetry::init(&s);
            Ok((s, telemetry))
        }
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(2))
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = crate::startup::Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}

async fn demo(settings: Settings, no_serve: bool) -> anyhow::Result<()> {
    let db = crate::db::connect(&settings.database).await?;
    crate::db::migrate_up(&db).await?;
    let dir = settings.data_dir.join("demo");
    let started = std::time::Instant::now();
    let repos = crate::demo::run(&db, &dir, chrono::Utc::now()).await?;
    println!("{:<16} {:<10} {:>5} {:>13} {:<10} {:>6}", "repository", "team", "scans", "score", "level", "open");
    for r in &repos {
        let trend = format!("{:.1} → {:.1}", r.first_score, r.last_score);
        println!("{:<16} {:<10} {:>5} {:>13} {:<10} {:>6}", r.name, r.team, r.scans, trend, r.level, r.open_findings);
    }
    let scans: usize = repos.iter().map(|r| r.scans).sum();
    let rows: usize = repos.iter().map(|r| r.rows_written).sum();
    println!(
        "{} repositories, {scans} scans of their history in {:.1} s ({rows} rows written), in {}",
        repos.len(),
        started.elapsed().as_secs_f64(),
        settings.database.redacted()
    );
    db.close().await?;
    if no_serve {
        return Ok(());
    }
    println!("serving on {}", settings.server.public_url);
    serve(settings).await
}

async fn discover(settings: Settings) -> anyhow::Result<()> {
    if settings.github.sources.is_empty() {
        anyhow::bail!("no GitHub sources configured: add [[github.sources]] with org = \"…\" or user = \"…\"");
    }
    let db = crate::db::connect(&settings.database).await?;
    crate::db::migrate_up(&db).await?;
    let github = crate::github::Github::new(&settings.github)?;
    let results = crate::github::discovery::discover_all(&db, &github).await;
    println!(
        "{:<24} {:>9} {:>5} {:>6} {:>6} {:>8} {:>9} {:>5}",
        "source", "api calls", "304s", "listed", "added", "updated", "archived", "gone"
    );
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(d) => println!(
                "{:<24} {:>9} {:>5} {:>6} {:>6} {:>8} {:>9} {:>5}",
                d.source, d.api_calls, d.not_modified, d.repos_seen, d.added, d.updated, d.archived, d.gone
            ),
            Err(e) => failed.push(e.to_string()),
        }
    }
    db.close().await?;
    if !failed.is_empty() {
        anyhow::bail!("{}", failed.join("; "));
    }
    Ok(())
}

async fn digest(settings: Settings, args: DigestArgs) -> anyhow::Result<()> {
    use crate::digest::{Digests, content::Scope, period::Week};
    let db = crate::db::connect(&settings.database).await?;
    crate::db::migrate_up(&db).await?;
    let digests = Digests::new(&settings)?;
    let week = args.week.unwrap_or_else(|| Week::last_complete(chrono::Utc::now()));
    if args.send {
        let by =
            format!("cli-{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "shipshape".into()), std::process::id());
        let done = digests.send_week(&db, &settings, week, &by).await?;
        println!(
            "digest {week}: {} sent, {} skipped (unsubscribed), {} not sent",
            done.sent, done.skipped, done.remaining
        );
        if let Some(error) = done.last_error.filter(|_| done.remaining > 0) {
            anyhow::bail!("{} digest mail(s) not sent: {error}", done.remaining);
        }
        return Ok(());
    }
    let key = args.team.map_or_else(|| "org".to_string(), |slug| format!("team:{slug}"));
    let scope = Scope::from_key(&db, &key).await?.ok_or_else(|| anyhow::anyhow!("`{key}` is not a team slug"))?;
    let prepared = digests.prepare(&db, &scope, week).await?;
    if args.html {
        println!("{}", prepared.preview_html()?);
    } else {
        let mail = prepared.mail(None)?;
        println!("Subject: {}\n\n{}", mail.subject, mail.text);
    }
    Ok(())
}

async fn migrate(settings: Settings, action: MigrateAction) -> anyhow::Result<()> {
    use migration::{Migrator, MigratorTrait};
    let db = crate::db::connect(&settings.database).await?;
    match action {
        MigrateAction::Up => {
            let pending = Migrator::get_pending_migrations(&db).await?.len();
            Migrator::up(&db, None).await?;
            println!("applied {pending} migration(s) to {}", settings.database.redacted());
        }
        MigrateAction::Down { steps } => {
            Migrator::down(&db, Some(steps)).await?;
            println!("rolled back {steps} migration(s) on {}", settings.database.redacted());
        }
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(&db).await? {
                println!("applied  {}", m.name());
            }
            for m in Migrator::get_pending_migrations(&db).await? {
                println!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}
