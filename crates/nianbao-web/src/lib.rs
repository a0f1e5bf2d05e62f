//! The school's web app (`nianbao serve`): a quality office and its departments sign in,
//! enter data by form or Excel template, review findings, accept warnings with a written
//! explanation, look through and revert the change history, and download the report.
//!
//! Pages are rendered on the server from minijinja templates (`templates/`), forms are plain
//! HTML forms, and every route checks the signed-in user's role and department
//! ([`access`]) on the server side. The same app runs on SQLite or PostgreSQL: it talks only
//! to [`nianbao_store::Store`].

pub mod access;
mod auth;
mod diff;
mod download;
mod error;
mod pages;
mod results;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use nianbao_core::Definitions;
use nianbao_store::Store;

pub use auth::LoginLimiter;
pub use error::WebError;

/// Settings of one running app.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    /// Failed sign-ins allowed for one account from one address within `lockout_minutes`.
    pub max_failed_logins: usize,
    /// Failed sign-ins allowed for one account from all addresses together.
    pub max_failed_logins_per_account: usize,
    pub lockout_minutes: u64,
    /// The largest Excel upload accepted.
    pub max_upload_bytes: usize,
    /// The psychological archive's key; without it the archive cannot be opened.
    pub psych_key: Option<Arc<nianbao_systems::psych::Key>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            secure_cookies: false,
            session_hours: 12,
            max_failed_logins: 5,
            max_failed_logins_per_account: 20,
            lockout_minutes: 15,
            max_upload_bytes: nianbao_xlsx::Limits::default().max_upload_bytes,
            psych_key: None,
        }
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Store,
    definitions: Definitions,
    views: view::Views,
    limiter: LoginLimiter,
    config: Config,
    /// The registers' vocabularies, checked against the definitions once.
    vocabulary: Result<nianbao_systems::Vocabulary, String>,
    /// Check and indicator results per school, kept while the school is unchanged.
    results: results::Results,
    /// Areas' comparisons and each school's result in them, kept while unchanged.
    comparisons: pages::bureau::ComparisonCache,
    /// Batch audits being run by this process.
    audit_jobs: pages::audit::Jobs,
}

impl AppState {
    pub fn new(store: Store, definitions: Definitions, config: Config) -> AppState {
        let limiter =
            LoginLimiter::new(std::time::Duration::from_secs(config.lockout_minutes * 60));
        let vocabulary =
            nianbao_systems::Vocabulary::builtin(&definitions).map_err(|e| e.to_string());
        AppState(Arc::new(Inner {
            store,
            definitions,
            views: view::Views::new(),
            limiter,
            config,
            vocabulary,
            results: results::Results::default(),
            comparisons: pages::bureau::ComparisonCache::default(),
            audit_jobs: pages::audit::Jobs::default(),
        }))
    }

    /// How many times this app has loaded a school's data and computed its checks and
    /// indicators (they are kept until the school changes).
    pub fn computations(&self) -> u64 {
        self.0.results.computations()
    }

    /// How many schools this app has evaluated for areas' comparisons (each is kept
    /// until the school changes).
    pub fn comparison_evaluations(&self) -> u64 {
        self.0.comparisons.evaluated()
    }

    fn results(&self) -> &results::Results {
        &self.0.results
    }

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn definitions(&self) -> &Definitions {
        &self.0.definitions
    }

    fn vocabulary(&self) -> Result<&nianbao_systems::Vocabulary, WebError> {
        self.0
            .vocabulary
            .as_ref()
            .map_err(|e| WebError::Internal(e.clone()))
    }

    fn psych_key(&self) -> Option<&nianbao_systems::psych::Key> {
        self.0.config.psych_key.as_deref()
    }

    fn comparisons(&self) -> &pages::bureau::ComparisonCache {
        &self.0.comparisons
    }

    fn audit_jobs(&self) -> &pages::audit::Jobs {
        &self.0.audit_jobs
    }

    fn max_upload_bytes(&self) -> usize {
        self.0.config.max_upload_bytes
    }
}

