//! Every route × every role (and anonymous): who is let in and who is refused, on SQLite
//! and PostgreSQL. The routes walked here are compared with the router's own list, so a new
//! route cannot be added without deciding who may use it.

mod common;

use axum::http::StatusCode;
use common::{Client, Harness};
use nianbao_authoring::{Authoring, CaseEdit, PhotoUpload};
use nianbao_core::{FactKey, Severity, WritingState, Year};
use nianbao_systems::Mode;
use nianbao_systems::bases::BasesKind;
use nianbao_systems::courses::CoursesKind;
use nianbao_systems::psych::{PsychKind, Sealer};
use nianbao_systems::table::Columns;
use nianbao_systems::training::TrainingKind;

/// The student in the psychological archive of the walk: no one but the counsellor may
/// see the name, on any page.
const STUDENT: &str = "甄心怡";

fn screening_csv(record: &str) -> String {
    format!(
        "记录编号,学号,姓名,班级,量表,筛查日期,得分,风险等级,备注\n{record},S9000001,{STUDENT},汽修2301,SCL-90,2025-03-10,187.25,高风险,自述失眠\n"
    )
}

fn csv_table(text: &str, columns: &Columns) -> nianbao_systems::table::Table {
    nianbao_systems::table::read_file(
        "setup.csv",
        text.as_bytes(),
        "",
        columns,
        &nianbao_xlsx::Limits::default(),
    )
    .unwrap()
}

/// A workbook of one sheet holding the rows of `text` (CSV).
fn sheet(name: &str, columns: &Columns, text: &str) -> Vec<u8> {
    let mut lines = text.lines();
    let headers: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut sheet = nianbao_systems::table::Sheet::new(name, columns);
    sheet.headers = columns
        .all()
        .into_iter()
        .filter(|h| headers.contains(h))
        .collect();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        sheet.rows.push(
            sheet
                .headers
                .iter()
                .map(|h| {
                    let at = headers.iter().position(|x| x == h).unwrap();
                    nianbao_systems::table::Out::Text(cells[at].to_string())
                })
                .collect(),
        );
    }
    sheet.to_xlsx().unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The part the department is assigned in the walk, and its text's path.
const PART: &str = "2.2";
const PART_PATH: &str = "sections/2.2.md";

/// A small PNG photo.
fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(60, 40, image::Rgb([40, 90, 160]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn photo(caption: &str) -> PhotoUpload<'_> {
    let prepared =
        nianbao_report::photo::prepare(&png(), &nianbao_report::photo::PhotoLimits::default())
            .unwrap();
    PhotoUpload {
        photo: prepared,
        caption,
    }
}

fn case_edit(title: &str) -> CaseEdit<'_> {
    CaseEdit {
        title,
        section: PART,
        order: 1,
        body: "案例正文，教职工 {{ v(\"教职工总数\") | num }} 人。",
        captions: Vec::new(),
    }
}

const ROLES: [&str; 12] = [
    "anonymous",
    "admin",
    "quality",
    "department",
    "reviewer",
    "outsider",
    "school_reviewer",
    "counsellor",
    "district",
    "head_teacher",
    "teacher",
    "student",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Sent to the sign-in page.
    SignIn,
    Allow,
    Deny,
}

/// One request of the walk: its route pattern (as in the router), method and what each of
/// ROLES should get, written as one letter per role: S(ign in), A(llow), D(eny). The
/// reviewer is a commission's (bound to no school, reads only); the school reviewer reviews
/// the school's report text; the counsellor reads the school and alone keeps its
/// psychological archive. The 班主任 (head_teacher) and the 任课教师 (teacher) are bound to
/// one class and the student's account to one student of it: they reach the points ledger
/// (积分制) of that class or student only, and none of the school's report data.
struct Case {
    pattern: &'static str,
    method: &'static str,
    expect: &'static str,
}

