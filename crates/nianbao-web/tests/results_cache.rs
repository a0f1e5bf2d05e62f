//! The dashboard, findings and report pages read check and indicator results kept per
//! school: an unchanged store is served without computing again, and a write — a save in
//! the app, or a write through another connection to the same database, as another
//! process (the command line, an import) makes — is seen on the next request.

mod common;

use axum::http::StatusCode;
use common::Harness;
use nianbao_core::{FactKey, Year};
use nianbao_store::Store;

const TEACHERS: &str = "staff.full_time.total";

fn teachers_key() -> FactKey {
    FactKey::school(Year::new(2025).unwrap(), TEACHERS)
}

/// The text of the dashboard's 专任教师数 row (its computed value).
fn teachers_shown(body: &str) -> String {
    let start = body
        .find("<td>专任教师数</td>")
        .unwrap_or_else(|| panic!("no 专任教师数 row in {body}"));
    let row = &body[start..];
    let end = row.find("</tr>").unwrap();
    row[..end].to_string()
}

/// Another connection to the harness's database, as another process would open.
async fn other_connection(h: &Harness) -> Store {
    if h.label == "SQLite" {
        Store::open_sqlite(&h._dir.path().join("web.db"))
            .await
            .unwrap()
    } else {
        Store::open(&std::env::var("NIANBAO_TEST_DATABASE_URL").unwrap())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn results_are_kept_while_the_school_is_unchanged_and_recomputed_after_any_write() {
    for h in Harness::all().await {
        let label = h.label;
        let mut client = h.signed_in("quality").await;
        let dashboard = format!("/schools/{}", h.code);

        let first = client.get(&dashboard).await;
        assert_eq!(first.status, StatusCode::OK, "{label}: {}", first.body);
        let computed = h.state.computations();
        assert!(computed >= 1, "{label}: the first dashboard computes");

        // Unchanged store: every page that shows results reads the kept ones.
        for path in [
            dashboard.clone(),
            format!("/schools/{}/findings", h.code),
            format!("/schools/{}/report/final", h.code),
            format!("/schools/{}/report", h.code),
            dashboard.clone(),
        ] {
            let page = client.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{label} {path}: {}", page.body);
        }
        assert_eq!(
            h.state.computations(),
            computed,
            "{label}: an unchanged school is not computed again"
        );

        // A save through the app's form.
        let form = format!("/schools/{}/sections/1.4", h.code);
        let csrf = client.csrf(&form).await;
        let original = h.data().await.facts[&teachers_key()].to_string();
        assert_ne!(original, "4321");
        let field = format!("2025|{TEACHERS}|");
        let saved = client
            .post(
                &form,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{field}"), "4321"),
                    (&format!("o|{field}"), &original),
                ],
            )
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{label}: {}",
            saved.body
        );
        let after_save = client.get(&dashboard).await;
        let row = teachers_shown(&after_save.body);
        assert!(
            row.contains(">4,321 人"),
            "{label}: the saved value is shown: {row}"
        );
        assert!(!row.contains(&format!(">{original} ")), "{label}: {row}");
        let computed = h.state.computations();
        client.get(&dashboard).await;
        client.get(&format!("/schools/{}/findings", h.code)).await;
        assert_eq!(h.state.computations(), computed, "{label}");

        // A write through another connection: the app learns of it from the store.
        let other = other_connection(&h).await;
        let mut data = other.load_dataset(&h.code).await.unwrap();
        data.set(teachers_key(), 4322.0);
        other.save_dataset(&data, "cli:other").await.unwrap();
        let after_other = client.get(&dashboard).await;
        let row = teachers_shown(&after_other.body);
        assert!(
            row.contains(">4,322 人"),
            "{label}: another process's write is shown on the next request: {row}"
        );
        assert_eq!(h.state.computations(), computed + 1, "{label}");

        let findings_page = client.get(&format!("/schools/{}/findings", h.code)).await;
        assert_eq!(findings_page.status, StatusCode::OK, "{label}");
        client.get(&dashboard).await;
        assert_eq!(
            h.state.computations(),
            computed + 1,
            "{label}: no recomputation without a write"
        );

        // Another school's write leaves this school's results alone.
        let mut neighbour = other.load_dataset(&h.other_code).await.unwrap();
        neighbour.set(teachers_key(), 77.0);
        other.save_dataset(&neighbour, "cli:other").await.unwrap();
        client.get(&dashboard).await;
        assert_eq!(h.state.computations(), computed + 1, "{label}");
    }
}
