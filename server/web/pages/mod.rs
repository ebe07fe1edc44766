//! The dashboard's HTML pages, one module per page, rendered with askama
//! from the read model (`crate::read`). State-changing forms post through
//! `crate::web::action::Action`.

pub mod access;
pub mod admin;
pub mod campaigns;
pub mod checks;
pub mod finding;
pub mod login;
pub mod notifications;
pub mod overview;
pub mod policy;
pub mod repository;
pub mod scan;
pub mod teams;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(overview::configure)
        .configure(repository::configure)
        .configure(finding::configure)
        .configure(scan::configure)
        .configure(checks::configure)
        .configure(teams::configure)
        .configure(admin::configure)
        .configure(notifications::configure)
        .configure(access::configure)
        .configure(policy::configure)
        .configure(campaigns::configure)
        .configure(login::configure);
}

/// What the layout needs from every page.
pub struct Page {
    pub title: String,
    /// The navigation entry to highlight.
    pub nav: &'static str,
    /// Who is looking, shown in the header.
    pub login: Option<String>,
    /// Whether the Admin entry and admin controls are shown.
    pub admin: bool,
    /// Signed in through a provider: the header offers to sign out.
    pub signed_in: bool,
    /// The session's CSRF token, for every form and htmx request.
    pub csrf: String,
}

impl Page {
    /// A page for whoever the gate found making `req`.
    pub fn new(title: impl Into<String>, nav: &'static str, req: &actix_web::HttpRequest) -> Page {
        Page::for_viewer(title, nav, &crate::auth::Viewer::of(req))
    }

    pub fn for_viewer(title: impl Into<String>, nav: &'static str, viewer: &crate::auth::Viewer) -> Page {
        Page {
            title: title.into(),
            nav,
            login: viewer.login().map(str::to_string),
            admin: viewer.is_admin(),
            signed_in: viewer.signed_in(),
            csrf: viewer.csrf.clone(),
        }
    }

    /// A page for nobody in particular (errors, sign-in).
    pub fn anonymous(title: impl Into<String>) -> Page {
        Page::for_viewer(title, "", &crate::auth::Viewer::default())
    }
}

/// A link to the same view over another trend range.
pub struct RangeLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// Links for every offered range, shortest first.
pub fn range_links(current: i64, href: impl Fn(i64) -> String) -> Vec<RangeLink> {
    let mut days = crate::web::charts::RANGES.to_vec();
    days.sort_unstable();
    days.into_iter().map(|d| RangeLink { label: format!("{d} days"), href: href(d), current: d == current }).collect()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Page,
    status: u16,
    reason: &'a str,
    message: &'a str,
    hint: &'a str,
}

/// The HTML page for an error (used by `crate::error::html_pages`).
pub fn error_page(status: StatusCode, message: &str) -> String {
    let hint = match status.as_u16() {
        404 => {
            "The address may be mistyped, or the repository was renamed or removed. Start again from the overview or search the repository table."
        }
        400 | 409 => "Go back, correct the form and try again.",
        401 => "Sign in and try again.",
        403 => "Reload the page you came from and try again.",
        _ => {
            "This is on our side. Try again in a minute; if it persists, the server log has the details under this request's id."
        }
    };
    // Server errors keep their details in the log.
    let message = if status.is_server_error() { "Something went wrong while building this page." } else { message };
    let page = ErrorPage {
        page: Page::anonymous(format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"))),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error"),
        message,
        hint,
    };
    page.render().unwrap_or_else(|_| format!("{} {}", status.as_u16(), message))
}
