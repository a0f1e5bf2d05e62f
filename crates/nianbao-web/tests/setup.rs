//! Setting a school up and keeping accounts safe, through the router on SQLite and
//! PostgreSQL: a major renamed carries its facts; a change made on a stale page is refused;
//! a new year moves the forms on; a finding links to its highlighted cell; failed sign-ins
//! lock one account from one address, never every account behind that address; an unknown
//! user name answers as slowly as a wrong password; accounts need a real department and
//! can be disabled; school codes are letters, digits and hyphens.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{Harness, PASSWORD};
use nianbao_core::{FactKey, Year};

fn y(year: i64) -> Year {
    Year::new(year).unwrap()
}

#[tokio::test]
async fn majors_and_departments_change_with_their_data_and_stale_pages_are_refused() {
    for h in Harness::all().await {
        let code = &h.code;
        let data = h.data().await;
        let major = data.majors[0].clone();
        let facts_before = data
            .facts
            .keys()
            .filter(|k| k.major.as_deref() == Some(major.name.as_str()))
            .count();
        assert!(facts_before > 0);
        let mut quality = h.signed_in("quality").await;
        let page = quality.get(&format!("/schools/{code}/structure")).await;
        assert_eq!(page.status, StatusCode::OK);
        let (seen_school, seen_majors) = (page.input("seen_school"), page.input("seen_majors"));
        let csrf = page.csrf();
        let renamed = format!("{}（新）", major.name);
        let r = quality
            .post(
                &format!("/schools/{code}/structure/majors"),
                &[
                    ("csrf", &csrf),
                    ("seen_school", &seen_school),
                    ("seen_majors", &seen_majors),
                    ("action", "update"),
                    ("name", &major.name),
                    ("new_name", &renamed),
                    ("category", &major.category),
                    ("department", &major.department),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let after = h.data().await;
        assert!(after.major(&renamed).is_some() && after.major(&major.name).is_none());
        let moved = after
            .facts
            .keys()
            .filter(|k| k.major.as_deref() == Some(renamed.as_str()))
            .count();
        assert_eq!(
            moved, facts_before,
            "{}: the facts follow the name",
            h.label
        );

        // The same page again: it showed the old majors, so the change is refused.
        let stale = quality
            .post(
                &format!("/schools/{code}/structure/departments"),
                &[
                    ("csrf", &csrf),
                    ("seen_school", &seen_school),
                    ("seen_majors", &seen_majors),
                    ("action", "add"),
                    ("new_name", "新专业部"),
                ],
            )
            .await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(stale.body.contains("已被他人修改"), "{}", stale.body);
        assert!(
            !h.data()
                .await
                .school
                .departments
                .contains(&"新专业部".to_string())
        );

        // A department with majors cannot be removed; renaming it carries its majors.
        let page = quality.get(&format!("/schools/{code}/structure")).await;
        let department = major.department.clone();
        let fields = |action: &'static str, new_name: &'static str| {
            vec![
                ("csrf".to_string(), csrf.clone()),
                ("seen_school".to_string(), page.input("seen_school")),
                ("seen_majors".to_string(), page.input("seen_majors")),
                ("action".to_string(), action.to_string()),
                ("name".to_string(), department.clone()),
                ("new_name".to_string(), new_name.to_string()),
            ]
        };
        let as_refs = |fields: &[(String, String)]| -> Vec<(String, String)> { fields.to_vec() };
        let remove = as_refs(&fields("remove", ""));
        let remove: Vec<(&str, &str)> = remove
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let refused = quality
            .post(&format!("/schools/{code}/structure/departments"), &remove)
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("不能删除"), "{}", refused.body);
        let rename = as_refs(&fields("rename", "信息工程部"));
        let rename: Vec<(&str, &str)> = rename
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let done = quality
            .post(&format!("/schools/{code}/structure/departments"), &rename)
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let after = h.data().await;
        assert!(after.school.departments.contains(&"信息工程部".to_string()));
        assert_eq!(after.major(&renamed).unwrap().department, "信息工程部");
        if department == common::two_departments(&data).0 {
            let users = h.store.users().await.unwrap();
            let editor = users
                .iter()
                .find(|u| u.name == h.users["department"])
                .unwrap();
            assert_eq!(
                editor.department.as_deref(),
                Some("信息工程部"),
                "users follow"
            );
        }
    }
}

#[tokio::test]
async fn a_new_year_moves_the_forms_on_and_keeps_last_years_values_beside() {
    let h = Harness::sqlite().await;
    let code = &h.code;
    let mut quality = h.signed_in("quality").await;
    let page = quality.get(&format!("/schools/{code}/structure")).await;
    let r = quality
        .post(
            &format!("/schools/{code}/years/next"),
            &[
                ("csrf", &page.csrf()),
                ("seen_school", &page.input("seen_school")),
                ("seen_majors", &page.input("seen_majors")),
            ],
        )
        .await;
    assert_eq!(r.location(), format!("/schools/{code}?done=year"));
    assert_eq!(h.data().await.school.report_year, y(2026));
    let dashboard = quality.get(r.location()).await;
    assert!(dashboard.body.contains("已开始 2026 年度"));
    let form = quality.get(&format!("/schools/{code}/sections/1.4")).await;
    assert!(form.body.contains("2026年") && form.body.contains("2025年"));
    let staff_2025 = h
        .data()
        .await
        .value(y(2025), "staff.total")
        .unwrap()
        .to_string();
    assert!(
        form.body.contains(&format!("value=\"{staff_2025}\"")),
        "last year beside"
    );
    assert!(
        form.body
            .contains("name=\"v|2026|staff.total|\" value=\"\""),
        "the new year starts empty"
    );
}

#[tokio::test]
async fn a_finding_links_to_its_cell_which_the_form_highlights() {
    let h = Harness::sqlite().await;
    let code = &h.code;
    let mut quality = h.signed_in("quality").await;
    let findings = quality.get(&format!("/schools/{code}/findings")).await;
    assert!(
        !findings.body.contains("staff.total-parts"),
        "no rule codes shown"
    );
    assert!(!findings.body.contains("编号："));
    // Attribute values are HTML-escaped ("/" as "&#x2f;"), as a browser reads them.
    let body = findings.body.replace("&#x2f;", "/").replace("&amp;", "&");
    let marker = "sections/1.4?focus=";
    let start = body.find(marker).expect("a link to a 1.4 cell");
    let link_start = body[..start].rfind('"').unwrap() + 1;
    let link_end = start + body[start..].find('"').unwrap();
    let link = &body[link_start..link_end];
    let form = quality.get(link.split('#').next().unwrap()).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("id=\"focus\" autofocus"),
        "the cell is focused"
    );
    assert!(
        form.body.contains("flag-error"),
        "cells of errors are marked"
    );

    // After a save the open findings of the section are listed at the top.
    let key = FactKey::school(y(2025), "staff.total");
    let value = h.data().await.facts[&key].to_string();
    let saved = quality
        .post(
            &format!("/schools/{code}/sections/1.4"),
            &[
                ("csrf", &form.csrf()),
                ("v|2025|staff.total|", &value),
                ("o|2025|staff.total|", &value),
            ],
        )
        .await;
    let after = quality.get(saved.location()).await;
    assert!(after.body.contains("id=\"after-save\""), "{}", after.body);
}

