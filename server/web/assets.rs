//! Static assets under /static: the site's stylesheet and script from
//! `static/` (embedded with rust-embed) and htmx from its pinned npm
//! package (copied into the build by build.rs, never committed).

use actix_web::{HttpResponse, get, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

const HTMX: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/htmx.min.js"));
/// Asset URLs carry no content hash, so caches revalidate after an hour.
const MAX_AGE: &str = "public, max-age=3600";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(asset);
}

#[get("/static/{path:.*}")]
async fn asset(path: web::Path<String>) -> Result<HttpResponse, crate::error::AppError> {
    let path = path.into_inner();
    if path == "htmx.min.js" {
        return Ok(HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header(("Cache-Control", MAX_AGE))
            .body(HTMX));
    }
    let file = Static::get(&path).ok_or_else(|| crate::error::AppError::NotFound(format!("no asset {path}")))?;
    Ok(HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header(("Cache-Control", MAX_AGE))
        .body(file.data.into_owned()))
}
