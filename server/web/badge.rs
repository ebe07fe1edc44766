//! `/badge/{owner}/{repo}.svg`: a shields.io-style "flat" badge with the
//! repository's level and score, for READMEs. A tracked repository that has
//! no successful scan yet gets a grey "not scanned" badge (an image, not a
//! broken one); an untracked repository is a 404.
//!
//! Badges are cacheable for `badge.max_age_secs` and carry an ETag, so image
//! proxies revalidate cheaply. The route is its own configure function so it
//! can be made private by configuration without touching the API.

use crate::db::entities::repositories;
use crate::error::AppError;
use crate::state::AppState;
use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{EntityTrait, QueryFilter, QueryOrder};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(badge);
}

/// Owner and name are matched case-insensitively, as GitHub does; if two
/// providers track the same name, the first registered wins.
#[get("/badge/{owner}/{repo}.svg")]
async fn badge(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (owner, name) = path.into_inner();
    let lower = |c: repositories::Column| Expr::expr(Func::lower(Expr::col(c)));
    let repo = repositories::Entity::find()
        .filter(lower(repositories::Column::Owner).eq(owner.to_lowercase()))
        .filter(lower(repositories::Column::Name).eq(name.to_lowercase()))
        .order_by_asc(repositories::Column::Id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("repository {owner}/{name} is not tracked")))?;
    let badge = Badge::of(&repo);
    let svg = badge.svg();
    let tag = EntityTag::new_strong(etag(&svg));
    let cache = format!("public, max-age={}", state.settings.badge.max_age_secs);
    let fresh = match <IfNoneMatch as header::Header>::parse(&req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&tag)),
        Err(_) => false,
    };
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CACHE_CONTROL, cache)).insert_header(header::ETag(tag));
    Ok(if fresh { res.finish() } else { res.content_type("image/svg+xml; charset=utf-8").body(svg) })
}

/// What a badge says and its colour. The level is spelled out, so the badge
/// reads the same without colour.
struct Badge {
    label: &'static str,
    message: String,
    color: &'static str,
}

impl Badge {
    fn of(repo: &repositories::Model) -> Badge {
        let (message, color) = match (&repo.level, repo.score) {
            (Some(level), Some(score)) => (format!("{level} {score:.0}"), level_color(level)),
            _ => ("not scanned".to_string(), "#9f9f9f"),
        };
        Badge { label: "shipshape", message, color }
    }

    /// The flat style of shields.io: two rounded halves, a light gradient and
    /// text with a drop shadow. `textLength` makes the renderer fit the text
    /// to the estimated width whatever font it has.
    fn svg(&self) -> String {
        let (label, message) = (escape(self.label), escape(&self.message));
        let (lw, mw) = (text_width(self.label), text_width(&self.message));
        let (left, right) = (lw + 10, mw + 10);
        let total = left + right;
        // Coordinates are in tenths, scaled down, as shields does for crisp text.
        let (lx, mx) = (left * 5, left * 10 + right * 5);
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="{color}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110"><text aria-hidden="true" x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{ltl}">{label}</text><text x="{lx}" y="140" transform="scale(.1)" fill="#fff" textLength="{ltl}">{label}</text><text aria-hidden="true" x="{mx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{mtl}">{message}</text><text x="{mx}" y="140" transform="scale(.1)" fill="#fff" textLength="{mtl}">{message}</text></g></svg>"##,
            color = self.color,
            ltl = lw * 10,
            mtl = mw * 10,
        )
    }
}

fn level_color(level: &str) -> &'static str {
    match level {
        "gold" => "#4c1",
        "silver" => "#97ca00",
        "bronze" => "#fe7d37",
        _ => "#e05d44",
    }
}

/// Width in pixels of `text` in 11px Verdana, from per-glyph advances
/// rounded to classes; close enough that `textLength` only nudges it.
fn text_width(text: &str) -> u32 {
    let tenths: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '|' | '\'' => 31,
            ' ' | '.' | ',' | ':' | ';' | '!' => 39,
            'f' | 't' | 'r' | '-' | '(' | ')' | '/' => 47,
            'm' => 107,
            'w' | 'M' | 'W' => 90,
            '0'..='9' => 70,
            'A'..='Z' => 75,
            _ => 66,
        })
        .sum();
    tenths.div_ceil(10)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Changes whenever the badge does. `DefaultHasher::new()` has fixed keys,
/// so every replica running the same build gives the same tag.
fn etag(svg: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    svg.hash(&mut h);
    format!("{:016x}", h.finish())
}