/// The app's routes. Every route is listed here, so what the app exposes can be read at a glance.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.0.config.max_upload_bytes + 64 * 1024;
    let photo_limit = nianbao_report::photo::PhotoLimits::default().max_bytes + 64 * 1024;
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/schools/{code}", get(pages::dashboard::show))
        .route(
            "/schools/{code}/owners",
            post(pages::dashboard::assign_owner),
        )
        .route(
            "/schools/{code}/sections/{section}",
            get(pages::sections::show).post(pages::sections::save),
        )
        .route(
            "/schools/{code}/sections/{section}/template.xlsx",
            get(pages::sections::template),
        )
        .route(
            "/schools/{code}/sections/{section}/upload",
            post(pages::sections::upload),
        )
        .route(
            "/schools/{code}/workbook.xlsx",
            get(pages::workbook::download),
        )
        .route("/schools/{code}/workbook", post(pages::workbook::upload))
        .route("/schools/{code}/findings", get(pages::findings::show))
        .route(
            "/schools/{code}/findings/accept",
            post(pages::findings::accept),
        )
        .route("/schools/{code}/history", get(pages::history::show))
        .route(
            "/schools/{code}/history/{id}/revert",
            post(pages::history::revert),
        )
        .route("/schools/{code}/report", get(pages::report::preview))
        .route("/schools/{code}/report.docx", get(pages::report::docx_file))
        .route("/schools/{code}/report.pdf", get(pages::report::pdf_file))
        .route(
            "/schools/{code}/report/final",
            get(pages::report::final_page).post(pages::report::make_final),
        )
        .route(
            "/schools/{code}/snapshots/{id}",
            get(pages::report::snapshot),
        )
        .route(
            "/schools/{code}/snapshots/{id}/{file}",
            get(pages::report::snapshot_file),
        )
        .route("/schools/{code}/writing", get(pages::writing::list))
        .route(
            "/schools/{code}/writing/{part}",
            get(pages::writing::show).post(pages::writing::save),
        )
        .route(
            "/schools/{code}/writing/{part}/preview",
            post(pages::writing::preview),
        )
        .route(
            "/schools/{code}/writing/{part}/state",
            post(pages::writing::move_state),
        )
        .route(
            "/schools/{code}/writing/{part}/comments",
            post(pages::writing::comment),
        )
        .route(
            "/schools/{code}/writing/{part}/history",
            get(pages::writing::history),
        )
        .route(
            "/schools/{code}/writing/{part}/revert",
            post(pages::writing::revert),
        )
        .route(
            "/schools/{code}/comments/{id}/resolve",
            post(pages::writing::resolve),
        )
        .route("/schools/{code}/cases/new", get(pages::cases::new))
        .route("/schools/{code}/cases", post(pages::cases::create))
        .route(
            "/schools/{code}/cases/{slug}",
            get(pages::cases::show).post(pages::cases::save),
        )
        .route(
            "/schools/{code}/cases/{slug}/photos",
            post(pages::cases::upload_photo).layer(DefaultBodyLimit::max(photo_limit)),
        )
        .route(
            "/schools/{code}/cases/{slug}/photos/{index}/delete",
            post(pages::cases::remove_photo),
        )
        .route(
            "/schools/{code}/cases/{slug}/move",
            post(pages::cases::move_case),
        )
        .route(
            "/schools/{code}/cases/{slug}/delete",
            post(pages::cases::delete),
        )
        .route("/schools/{code}/images/{name}", get(pages::cases::image))
        .route("/schools/{code}/registers", get(pages::registers::overview))
        .route("/schools/{code}/bases", get(pages::registers::bases))
        .route(
            "/schools/{code}/bases/import",
            post(pages::registers::import_bases),
        )
        .route(
            "/schools/{code}/bases/export/{kind}",
            get(pages::registers::export_bases),
        )
        .route("/schools/{code}/training", get(pages::registers::training))
        .route(
            "/schools/{code}/training/import",
            post(pages::registers::import_training),
        )
        .route(
            "/schools/{code}/training/export/{kind}",
            get(pages::registers::export_training),
        )
        .route("/schools/{code}/courses", get(pages::registers::courses))
        .route(
            "/schools/{code}/courses/import",
            post(pages::registers::import_courses),
        )
        .route(
            "/schools/{code}/courses/export/{kind}",
            get(pages::registers::export_courses),
        )
        .route(
            "/schools/{code}/courses/{course}",
            get(pages::registers::course),
        )
        .route(
            "/schools/{code}/courses/actions/{action}/close",
            post(pages::registers::close_action),
        )
        .route("/schools/{code}/psych", get(pages::psych::summary))
        .route(
            "/schools/{code}/psych/archives",
            get(pages::psych::archives),
        )
        .route(
            "/schools/{code}/psych/archives/{id}",
            get(pages::psych::archive),
        )
        .route("/schools/{code}/psych/import", post(pages::psych::import))
        .route("/schools/{code}/psych/export", post(pages::psych::export))
        .route(
            "/schools/{code}/psych/access",
            get(pages::psych::access_log),
        )
        .route("/schools/{code}/psych/purge", post(pages::psych::purge))
        .route(
            "/admin/users",
            get(pages::admin::users).post(pages::admin::add_user),
        )
        .route("/admin/users/{name}", post(pages::admin::manage_user))
        .route(
            "/account/password",
            get(pages::admin::password_page).post(pages::admin::change_password),
        )
        .route(
            "/admin/schools",
            get(pages::setup::schools).post(pages::setup::create_school),
        )
        .route(
            "/schools/{code}/profile",
            get(pages::setup::profile).post(pages::setup::save_profile),
        )
        .route("/schools/{code}/structure", get(pages::setup::structure))
        .route(
            "/schools/{code}/structure/departments",
            post(pages::setup::department),
        )
        .route(
            "/schools/{code}/structure/majors",
            post(pages::setup::major),
        )
        .route("/schools/{code}/years/next", post(pages::setup::next_year))
        .route("/areas", get(pages::bureau::list))
        .route("/areas/{area}", get(pages::bureau::overview))
        .route("/areas/{area}/approve", post(pages::bureau::approve))
        .route("/areas/{area}/compare", get(pages::bureau::compare))
        .route(
            "/areas/{area}/compare/{code}",
            get(pages::bureau::compare_school),
        )
        .route(
            "/areas/{area}/compare.xlsx",
            get(pages::bureau::compare_xlsx),
        )
        .route(
            "/areas/{area}/report",
            get(pages::bureau::report_page).post(pages::bureau::save_text),
        )
        .route(
            "/areas/{area}/report/final",
            post(pages::bureau::make_final),
        )
        .route(
            "/areas/{area}/finals/{id}/{file}",
            get(pages::bureau::final_file),
        )
        .route("/areas/{area}/report.html", get(pages::bureau::report_html))
        .route("/areas/{area}/report.docx", get(pages::bureau::report_docx))
        .route("/areas/{area}/report.pdf", get(pages::bureau::report_pdf))
        .route(
            "/areas/{area}/audit",
            get(pages::audit::list)
                .post(pages::audit::upload)
                .layer(DefaultBodyLimit::max(pages::audit::UPLOAD_LIMIT)),
        )
        .route("/areas/{area}/audit/{id}", get(pages::audit::show))
        .route(
            "/areas/{area}/audit/{id}/confirm",
            post(pages::audit::confirm),
        )
        .route(
            "/areas/{area}/audit/{id}/table.xlsx",
            get(pages::audit::table_xlsx),
        )
        .route(
            "/schools/{code}/submission",
            get(pages::bureau::submission).post(pages::bureau::act),
        )
        .route("/schools/{code}/points", get(pages::points::home))
        .route(
            "/schools/{code}/points/record",
            get(pages::points::record_form).post(pages::points::record),
        )
        .route("/schools/{code}/points/mine", get(pages::points::mine))
        .route(
            "/schools/{code}/points/events/{id}/reverse",
            post(pages::points::reverse),
        )
        .route(
            "/schools/{code}/points/students/{number}",
            get(pages::points::student),
        )
        .route(
            "/schools/{code}/points/classes/{class}",
            get(pages::points::class),
        )
        .route(
            "/schools/{code}/points/rankings",
            get(pages::points::rankings),
        )
        .route(
            "/schools/{code}/points/awards",
            get(pages::points::award_lists),
        )
        .route(
            "/schools/{code}/points/roster",
            post(pages::points::import_roster),
        )
        .route(
            "/schools/{code}/points/terms/{term}/close",
            post(pages::points::close_term),
        )
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/app.js", get(pages::script))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Serves the app on `addr` until interrupted (Ctrl-C).
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("年报网页服务已启动：http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("年报网页服务已停止");
    })
    .await
}
