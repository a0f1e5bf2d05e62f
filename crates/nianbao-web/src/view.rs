//! The page templates (embedded from `templates/`) and how they are rendered. minijinja
//! escapes every value in `.html` templates, so text from users and data cannot inject markup.

use axum::response::Html;
use minijinja::Environment;
use serde::Serialize;

use crate::{AppState, WebError};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("areas.html", include_str!("../templates/areas.html")),
    ("area.html", include_str!("../templates/area.html")),
    (
        "submission.html",
        include_str!("../templates/submission.html"),
    ),
    ("compare.html", include_str!("../templates/compare.html")),
    (
        "area_report.html",
        include_str!("../templates/area_report.html"),
    ),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("section.html", include_str!("../templates/section.html")),
    ("findings.html", include_str!("../templates/findings.html")),
    ("history.html", include_str!("../templates/history.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("schools.html", include_str!("../templates/schools.html")),
    ("profile.html", include_str!("../templates/profile.html")),
    (
        "structure.html",
        include_str!("../templates/structure.html"),
    ),
    ("writing.html", include_str!("../templates/writing.html")),
    ("picker.html", include_str!("../templates/picker.html")),
    (
        "writing_part.html",
        include_str!("../templates/writing_part.html"),
    ),
    (
        "writing_history.html",
        include_str!("../templates/writing_history.html"),
    ),
    ("case.html", include_str!("../templates/case.html")),
    ("final.html", include_str!("../templates/final.html")),
    ("snapshot.html", include_str!("../templates/snapshot.html")),
    ("workbook.html", include_str!("../templates/workbook.html")),
    (
        "registers.html",
        include_str!("../templates/registers.html"),
    ),
    (
        "register_import.html",
        include_str!("../templates/register_import.html"),
    ),
    (
        "year_picker.html",
        include_str!("../templates/year_picker.html"),
    ),
    ("bases.html", include_str!("../templates/bases.html")),
    ("training.html", include_str!("../templates/training.html")),
    ("courses.html", include_str!("../templates/courses.html")),
    ("course.html", include_str!("../templates/course.html")),
    ("psych.html", include_str!("../templates/psych.html")),
    (
        "points_home.html",
        include_str!("../templates/points_home.html"),
    ),
    (
        "points_record.html",
        include_str!("../templates/points_record.html"),
    ),
    (
        "points_mine.html",
        include_str!("../templates/points_mine.html"),
    ),
    (
        "points_student.html",
        include_str!("../templates/points_student.html"),
    ),
    (
        "points_class.html",
        include_str!("../templates/points_class.html"),
    ),
    (
        "points_rankings.html",
        include_str!("../templates/points_rankings.html"),
    ),
    (
        "points_awards.html",
        include_str!("../templates/points_awards.html"),
    ),
    (
        "psych_reason.html",
        include_str!("../templates/psych_reason.html"),
    ),
    (
        "psych_archives.html",
        include_str!("../templates/psych_archives.html"),
    ),
    (
        "psych_archive.html",
        include_str!("../templates/psych_archive.html"),
    ),
    (
        "psych_access.html",
        include_str!("../templates/psych_access.html"),
    ),
    ("audit.html", include_str!("../templates/audit.html")),
    (
        "compare_school.html",
        include_str!("../templates/compare_school.html"),
    ),
    (
        "audit_batch.html",
        include_str!("../templates/audit_batch.html"),
    ),
];

pub struct Views {
    env: Environment<'static>,
}

impl Views {
    pub fn new() -> Views {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        }
        Views { env }
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<Html<String>, WebError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| WebError::Internal(e.to_string()))?;
        template
            .render(context)
            .map(Html)
            .map_err(|e| WebError::Internal(format!("{name}: {e}")))
    }
}

impl AppState {
    pub(crate) fn render(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<Html<String>, WebError> {
        self.0.views.render(name, context)
    }

    pub(crate) fn render_login(
        &self,
        csrf: &str,
        error: Option<&str>,
        name: &str,
        notice: Option<&str>,
    ) -> Result<Html<String>, WebError> {
        self.render(
            "login.html",
            serde_json::json!({ "csrf": csrf, "error": error, "name": name, "notice": notice }),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses_and_escapes() {
        let views = super::Views::new();
        let html = views
            .render(
                "login.html",
                serde_json::json!({ "csrf": "t", "error": "<script>", "name": "\"x" }),
            )
            .unwrap()
            .0;
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
