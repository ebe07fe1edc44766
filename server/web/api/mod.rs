//! The JSON API under `/api/v1`: repositories, scans, findings, checks and
//! jobs, with cursor pagination and the error body of `crate::error`.
//!
//! Every route is registered through one `utoipa_actix_web` scope, and the
//! OpenAPI document served at `/api/v1/openapi.json` is collected from that
//! same scope, so a route cannot be served without being documented.
//! Authentication (#6) belongs in one place: a guard or middleware wrapped
//! around this scope in `configure`.

pub mod checks;
pub mod findings;
pub mod jobs;
pub mod model;
pub mod pagination;
pub mod repositories;
pub mod scans;

use crate::error::AppError;
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa::OpenApi;
use utoipa_actix_web::OpenApiFactory;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shipshape API",
        description = "Production-readiness scores, scans, findings and checks of the repositories this \
                       Shipshape tracks. Lists are paginated with an opaque `cursor`: follow `next` (or the \
                       `Link: rel=\"next\"` header) until it is absent. Errors have the body `ErrorBody`. \
                       Authenticate with an API token (made by an admin on /admin/tokens) sent as \
                       `Authorization: Bearer ssp_…`; `read` tokens only read."
    ),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "repositories", description = "Tracked repositories and their latest score"),
        (name = "scans", description = "Scan history"),
        (name = "findings", description = "Findings tracked across scans"),
        (name = "checks", description = "The check catalogue"),
        (name = "jobs", description = "Queued and finished background jobs"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Declares the API token as the document's security scheme.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An API token from /admin/tokens: `ssp_…`"))
            .build();
        doc.components.get_or_insert_with(Default::default).add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document, built once per server worker from the scope.
struct Document(utoipa::openapi::OpenApi);

/// Registers the API scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = utoipa_actix_web::scope(PREFIX)
        .service(repositories::list_repositories)
        .service(repositories::get_repository)
        .service(repositories::rescan)
        .service(scans::list_scans)
        .service(scans::get_scan)
        .service(findings::list_findings)
        .service(findings::get_finding)
        .service(checks::list_checks)
        .service(checks::get_check)
        .service(jobs::get_job)
        .service(openapi_json);
    let mut doc = ApiDoc::openapi();
    doc.paths.merge(scope.paths());
    let mut schemas = Vec::new();
    scope.schemas(&mut schemas);
    doc.components.get_or_insert_with(Default::default).schemas.extend(schemas);
    cfg.service(
        scope
            .app_data(web::Data::new(Document(doc)))
            .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::BadRequest(e.to_string()).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| AppError::BadRequest(e.to_string()).into()))
            .default_service(web::to(no_route)),
    );
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(tag = "meta", responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
#[get("/openapi.json")]
async fn openapi_json(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

/// Unknown paths under the API answer in JSON like every other API error.
async fn no_route(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NoRoute(format!("{} {}", req.method(), req.path())))
}
