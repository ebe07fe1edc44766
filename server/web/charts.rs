//! Trend charts as SVG images drawn with plotters: the org's score, a
//! repository's overall and per-category scores, and the sparklines of the
//! repository table. They are plain cacheable image URLs, so pages stay
//! static HTML and browsers and proxies can keep them for a few minutes.

use crate::error::AppError;
use crate::read::{self, trend};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use chrono::{Duration, NaiveDate, Utc};
use plotters::prelude::*;
use sea_orm::EntityTrait;
use serde::Deserialize;

/// How long browsers and proxies may reuse a chart.
const MAX_AGE: &str = "public, max-age=300";
/// Days a sparkline covers.
pub const SPARK_DAYS: i64 = 30;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(org).service(repo_score).service(repo_categories).service(repo_spark).service(campaign_burn_down);
}

/// The trend ranges the pages offer, in days; the first is the default.
pub const RANGES: [i64; 5] = [90, 30, 180, 365, 7];

/// `?days=` of a chart or page; anything not offered falls back to the default.
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    pub days: Option<i64>,
}

impl RangeQuery {
    pub fn days(&self) -> i64 {
        self.days.filter(|d| RANGES.contains(d)).unwrap_or(RANGES[0])
    }
}

/// One line of a chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(NaiveDate, f64)>,
}

fn svg(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("image/svg+xml").insert_header(("Cache-Control", MAX_AGE)).body(body)
}

/// Draws a 0–100 line chart over `from..=to`; a chart without data says so.
pub fn line_chart(series: &[Series<'_>], from: NaiveDate, to: NaiveDate, size: (u32, u32)) -> String {
    marked_line_chart(series, &[], from, to, size)
}

/// [`line_chart`] with dashed vertical marks, labelled, on the given days
/// (an analyzer or check-catalogue change, so a step in the line is explained).
pub fn marked_line_chart(
    series: &[Series<'_>],
    marks: &[(NaiveDate, String)],
    from: NaiveDate,
    to: NaiveDate,
    size: (u32, u32),
) -> String {
    let mut out = String::new();
    // Drawing into a String cannot fail for I/O reasons; a plotters error
    // only means a degenerate range, which leaves the chart partly drawn.
    let _ = draw(&mut out, series, marks, from, to, size);
    out
}

fn draw<'a>(
    out: &'a mut String,
    series: &[Series<'_>],
    marks: &[(NaiveDate, String)],
    from: NaiveDate,
    to: NaiveDate,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    if series.iter().all(|s| s.points.is_empty()) {
        root.draw(&Text::new("No scans in this range yet", (20, (size.1 / 2) as i32), ("sans-serif", 16).into_font()))?;
        root.present()?;
        return Ok(());
    }
    let to = if to <= from { from + Duration::days(1) } else { to };
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(from..to, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|d: &NaiveDate| d.format("%b %d").to_string())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    let grey = RGBColor(120, 120, 120);
    for (day, label) in marks.iter().filter(|(d, _)| (from..=to).contains(d)) {
        chart.draw_series(DashedLineSeries::new([(*day, 0.0), (*day, 100.0)], 4, 4, grey.stroke_width(1)))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*day, 97.0),
            ("sans-serif", 11).into_font().color(&grey),
        )))?;
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// A tiny line without axes for a table cell.
pub fn sparkline(points: &[(NaiveDate, f64)]) -> String {
    let mut out = String::new();
    let _ = draw_spark(&mut out, points);
    out
}

fn draw_spark<'a>(out: &'a mut String, points: &[(NaiveDate, f64)]) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(out, (120, 28)).into_drawing_area();
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let to = if last.0 <= first.0 { first.0 + Duration::days(1) } else { last.0 };
        let mut chart = ChartBuilder::on(&root).margin(2).build_cartesian_2d(first.0..to, 0f64..100f64)?;
        chart.draw_series(LineSeries::new(points.iter().copied(), RGBColor(37, 99, 235).stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

#[get("/charts/org.svg")]
async fn org(state: web::Data<AppState>, q: web::Query<RangeQuery>) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let from = (now - Duration::days(q.days())).date_naive();
    let daily = state
        .memos
        .org_trend
        .get_or_try(q.days(), || async {
            let points = trend::points(&state.db, None, now - Duration::days(q.days())).await?;
            Ok::<_, sea_orm::DbErr>(trend::daily(&points, from, now.date_naive()))
        })
        .await?;
    let series = [Series { name: "org score", points: daily.as_ref().clone() }];
    Ok(svg(line_chart(&series, from, now.date_naive(), (720, 260))))
}

async fn repo_id(state: &AppState, owner: &str, name: &str) -> Result<i32, AppError> {
    read::repository_by_name(&state.db, owner, name)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| AppError::NotFound(format!("no repository {owner}/{name}")))
}