const CASES: &[Case] = &[
    Case {
        pattern: "/",
        method: "GET",
        expect: "SAAAAAAAAAAA",
    },
    Case {
        pattern: "/login",
        method: "GET",
        expect: "AAAAAAAAAAAA",
    },
    Case {
        pattern: "/static/app.css",
        method: "GET",
        expect: "AAAAAAAAAAAA",
    },
    Case {
        pattern: "/areas",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/approve",
        method: "POST",
        expect: "SDDDDDDDADDD",
    },
    Case {
        pattern: "/areas/{area}/compare",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/compare/{code}",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/compare.xlsx",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report",
        method: "POST",
        expect: "SDDDDDDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report/final",
        method: "POST",
        expect: "SDDDDDDDADDD",
    },
    Case {
        pattern: "/areas/{area}/finals/{id}/{file}",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report.html",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report.docx",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/report.pdf",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/audit",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/audit",
        method: "POST",
        expect: "SDDDDDDDADDD",
    },
    Case {
        pattern: "/areas/{area}/audit/{id}",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/areas/{area}/audit/{id}/confirm",
        method: "POST",
        expect: "SDDDDDDDADDD",
    },
    Case {
        pattern: "/areas/{area}/audit/{id}/table.xlsx",
        method: "GET",
        expect: "SDDDADDDADDD",
    },
    Case {
        pattern: "/schools/{code}/submission",
        method: "GET",
        expect: "SDAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/submission",
        method: "POST",
        expect: "SDADDDDDADDD",
    },
    Case {
        pattern: "/schools/{code}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}/template.xlsx",
        method: "GET",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/workbook.xlsx",
        method: "GET",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/workbook",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/findings",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/history",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/report",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/report.docx",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/report.pdf",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/admin/users",
        method: "GET",
        expect: "SADDDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/owners",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/sections/{section}/upload",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/findings/accept",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/history/{id}/revert",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/admin/users",
        method: "POST",
        expect: "SADDDDDDDDDD",
    },
    Case {
        pattern: "/static/app.js",
        method: "GET",
        expect: "AAAAAAAAAAAA",
    },
    Case {
        pattern: "/schools/{code}/writing",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}/preview",
        method: "POST",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}/state",
        method: "POST",
        expect: "SDADDDADDDDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}/comments",
        method: "POST",
        expect: "SDAADDADDDDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}/history",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/writing/{part}/revert",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/comments/{id}/resolve",
        method: "POST",
        expect: "SDAADDADDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/new",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/cases",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}/photos",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}/photos/{index}/delete",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}/move",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/cases/{slug}/delete",
        method: "POST",
        expect: "SDAADDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/images/{name}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/report/final",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/report/final",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/snapshots/{id}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/snapshots/{id}/{file}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/registers",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/bases",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/bases/export/{kind}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/training",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/training/export/{kind}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/courses",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/courses/export/{kind}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/courses/{course}",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/psych",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/bases/import",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/training/import",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/courses/import",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/courses/actions/{action}/close",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/archives",
        method: "GET",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/archives/{id}",
        method: "GET",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/access",
        method: "GET",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/import",
        method: "POST",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/export",
        method: "POST",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/psych/purge",
        method: "POST",
        expect: "SDDDDDDADDDD",
    },
    Case {
        pattern: "/schools/{code}/points",
        method: "GET",
        expect: "SDADDDDDDAAA",
    },
    Case {
        pattern: "/schools/{code}/points/record",
        method: "GET",
        expect: "SDDDDDDDDAAD",
    },
    Case {
        pattern: "/schools/{code}/points/record",
        method: "POST",
        expect: "SDDDDDDDDAAD",
    },
    Case {
        pattern: "/schools/{code}/points/mine",
        method: "GET",
        expect: "SDDDDDDDDAAD",
    },
    Case {
        pattern: "/schools/{code}/points/events/{id}/reverse",
        method: "POST",
        expect: "SDDDDDDDDAAD",
    },
    Case {
        pattern: "/schools/{code}/points/students/{number}",
        method: "GET",
        expect: "SDADDDDDDADA",
    },
    Case {
        pattern: "/schools/{code}/points/classes/{class}",
        method: "GET",
        expect: "SDADDDDDDADD",
    },
    Case {
        pattern: "/schools/{code}/points/rankings",
        method: "GET",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/points/awards",
        method: "GET",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/points/roster",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    // The quality office closes the earlier term; the current one stays open for the walk.
    Case {
        pattern: "/schools/{code}/points/terms/{term}/close",
        method: "POST",
        expect: "SDADDDDDDDDD",
    },
    Case {
        pattern: "/admin/users/{name}",
        method: "POST",
        expect: "SADDDDDDDDDD",
    },
    Case {
        pattern: "/admin/schools",
        method: "GET",
        expect: "SADDDDDDDDDD",
    },
    Case {
        pattern: "/admin/schools",
        method: "POST",
        expect: "SDDDDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/profile",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/profile",
        method: "POST",
        expect: "SAADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/structure",
        method: "GET",
        expect: "SAAAADAAADDD",
    },
    Case {
        pattern: "/schools/{code}/structure/departments",
        method: "POST",
        expect: "SAADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/structure/majors",
        method: "POST",
        expect: "SAADDDDDDDDD",
    },
    Case {
        pattern: "/schools/{code}/years/next",
        method: "POST",
        expect: "SAADDDDDDDDD",
    },
    Case {
        pattern: "/account/password",
        method: "GET",
        expect: "SAAAAAAAAAAA",
    },
    // Changing one's password ends one's sessions: it comes last but for signing in and out.
    Case {
        pattern: "/account/password",
        method: "POST",
        expect: "SAAAAAAAAAAA",
    },
    Case {
        pattern: "/login",
        method: "POST",
        expect: "AAAAAAAAAAAA",
    },
    Case {
        pattern: "/logout",
        method: "POST",
        expect: "SAAAAAAAAAAA",
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
    let mut page = client.get("/").await;
    // A student's home leads to the points page, which leads to their own profile.
    for _ in 0..3 {
        if page.status != StatusCode::SEE_OTHER {
            break;
        }
        page = client.get(page.location()).await;
    }
    let csrf = page.csrf();
    (client, csrf)
}

#[tokio::test]
async fn every_route_checks_role_and_school() {
    for mut h in Harness::all().await {
        let y2025 = Year::new(2025).unwrap();
        // The points ledger: each teacher has recorded one event they may reverse.
        let pf = h.with_points().await;
        let teacher_observation = nianbao_points::Tree::sample()
            .observations
            .iter()
            .find(|o| o.roles.iter().any(|r| r == "任课教师"))
            .unwrap()
            .code
            .clone();
        let head_event = h
            .record_points("head_teacher", &pf.student, "C01.1.1")
            .await;
        let teacher_event = h
            .record_points("teacher", &pf.student, &teacher_observation)
            .await;
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
        // The department writes 2.2; the part has two versions, a comment, a case with a
        // photo; and the school has one stored final.
        h.store
            .set_section_owner(&h.code, PART, Some(&own), "setup")
            .await
            .unwrap();
        let authoring = Authoring::new(&h.store, &h.definitions);
        let part = authoring.part(PART).unwrap();
        for (base, text) in [
            (0, "第一版。"),
            (1, "第二版，教职工 {{ v(\"教职工总数\") | num }} 人。"),
        ] {
            authoring
                .save_text(&h.code, y2025, &part, base, text, "setup")
                .await
                .unwrap();
        }
        let comment = h
            .store
            .add_comment(
                &h.code,
                y2025,
                PART,
                Some("第二版"),
                "请补充数据来源",
                "setup",
            )
            .await
            .unwrap();
        let slug = authoring
            .save_case(&h.code, y2025, None, 0, &case_edit("走访企业"), "setup")
            .await
            .unwrap();
        // A finished batch audit of the district, with one report.
        let batch = h
            .store
            .start_audit_batch(&h.district, "reports.zip", "setup", 1)
            .await
            .unwrap();
        h.store
            .finish_audit_batch(batch, Ok(r#"{"reports":[{"file":"a.txt"}],"skipped":[]}"#))
            .await
            .unwrap();
        // A final of the district's report.
        let (area_final, _) = h
            .store
            .begin_area_final(&h.district, 2025, "setup", "0")
            .await
            .unwrap();
        h.store
            .complete_area_final(
                area_final,
                Some(nianbao_store::FinalFiles {
                    html: b"<p>final</p>",
                    docx: b"PK",
                    pdf: Some(b"%PDF"),
                }),
            )
            .await
            .unwrap();
        let reports_zip = {
            use std::io::Write;
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            zip.start_file("a.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all("一、学校概况\n学校有教职工100人。".as_bytes())
                .unwrap();
            zip.finish().unwrap().into_inner()
        };
        let snapshot = {
            let content = authoring.content(&h.code, y2025).await.unwrap();
            let packed = nianbao_report::snapshot::Snapshot {
                year: y2025,
                created_at: "2026-01-05T08:00:00Z".into(),
                data: h.data().await,
                acceptances: Vec::new(),
                sources: nianbao_core::definitions::Sources::builtin(),
                content,
            }
            .pack()
            .unwrap();
            let hash = nianbao_report::snapshot::hash(&packed);
            h.store
                .save_snapshot(&h.code, y2025, &hash, &packed, "setup")
                .await
                .unwrap()
        };
        // The registers: a course to show, and a psychological archive of one student.
        let vocabulary = nianbao_systems::Vocabulary::builtin(&h.definitions).unwrap();
        let course = nianbao_systems::courses::read(
            CoursesKind::Courses,
            &csv_table(
                "课程编号,课程名称,课程级别,学时,建设年份\nK1,汽车电气,省级,64,2023\n",
                CoursesKind::Courses.columns(),
            ),
            &vocabulary.courses,
        )
        .unwrap();
        h.store
            .import_courses(&h.code, course, Mode::Upsert, &vocabulary, "setup")
            .await
            .unwrap();
        let counsellor = h.user("counsellor").await;
        let sealer = Sealer::new(&h.psych_key, &h.code);
        let access = nianbao_store::PsychAccess {
            user: &counsellor,
            reason: "档案整理",
        };
        let screening = nianbao_systems::psych::records::read(
            PsychKind::Screenings,
            &csv_table(&screening_csv("P0"), PsychKind::Screenings.columns()),
            &vocabulary.psych,
        )
        .unwrap();
        h.store
            .import_psych(
                &h.code,
                PsychKind::Screenings,
                screening,
                Mode::Upsert,
                &sealer,
                &access,
                &vocabulary,
            )
            .await
            .unwrap();
        let archive = h
            .store
            .psych_archives(&h.code, &sealer, &access, &vocabulary)
            .await
            .unwrap()[0]
            .id;
        let mut actions = 0;
        let (mut quality, _) = client_for(&h, "quality").await;
        let template = quality
            .get(&format!("/schools/{}/sections/1.5/template.xlsx", h.code))
            .await
            .bytes;
        let workbook = quality
            .get(&format!("/schools/{}/workbook.xlsx", h.code))
            .await
            .bytes;

        let reader = h.signed_in("quality2").await;
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
                let case_now = authoring.case(code, y2025, &slug).await.unwrap();
                let case_version = case_now.version.to_string();
                let text_version = h
                    .store
                    .report_text(code, y2025, PART_PATH)
                    .await
                    .unwrap()
                    .map_or(0, |t| t.version)
                    .to_string();
                // The set-up forms send back what the page showed; the walk reads it from
                // the structure page of the school as a second quality officer, whose
                // session no step of the walk ends.
                let seen = || async {
                    let mut reader = reader.clone();
                    let page = reader.get(&format!("/schools/{code}/structure")).await;
                    (page.input("seen_school"), page.input("seen_majors"))
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
                    ("GET", "/schools/{code}/images/{name}") => {
                        if case_now.meta.images.is_empty() {
                            authoring
                                .add_photo(
                                    code,
                                    y2025,
                                    &slug,
                                    case_now.version,
                                    photo("照片"),
                                    "setup",
                                )
                                .await
                                .unwrap();
                        }
                        let shown = authoring.case(code, y2025, &slug).await.unwrap();
                        let name = shown.meta.images[0]
                            .file
                            .trim_start_matches("images/")
                            .to_string();
                        let r = client.get(&format!("/schools/{code}/images/{name}")).await;
                        if r.status == StatusCode::OK {
                            assert_eq!(&r.bytes[..2], &[0xFF, 0xD8], "{} {role}: a JPEG", h.label);
                        }
                        r
                    }
                    ("GET", "/schools/{code}/courses/{course}") => {
                        client.get(&format!("/schools/{code}/courses/K1")).await
                    }
                    ("GET", "/schools/{code}/bases/export/{kind}") => {
                        client
                            .get(&format!("/schools/{code}/bases/export/equipment"))
                            .await
                    }
                    ("GET", "/schools/{code}/training/export/{kind}") => {
                        client
                            .get(&format!("/schools/{code}/training/export/classes"))
                            .await
                    }
                    ("GET", "/schools/{code}/courses/export/{kind}") => {
                        client
                            .get(&format!("/schools/{code}/courses/export/courses"))
                            .await
                    }
                    ("GET", "/schools/{code}/psych/archives") => {
                        let r = client
                            .get(&format!("/schools/{code}/psych/archives?reason=%E7%BB%9F%E8%AE%A1%E6%A0%B8%E5%AF%B9"))
                            .await;
                        if r.status == StatusCode::OK {
                            assert!(r.body.contains(STUDENT), "{} {role}: the list", h.label);
                        }
                        r
                    }
                    ("GET", "/schools/{code}/psych/archives/{id}") => {
                        let r = client
                            .get(&format!("/schools/{code}/psych/archives/{archive}?reason=%E7%BB%9F%E8%AE%A1%E6%A0%B8%E5%AF%B9"))
                            .await;
                        if r.status == StatusCode::OK {
                            assert!(
                                r.body.contains(STUDENT) && r.body.contains("187.25"),
                                "{} {role}: the archive",
                                h.label
                            );
                        }
                        r
                    }
                    ("POST", "/schools/{code}/bases/import") => {
                        let sheet = sheet(
                            BasesKind::Bases.label(),
                            BasesKind::Bases.columns(),
                            "基地编号,基地名称,级别,年开放学时\nB1,汽车实训中心,国家级,1000\n",
                        );
                        client
                            .upload(
                                &format!("/schools/{code}/bases/import"),
                                &[("csrf", &csrf), ("kind", "bases")],
                                &sheet,
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/training/import") => {
                        let sheet = sheet(
                            TrainingKind::Classes.label(),
                            TrainingKind::Classes.columns(),
                            "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\nC1,电工,退役军人,2025-04-01,2025-04-20,80,30\n",
                        );
                        client
                            .upload(
                                &format!("/schools/{code}/training/import"),
                                &[("csrf", &csrf), ("kind", "classes")],
                                &sheet,
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/courses/import") => {
                        let sheet = sheet(
                            CoursesKind::Enrolments.label(),
                            CoursesKind::Enrolments.columns(),
                            "课程编号,学期,选课人数\nK1,2025-2026-1,620\n",
                        );
                        client
                            .upload(
                                &format!("/schools/{code}/courses/import"),
                                &[("csrf", &csrf), ("kind", "enrolments")],
                                &sheet,
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/courses/actions/{action}/close") => {
                        actions += 1;
                        let action = format!("A{actions}");
                        let import = nianbao_systems::courses::read(
                            CoursesKind::Actions,
                            &csv_table(
                                &format!("措施编号,课程编号,改进措施,责任人,截止日期,状态\n{action},K1,增加互动,王老师,2025-11-30,进行中\n"),
                                CoursesKind::Actions.columns(),
                            ),
                            &vocabulary.courses,
                        )
                        .unwrap();
                        h.store
                            .import_courses(code, import, Mode::Upsert, &vocabulary, "setup")
                            .await
                            .unwrap();
                        client
                            .post(
                                &format!("/schools/{code}/courses/actions/{action}/close"),
                                &[
                                    ("csrf", &csrf),
                                    ("evidence", "教研记录"),
                                    ("date", "2025-11-20"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/psych/import") => {
                        let sheet = sheet(
                            PsychKind::Screenings.label(),
                            PsychKind::Screenings.columns(),
                            &screening_csv(&format!("P-{role}")),
                        );
                        client
                            .upload(
                                &format!("/schools/{code}/psych/import"),
                                &[
                                    ("csrf", &csrf),
                                    ("kind", "screenings"),
                                    ("reason", "统计核对"),
                                ],
                                &sheet,
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/psych/export") => {
                        let r = client
                            .post(
                                &format!("/schools/{code}/psych/export"),
                                &[
                                    ("csrf", &csrf),
                                    ("kind", "screenings"),
                                    ("reason", "统计核对"),
                                ],
                            )
                            .await;
                        if r.status == StatusCode::OK {
                            assert_eq!(&r.bytes[..2], b"PK", "{} {role}: a workbook", h.label);
                        }
                        r
                    }
                    ("POST", "/schools/{code}/psych/purge") => {
                        client
                            .post(&format!("/schools/{code}/psych/purge"), &[("csrf", &csrf)])
                            .await
                    }
                    ("GET", "/schools/{code}/points/students/{number}") => {
                        client
                            .get(&format!("/schools/{code}/points/students/{}", pf.student))
                            .await
                    }
                    ("GET", "/schools/{code}/points/classes/{class}") => {
                        client
                            .get(&format!(
                                "/schools/{code}/points/classes/{}",
                                common::enc(&pf.class)
                            ))
                            .await
                    }
                    ("POST", "/schools/{code}/points/record") => {
                        let observation = if *role == "teacher" {
                            teacher_observation.as_str()
                        } else {
                            "C01.1.1"
                        };
                        let r = client
                            .post(
                                &format!("/schools/{code}/points/record"),
                                &[
                                    ("csrf", &csrf),
                                    ("class", &pf.class),
                                    ("student", &pf.other_student),
                                    ("observation", observation),
                                    ("note", "课堂表现"),
                                ],
                            )
                            .await;
                        if r.status == StatusCode::SEE_OTHER && *role != "anonymous" {
                            assert!(
                                r.location().contains("done=1"),
                                "{} {role}: recorded",
                                h.label
                            );
                        }
                        r
                    }
                    ("POST", "/schools/{code}/points/terms/{term}/close") => {
                        let r = client
                            .post(
                                &format!(
                                    "/schools/{code}/points/terms/{}/close",
                                    common::enc("上学期")
                                ),
                                &[("csrf", &csrf)],
                            )
                            .await;
                        if r.status == StatusCode::SEE_OTHER && *role != "anonymous" {
                            assert!(
                                r.location().contains("closed="),
                                "{} {role}: closed {}",
                                h.label,
                                r.location()
                            );
                        }
                        r
                    }
                    ("POST", "/schools/{code}/points/roster") => {
                        let r = client
                            .upload(
                                &format!("/schools/{code}/points/roster"),
                                &[("csrf", &csrf)],
                                "学号,姓名,班级,专业,专业部,入学年份\nS2609001,新同学,汽修2601,汽车运用与维修,汽车技术部,2026\n".as_bytes(),
                            )
                            .await;
                        if r.status == StatusCode::SEE_OTHER && *role != "anonymous" {
                            assert!(
                                r.location().contains("added="),
                                "{} {role}: imported {}",
                                h.label,
                                r.location()
                            );
                        }
                        r
                    }
                    ("POST", "/schools/{code}/points/events/{id}/reverse") => {
                        let event = if *role == "teacher" {
                            &teacher_event
                        } else {
                            &head_event
                        };
                        let r = client
                            .post(
                                &format!("/schools/{code}/points/events/{event}/reverse"),
                                &[("csrf", &csrf), ("reason", "记错学生")],
                            )
                            .await;
                        if r.status == StatusCode::SEE_OTHER && *role != "anonymous" {
                            assert!(
                                r.location().contains("done=1"),
                                "{} {role}: reversed {}",
                                h.label,
                                r.location()
                            );
                        }
                        r
                    }
                    ("GET", "/areas/{area}/finals/{id}/{file}") => {
                        client
                            .get(&format!(
                                "/areas/{}/finals/{area_final}/report.html",
                                h.district
                            ))
                            .await
                    }
                    ("POST", "/areas/{area}/report/final") => {
                        client
                            .post(
                                &format!("/areas/{}/report/final", h.district),
                                &[("csrf", &csrf), ("year", "2025")],
                            )
                            .await
                    }
                    ("GET", "/areas/{area}/audit/{id}") => {
                        client
                            .get(&format!("/areas/{}/audit/{batch}", h.district))
                            .await
                    }
                    ("GET", "/areas/{area}/audit/{id}/table.xlsx") => {
                        client
                            .get(&format!("/areas/{}/audit/{batch}/table.xlsx", h.district))
                            .await
                    }
                    ("POST", "/areas/{area}/audit") => {
                        client
                            .upload_as(
                                &format!("/areas/{}/audit", h.district),
                                &[("csrf", &csrf)],
                                "reports.zip",
                                "application/zip",
                                &reports_zip,
                            )
                            .await
                    }
                    ("POST", "/areas/{area}/audit/{id}/confirm") => {
                        client
                            .post(
                                &format!("/areas/{}/audit/{batch}/confirm", h.district),
                                &[("csrf", &csrf), ("position", "0"), ("grade", "A")],
                            )
                            .await
                    }
                    ("GET", pattern) => {
                        let path = pattern
                            .replace("{code}", code)
                            .replace("{area}", &h.district)
                            .replace("{section}", "1.4")
                            .replace("{part}", PART)
                            .replace("{slug}", &slug)
                            .replace("{id}", &snapshot.to_string())
                            .replace("{file}", "report.html");
                        client.get(&path).await
                    }
                    ("POST", "/schools/{code}/writing/{part}") => {
                        let text = format!(
                            "{role} 写的一段文字，教职工 {{{{ v(\"教职工总数\") | num }}}} 人。"
                        );
                        if *role == "department" {
                            // Another department's part (1.4 stays with the quality office).
                            let other = client
                                .post(
                                    &format!("/schools/{code}/writing/1.4"),
                                    &[("csrf", &csrf), ("text", "越权写入"), ("version", "0")],
                                )
                                .await;
                            assert_eq!(other.status, StatusCode::FORBIDDEN, "{}: 1.4", h.label);
                            assert!(
                                h.store
                                    .report_text(code, y2025, "sections/1.4.md")
                                    .await
                                    .unwrap()
                                    .is_none(),
                                "{}: nothing written to 1.4",
                                h.label
                            );
                        }
                        client
                            .post(
                                &format!("/schools/{code}/writing/{PART}"),
                                &[("csrf", &csrf), ("text", &text), ("version", &text_version)],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/writing/{part}/preview") => {
                        client
                            .post(
                                &format!("/schools/{code}/writing/{PART}/preview"),
                                &[("csrf", &csrf), ("text", "{{ v(\"教职工总数\") | num }}")],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/writing/{part}/state") => {
                        let states = h.store.part_states(code, y2025).await.unwrap();
                        let now = states.iter().find(|s| s.part == PART).map(|s| s.state);
                        if now != Some(WritingState::Review) {
                            let change = nianbao_store::PartMove {
                                part: PART,
                                from: now,
                                to: WritingState::Review,
                                reason: None,
                            };
                            h.store
                                .move_part(code, y2025, &change, "setup")
                                .await
                                .unwrap();
                        }
                        client
                            .post(
                                &format!("/schools/{code}/writing/{PART}/state"),
                                &[("csrf", &csrf), ("action", "approve")],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/writing/{part}/comments") => {
                        client
                            .post(
                                &format!("/schools/{code}/writing/{PART}/comments"),
                                &[("csrf", &csrf), ("body", "意见"), ("quote", "")],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/writing/{part}/revert") => {
                        client
                            .post(
                                &format!("/schools/{code}/writing/{PART}/revert"),
                                &[("csrf", &csrf), ("version", "1"), ("base", &text_version)],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/comments/{id}/resolve") => {
                        client
                            .post(
                                &format!("/schools/{code}/comments/{comment}/resolve"),
                                &[("csrf", &csrf)],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/cases") => {
                        client
                            .post(
                                &format!("/schools/{code}/cases"),
                                &[
                                    ("csrf", &csrf),
                                    ("title", "新案例"),
                                    ("section", PART),
                                    ("order", "2"),
                                    ("body", "正文"),
                                    ("version", "0"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/cases/{slug}") => {
                        let mut fields = vec![
                            ("csrf", csrf.as_str()),
                            ("title", "走访企业（修订）"),
                            ("section", PART),
                            ("order", "1"),
                            ("body", "修订后的正文"),
                            ("version", case_version.as_str()),
                        ];
                        for image in &case_now.meta.images {
                            fields.push(("caption", image.caption.as_str()));
                        }
                        client
                            .post(&format!("/schools/{code}/cases/{slug}"), &fields)
                            .await
                    }
                    ("POST", "/schools/{code}/cases/{slug}/photos") => {
                        if case_now.meta.images.len() >= 4 {
                            authoring
                                .remove_photo(code, y2025, &slug, case_now.version, 0, "setup")
                                .await
                                .unwrap();
                        }
                        let version = authoring.case(code, y2025, &slug).await.unwrap().version;
                        client
                            .upload(
                                &format!("/schools/{code}/cases/{slug}/photos"),
                                &[
                                    ("csrf", &csrf),
                                    ("caption", "实训场景"),
                                    ("version", &version.to_string()),
                                ],
                                &png(),
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/cases/{slug}/photos/{index}/delete") => {
                        if case_now.meta.images.is_empty() {
                            authoring
                                .add_photo(
                                    code,
                                    y2025,
                                    &slug,
                                    case_now.version,
                                    photo("待删"),
                                    "setup",
                                )
                                .await
                                .unwrap();
                        }
                        let version = authoring.case(code, y2025, &slug).await.unwrap().version;
                        client
                            .post(
                                &format!("/schools/{code}/cases/{slug}/photos/0/delete"),
                                &[("csrf", &csrf), ("version", &version.to_string())],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/cases/{slug}/move") => {
                        client
                            .post(
                                &format!("/schools/{code}/cases/{slug}/move"),
                                &[("csrf", &csrf), ("step", "1")],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/cases/{slug}/delete") => {
                        let doomed = authoring
                            .save_case(code, y2025, None, 0, &case_edit("将删除"), "setup")
                            .await
                            .unwrap();
                        let version = authoring.case(code, y2025, &doomed).await.unwrap().version;
                        client
                            .post(
                                &format!("/schools/{code}/cases/{doomed}/delete"),
                                &[("csrf", &csrf), ("version", &version.to_string())],
                            )
                            .await
                    }
                    ("POST", "/admin/users/{name}") => {
                        let victim = &h.users["quality2"];
                        client
                            .post(
                                &format!("/admin/users/{victim}"),
                                &[("csrf", &csrf), ("action", "enable"), ("password", "")],
                            )
                            .await
                    }
                    ("POST", "/admin/schools") => {
                        let new_code = common::unique("new-school-");
                        let r = client
                            .post(
                                "/admin/schools",
                                &[
                                    ("csrf", &csrf),
                                    ("code", &new_code),
                                    ("name", "新学校"),
                                    ("province", "某省"),
                                    ("city", "某市"),
                                    ("district", "某区"),
                                    ("report_year", "2025"),
                                ],
                            )
                            .await;
                        assert!(
                            h.store.load_dataset(&new_code).await.is_err(),
                            "{} {role}: no school created",
                            h.label
                        );
                        r
                    }
                    ("POST", "/schools/{code}/profile") => {
                        let (school, majors) = seen().await;
                        let name = h.data().await.school.name;
                        client
                            .post(
                                &format!("/schools/{code}/profile"),
                                &[
                                    ("csrf", &csrf),
                                    ("seen_school", &school),
                                    ("seen_majors", &majors),
                                    ("name", &name),
                                    ("phone", "023-12345678"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/structure/departments") => {
                        let (school, majors) = seen().await;
                        client
                            .post(
                                &format!("/schools/{code}/structure/departments"),
                                &[
                                    ("csrf", &csrf),
                                    ("seen_school", &school),
                                    ("seen_majors", &majors),
                                    ("action", "add"),
                                    ("new_name", &common::unique("部门")),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/structure/majors") => {
                        let (school, majors) = seen().await;
                        let category = h.data().await.majors[0].category.clone();
                        client
                            .post(
                                &format!("/schools/{code}/structure/majors"),
                                &[
                                    ("csrf", &csrf),
                                    ("seen_school", &school),
                                    ("seen_majors", &majors),
                                    ("action", "add"),
                                    ("new_name", &common::unique("专业")),
                                    ("category", &category),
                                    ("department", ""),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/years/next") => {
                        let (school, majors) = seen().await;
                        let before = h.data().await;
                        let r = client
                            .post(
                                &format!("/schools/{code}/years/next"),
                                &[
                                    ("csrf", &csrf),
                                    ("seen_school", &school),
                                    ("seen_majors", &majors),
                                ],
                            )
                            .await;
                        let after = h.data().await;
                        if after.school.report_year != before.school.report_year {
                            // Back to 2025 for the rest of the walk.
                            h.store
                                .restructure(
                                    code,
                                    &nianbao_store::Restructure {
                                        expected_school: after.school.clone(),
                                        expected_majors: after.majors.clone(),
                                        school: before.school.clone(),
                                        majors: after.majors.clone(),
                                        renamed_majors: Vec::new(),
                                        renamed_departments: Vec::new(),
                                    },
                                    "setup",
                                )
                                .await
                                .unwrap();
                        }
                        r
                    }
                    ("POST", "/account/password") => {
                        client
                            .post(
                                "/account/password",
                                &[
                                    ("csrf", &csrf),
                                    ("old", common::PASSWORD),
                                    ("new", common::PASSWORD),
                                    ("again", common::PASSWORD),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/report/final") => {
                        client
                            .post(&format!("/schools/{code}/report/final"), &[("csrf", &csrf)])
                            .await
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
                    ("POST", "/schools/{code}/workbook") => {
                        // Each user uploads the workbook they were given, or the quality
                        // office's when they get none.
                        let own = client.get(&format!("/schools/{code}/workbook.xlsx")).await;
                        let bytes = if own.status == StatusCode::OK {
                            own.bytes
                        } else {
                            workbook.clone()
                        };
                        client
                            .upload(
                                &format!("/schools/{code}/workbook"),
                                &[("csrf", &csrf)],
                                &bytes,
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
                    ("POST", "/areas/{area}/approve") => {
                        client
                            .post(
                                &format!("/areas/{}/approve", h.district),
                                &[("csrf", &csrf), ("year", "2025"), ("what", "clean")],
                            )
                            .await
                    }
                    ("POST", "/areas/{area}/report") => {
                        client
                            .post(
                                &format!("/areas/{}/report", h.district),
                                &[
                                    ("csrf", &csrf),
                                    ("year", "2025"),
                                    ("part", "preface"),
                                    ("body", "本区职业教育概况。"),
                                ],
                            )
                            .await
                    }
                    ("POST", "/schools/{code}/submission") => {
                        client
                            .post(
                                &format!("/schools/{code}/submission"),
                                &[("csrf", &csrf), ("year", "2025"), ("action", "submit")],
                            )
                            .await
                    }
                    ("POST", "/logout") => client.post("/logout", &[("csrf", &csrf)]).await,
                    other => panic!("no request for {other:?}"),
                };
                if *role != "counsellor" {
                    assert!(
                        !response.body.contains(STUDENT) && !contains(&response.bytes, STUDENT),
                        "{} {role}: {} {} shows a student of the psychological archive",
                        h.label,
                        case.method,
                        case.pattern
                    );
                }
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
