//! Every route × every role (and anonymous): who is let in and who is refused, on SQLite
//! and PostgreSQL. The routes walked here are compared with the router's own list, so a new
//! route cannot be added without deciding who may use it.

mod common;

use axum::http::StatusCode;
use common::{Client, Harness};
use nianbao_core::{FactKey, Severity, Year};

const ROLES: [&str; 6] = [
    "anonymous",
    "admin",
    "quality",
    "department",
    "reviewer",
    "outsider",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Sent to the sign-in page.
    SignIn,
    Allow,
    Deny,
}

/// One request of the walk: its route pattern (as in the router), method and what each of
/// ROLES should get, written as one letter per role: S(ign in), A(llow), D(eny).
struct Case {
    pattern: &'static str,
    method: &'static str,
    expect: &'static str,
}

const CASES: &[Case] = &[
    Case {
        pattern: "/",
        method: "GET",
        expect: "SAAAAA",
    },
    Case {
        pattern: "/login",
        method: "GET",
        expect: "AAAAAA",
    },
    Case {
        pattern: "/static/app.css",
        method: "GET",
        expect: "AAAAAA",
    },
    Case {
        pattern: "/schools/{code}",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}/template.xlsx",
        method: "GET",
        expect: "SDAADD",
    },
    Case {
        pattern: "/schools/{code}/findings",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/history",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/report",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/report.docx",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/schools/{code}/report.pdf",
        method: "GET",
        expect: "SAAAAD",
    },
    Case {
        pattern: "/admin/users",
        method: "GET",
        expect: "SADDDD",
    },
    Case {
        pattern: "/schools/{code}/owners",
        method: "POST",
        expect: "SDADDD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}",
        method: "POST",
        expect: "SDAADD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}/upload",
        method: "POST",
        expect: "SDAADD",
    },
    Case {
        pattern: "/schools/{code}/findings/accept",
        method: "POST",
        expect: "SDADDD",
    },
    Case {
        pattern: "/schools/{code}/history/{id}/revert",
        method: "POST",
        expect: "SDADDD",
    },
    Case {
        pattern: "/admin/users",
        method: "POST",
        expect: "SADDDD",
    },
    Case {
        pattern: "/login",
        method: "POST",
        expect: "AAAAAA",
    },
    Case {
        pattern: "/logout",
        method: "POST",
        expect: "SAAAAA",
    },
];

fn parse(expect: &str) -> Vec<Expect> {
    expect
        .chars()
        .map(|c| match c {
            'S' => Expect::SignIn,
            'A' => Expect::Allow,
            'D' => Expect::Deny,
            other => panic!("unknown expectation {other}"),
        })
        .collect()
}

fn outcome(status: StatusCode, location: &str) -> Expect {
    if status == StatusCode::SEE_OTHER && location == "/login" {
        Expect::SignIn
    } else if status == StatusCode::FORBIDDEN {
        Expect::Deny
    } else {
        assert!(status.as_u16() < 400, "unexpected status {status}");
        Expect::Allow
    }
}

#[test]
fn the_walk_covers_every_route_of_the_router() {
    let source = include_str!("../src/lib.rs");
    let mut routes = Vec::new();
    for part in source.split(".route(").skip(1) {
        let pattern = part.trim_start().trim_start_matches('"');
        let pattern = &pattern[..pattern.find('"').unwrap()];
        let handlers = &part[..part.find(".layer(").unwrap_or(part.len())];
        for (method, marker) in [("GET", "get("), ("POST", "post(")] {
            if handlers.contains(marker) {
                routes.push((pattern.to_string(), method));
            }
        }
    }
    assert!(routes.len() > 10, "{routes:?}");
    for (pattern, method) in &routes {
        assert!(
            CASES
                .iter()
                .any(|c| c.pattern == pattern && c.method == *method),
            "{method} {pattern} is not in the authorization walk"
        );
    }
    assert_eq!(routes.len(), CASES.len(), "{routes:?}");
}

async fn client_for(h: &Harness, role: &str) -> (Client, String) {
    if role == "anonymous" {
        return (h.client(), String::new());
    }
    let mut client = h.signed_in(role).await;
    let home = client.get("/").await;
    let page = if home.status == StatusCode::SEE_OTHER {
        client.get(home.location()).await
    } else {
        home
    };
    let csrf = page.csrf();
    (client, csrf)
}

