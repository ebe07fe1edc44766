//! Cursor pagination shared by every list: keyset on the primary key, so a
//! page is one index range scan however deep it is, and rows inserted while
//! a client pages do not shift the pages it has not read yet.
//!
//! The cursor is opaque to clients (base64 of the last id seen); the next
//! page is announced twice, as `next` in the body and as an RFC 8288
//! `Link: <…>; rel="next"` header, whose URL keeps the request's filters.

use crate::error::AppError;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::Serialize;

/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u64 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u64 = 200;

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The URL of the next page, with the same filters; absent on the last page.
    pub next: Option<String>,
}

/// Which rows a list request wants, validated.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    after: Option<i32>,
    limit: u64,
}

impl PageRequest {
    /// # Errors
    /// `BadRequest` for a cursor this server did not hand out or a limit out of range.
    pub fn new(cursor: Option<&str>, limit: Option<u64>) -> Result<PageRequest, AppError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}, not {limit}")));
        }
        let after = cursor.map(decode).transpose()?;
        Ok(PageRequest { after, limit })
    }

    /// Orders `query` by `id` (newest first when `newest_first`), starts after
    /// the cursor and fetches one row more than the page, to know whether
    /// another page follows.
    pub fn select<E: EntityTrait>(&self, query: Select<E>, id: E::Column, newest_first: bool) -> Select<E> {
        let query = match (self.after, newest_first) {
            (Some(after), true) => query.filter(id.lt(after)),
            (Some(after), false) => query.filter(id.gt(after)),
            (None, _) => query,
        };
        let query = if newest_first { query.order_by_desc(id) } else { query.order_by_asc(id) };
        query.limit(self.limit + 1)
    }

    /// The page of `rows` fetched by `select`, as JSON with its `Link` header.
    pub fn respond<T: Serialize>(&self, req: &HttpRequest, mut rows: Vec<T>, id: impl Fn(&T) -> i32) -> HttpResponse {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = rows.last().filter(|_| more).map(|last| encode(id(last)));
        let next = next_cursor.as_deref().map(|cursor| next_url(req, cursor));
        let mut res = HttpResponse::Ok();
        if let Some(url) = &next {
            res.insert_header(("Link", format!("<{url}>; rel=\"next\"")));
        }
        res.json(Page { items: rows, next_cursor, next })
    }
}

fn encode(id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

fn decode(cursor: &str) -> Result<i32, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("id:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::BadRequest(format!("invalid cursor {cursor:?}: pass a next_cursor this API returned")))
}

/// The request's path and query with `cursor` replaced.
fn next_url(req: &HttpRequest, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()).filter(|(k, _)| k != "cursor") {
        query.append_pair(&k, &v);
    }
    query.append_pair("cursor", cursor);
    format!("{}?{}", req.path(), query.finish())
}