async fn repo_series(state: &AppState, id: i32, days: i64) -> Result<(Vec<(NaiveDate, f64)>, NaiveDate), AppError> {
    let now = Utc::now();
    let from = (now - Duration::days(days)).date_naive();
    let points = trend::points(&state.db, Some(id), now - Duration::days(days)).await?;
    Ok((trend::daily(&points, from, now.date_naive()), from))
}

#[get("/charts/repos/{owner}/{name}/score.svg")]
async fn repo_score(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let repo = read::repository_by_name(&state.db, &path.0, &path.1)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repository {}/{}", path.0, path.1)))?;
    // The chart changes when a scan lands (a new last_scan_id) or the day turns.
    let key = (repo.id, repo.last_scan_id, q.days());
    let chart = state
        .memos
        .repo_trend
        .get_or_try(key, || async {
            let (daily, from) = repo_series(&state, repo.id, q.days()).await?;
            let marks = crate::read::changes::version_marks(&state.db, repo.id).await?;
            let series = [Series { name: "score", points: daily }];
            Ok::<_, AppError>(marked_line_chart(&series, &marks, from, Utc::now().date_naive(), (720, 260)))
        })
        .await?;
    Ok(svg(chart.as_ref().clone()))
}

#[get("/charts/repos/{owner}/{name}/categories.svg")]
async fn repo_categories(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let id = repo_id(&state, &path.0, &path.1).await?;
    let now = Utc::now();
    let from = (now - Duration::days(q.days())).date_naive();
    let rows = trend::category_points(&state.db, id, now - Duration::days(q.days())).await?;
    let mut names: Vec<&str> = rows.iter().map(|(c, _, _)| c.as_str()).collect();
    names.sort_by_key(|c| {
        shipshape_analysis::Category::parse(c)
            .and_then(|c| shipshape_analysis::Category::ALL.iter().position(|x| *x == c))
            .unwrap_or(usize::MAX)
    });
    names.dedup();
    let series: Vec<Series<'_>> = names
        .iter()
        .map(|name| {
            // One point per day: the day's last scan.
            let mut points: Vec<(NaiveDate, f64)> = Vec::new();
            for (_, at, score) in rows.iter().filter(|(c, _, _)| c == name) {
                match points.last_mut() {
                    Some(last) if last.0 == at.date_naive() => last.1 = *score,
                    _ => points.push((at.date_naive(), *score)),
                }
            }
            Series { name, points }
        })
        .collect();
    Ok(svg(line_chart(&series, from, now.date_naive(), (720, 300))))
}

#[get("/charts/repos/{owner}/{name}/spark.svg")]
async fn repo_spark(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    let id = repo_id(&state, &path.0, &path.1).await?;
    let (daily, _) = repo_series(&state, id, SPARK_DAYS).await?;
    Ok(svg(sparkline(&daily)))
}

/// A campaign's burn-down: repositories not yet done per day, against the
/// straight line from the start to zero at the deadline.
#[get("/charts/campaigns/{id}/burndown.svg")]
async fn campaign_burn_down(state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let c = crate::db::entities::campaigns::Entity::find_by_id(*id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no campaign {id}")))?;
    let p = crate::campaigns::progress(&state.db, c, Utc::now()).await?;
    let mut out = String::new();
    let _ = draw_burn_down(&mut out, &p);
    Ok(svg(out))
}

fn draw_burn_down<'a>(
    out: &'a mut String,
    p: &crate::campaigns::Progress,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(out, (720, 260)).into_drawing_area();
    root.fill(&WHITE)?;
    let start = p.campaign.created_at.date_naive();
    let deadline = p.campaign.deadline.max(start + Duration::days(1));
    let end = p.burn_down.last().map_or(deadline, |(d, _)| (*d).max(deadline));
    let top = (p.total.max(1) as f64) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(start..end, 0f64..top)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|d: &NaiveDate| d.format("%b %d").to_string())
        .y_label_formatter(&|v: &f64| format!("{v:.0}"))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(DashedLineSeries::new([(start, p.total as f64), (deadline, 0.0)], 5, 5, grey.stroke_width(1)))?
        .label("on track")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], grey.stroke_width(1)));
    let blue = RGBColor(37, 99, 235);
    chart
        .draw_series(LineSeries::new(p.burn_down.iter().map(|(d, n)| (*d, *n as f64)), blue.stroke_width(2)))?
        .label("not done")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], blue.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()?;
    root.present()?;
    Ok(())
}
