//! Numbers beyond any real school typed into a form are refused at their field, in Chinese,
//! and nothing of the form is saved.

mod common;

use axum::http::StatusCode;
use common::Harness;
use nianbao_core::{FactKey, Year};

const STAFF: &str = "2025|staff.total|";

#[tokio::test]
async fn a_form_refuses_numbers_beyond_the_elements_bound() {
    for h in Harness::all().await {
        let key = FactKey::school(Year::new(2025).unwrap(), "staff.total");
        let path = format!("/schools/{}/sections/1.4", h.code);
        let mut client = h.signed_in("quality").await;
        let csrf = client.csrf(&path).await;
        let before = h.data().await.facts[&key];
        let original = before.to_string();
        for typed in ["99999999999999999999999", "1e308", "inf"] {
            let r = client
                .post(
                    &path,
                    &[
                        ("csrf", csrf.as_str()),
                        (&format!("v|{STAFF}"), typed),
                        (&format!("o|{STAFF}"), &original),
                    ],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {typed}",
                h.label
            );
            assert!(r.body.contains(&format!("实际为「{typed}」")), "{}", r.body);
            assert!(r.body.contains("所有修改均未保存"));
            assert_eq!(h.data().await.facts[&key], before);
        }
        let huge = client
            .post(
                &path,
                &[
                    ("csrf", csrf.as_str()),
                    (&format!("v|{STAFF}"), "10000001"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert!(huge.body.contains("不超过 10,000,000人"), "{}", huge.body);
    }
}