fn at(address: [u8; 4]) -> SocketAddr {
    SocketAddr::from((address, 40_000))
}

#[tokio::test]
async fn failed_sign_ins_lock_one_account_from_one_address_only() {
    let h = Harness::sqlite().await;
    let office = at([10, 0, 0, 1]);
    for _ in 0..5 {
        let mut client = h.client().from(office);
        let r = client.login(&h.users["reviewer"], "not the password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let mut same = h.client().from(office);
    assert_eq!(
        same.login(&h.users["reviewer"], PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "that account from that address is locked"
    );
    let mut colleague = h.client().from(office);
    assert_eq!(
        colleague.login(&h.users["quality"], PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "another account behind the same address signs in"
    );
    let mut home = h.client().from(at([10, 0, 0, 2]));
    assert_eq!(
        home.login(&h.users["reviewer"], PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "the same account from elsewhere signs in"
    );
    // Guessing spread over many addresses locks the account everywhere.
    for n in 0..20u8 {
        let mut client = h.client().from(at([10, 1, 0, n]));
        client.login(&h.users["quality"], "guess").await;
    }
    let mut fresh = h.client().from(at([10, 2, 0, 1]));
    assert_eq!(
        fresh.login(&h.users["quality"], PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// How long one failed sign-in takes.
async fn failed_login(h: &Harness, name: &str, from: u8) -> Duration {
    let mut client = h.client().from(at([10, 9, from, 1]));
    let started = Instant::now();
    let r = client.login(name, "wrong password").await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    took
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn an_unknown_user_answers_as_slowly_as_a_wrong_password() {
    let h = Harness::sqlite().await;
    let known_name = h.users["school_reviewer"].clone();
    // Alternating, so a busy machine slows both alike; the first of each warms up.
    failed_login(&h, &known_name, 100).await;
    failed_login(&h, "nobody-by-this-name", 101).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for n in 0..9u8 {
        known.push(failed_login(&h, &known_name, 2 * n).await);
        unknown.push(failed_login(&h, "nobody-by-this-name", 2 * n + 1).await);
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.5..=2.0).contains(&ratio),
        "wrong password {known:?} vs unknown user {unknown:?}"
    );
}

#[tokio::test]
async fn accounts_need_a_real_department_and_can_be_disabled() {
    let h = Harness::sqlite().await;
    let code = &h.code;
    let mut admin = h.signed_in("admin").await;
    let page = admin.get("/admin/users").await;
    let csrf = page.csrf();
    let refused = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "新部门用户"),
                ("role", "department"),
                ("school", code),
                ("department", &format!("{code}|不存在的部")),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("没有名为「不存在的部」的部门"));
    assert!(
        h.store
            .users()
            .await
            .unwrap()
            .iter()
            .all(|u| u.name != "新部门用户")
    );

    let mut reviewer = h.signed_in("school_reviewer").await;
    assert_eq!(
        reviewer.get(&format!("/schools/{code}")).await.status,
        StatusCode::OK
    );
    let name = h.users["school_reviewer"].clone();
    let disabled = admin
        .post(
            &format!("/admin/users/{name}"),
            &[("csrf", &csrf), ("action", "disable"), ("password", "")],
        )
        .await;
    assert_eq!(disabled.location(), "/admin/users?done=disabled");
    assert_eq!(
        reviewer.get(&format!("/schools/{code}")).await.location(),
        "/login",
        "the session ended"
    );
    let again = h.client().login(&name, PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "cannot sign in");
}

#[tokio::test]
async fn school_codes_are_letters_digits_and_hyphens() {
    let h = Harness::sqlite().await;
    let mut school = h.data().await.school;
    for bad in ["q\"<b>x", "a b", "学校", ""] {
        school.code = bad.to_string();
        let err = h.store.create_school(&school, "test").await.unwrap_err();
        assert!(err.to_string().contains("英文字母"), "{bad}: {err}");
    }
    school.code = "new-school-1".into();
    h.store.create_school(&school, "test").await.unwrap();
    let err = h.store.create_school(&school, "test").await.unwrap_err();
    assert!(err.to_string().contains("已被使用"));
}