#[tokio::test]
async fn every_route_checks_role_and_school() {
    for h in Harness::all().await {
        let y2025 = Year::new(2025).unwrap();
        let data = h.data().await;
        let (own, _) = common::two_departments(&data);
        let own_major = data
            .majors
            .iter()
            .find(|m| m.department == own)
            .unwrap()
            .name
            .clone();
        let warning = nianbao_core::run_checks(&h.definitions, &data)
            .into_iter()
            .find(|f| f.severity == Severity::Warning)
            .unwrap();
        // A change for the quality office to revert.
        let staff = FactKey::school(y2025, "staff.total");
        let land = FactKey::school(y2025, "conditions.land_area");
        h.store
            .edit_facts(
                &h.code,
                &[nianbao_store::FactEdit {
                    key: land.clone(),
                    expected: data.facts.get(&land).copied(),
                    value: Some(1000.0),
                }],
                "setup",
            )
            .await
            .unwrap();
        let change = h.store.history(&h.code, 1).await.unwrap()[0].id;
        let (mut quality, _) = client_for(&h, "quality").await;
        let template = quality
            .get(&format!("/schools/{}/sections/1.5/template.xlsx", h.code))
            .await
            .bytes;

        for (index, role) in ROLES.iter().enumerate() {
            let (mut client, csrf) = client_for(&h, role).await;
            for case in CASES {
                let expected = parse(case.expect)[index];
                let code = &h.code;
                let current = h.data().await;
                let value = |key: &FactKey| {
                    current
                        .facts
                        .get(key)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                };
                let response = match (case.method, case.pattern) {
                    ("GET", "/schools/{code}/sections/{section}/template.xlsx") => {
                        // Department editors may use the per-major section only.
                        let r = client
                            .get(&format!("/schools/{code}/sections/1.5/template.xlsx"))
                            .await;
                        if *role == "department" {
                            let staff = client
                                .get(&format!("/schools/{code}/sections/1.4/template.xlsx"))
                                .await;
                            assert_eq!(
                                staff.status,
                                StatusCode::FORBIDDEN,
                                "{} department: 1.4 template",
                                h.label
                            );
                        }
                        r
                    }
                    ("GET", pattern) => {
                        let path = pattern.replace("{code}", code).replace("{section}", "1.4");
                        client.get(&path).await
                    }
                    ("POST", "/schools/{code}/owners") => {
                        client
                            .post(
                                &format!("/schools/{code}/owners"),
                                &[("csrf", &csrf), ("section", "1.2"), ("department", &own)],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/sections/{section}") => {
                        if *role == "department" {
                            let key = FactKey::major(y2025, "major.intake", own_major.clone());
                            client
                                .post(
                                    &format!("/schools/{code}/sections/1.5"),
                                    &[
                                        ("csrf", &csrf),
                                        (&format!("v|2025|major.intake|{own_major}"), "21"),
                                        (&format!("o|2025|major.intake|{own_major}"), &value(&key)),
                                    ],
                                )
                                .await
                        } else {
                            client
                                .post(
                                    &format!("/schools/{code}/sections/1.4"),
                                    &[
                                        ("csrf", &csrf),
                                        ("v|2025|staff.total|", "641"),
                                        ("o|2025|staff.total|", &value(&staff)),
                                    ],
                                )
                                .await
                        }
                    }
                    ("POST", "/schools/{code}/sections/{section}/upload") => {
                        // Each user uploads the template they were given (their own majors).
                        let own = client
                            .get(&format!("/schools/{code}/sections/1.5/template.xlsx"))
                            .await;
                        let template = if own.status == StatusCode::OK {
                            own.bytes
                        } else {
                            template.clone()
                        };
                        client
                            .upload(
                                &format!("/schools/{code}/sections/1.5/upload"),
                                &[("csrf", &csrf)],
                                &template,
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/findings/accept") => {
                        client
                            .post(
                                &format!("/schools/{code}/findings/accept"),
                                &[
                                    ("csrf", &csrf),
                                    ("key", &warning.key()),
                                    ("explanation", "口径说明"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/history/{id}/revert") => {
                        client
                            .post(
                                &format!("/schools/{code}/history/{change}/revert"),
                                &[("csrf", &csrf)],
                            )
                            .await
                    }
                    ("POST", "/admin/users") => {
                        let name = common::unique("new-");
                        client
                            .post(
                                "/admin/users",
                                &[
                                    ("csrf", &csrf),
                                    ("name", &name),
                                    ("role", "reviewer"),
                                    ("school", code),
                                    ("department", ""),
                                    ("password", "another long password"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/login") => {
                        // Signing in again is open to anyone holding the form's token.
                        let mut fresh = h.client();
                        let user = if *role == "anonymous" {
                            "reviewer"
                        } else {
                            role
                        };
                        fresh.login(&h.users[user], common::PASSWORD).await
                    }
                    ("POST", "/logout") => client.post("/logout", &[("csrf", &csrf)]).await,
                    other => panic!("no request for {other:?}"),
                };
                let got = if case.pattern == "/logout" && *role != "anonymous" {
                    // Signing out ends on the sign-in page: allowed if the session is gone.
                    let after = client.get("/").await;
                    assert_eq!(
                        after.location(),
                        "/login",
                        "{} {role}: session ended",
                        h.label
                    );
                    Expect::Allow
                } else {
                    outcome(response.status, response.location())
                };
                assert_eq!(
                    got,
                    expected,
                    "{} {role}: {} {} → {} {}",
                    h.label,
                    case.method,
                    case.pattern,
                    response.status,
                    response.body.chars().take(300).collect::<String>()
                );
            }
        }
    }
}
