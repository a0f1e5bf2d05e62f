//! The psychological archive through the web app, on SQLite and PostgreSQL: the web
//! administrator cannot make a counsellor (who could read the archive) nor reset one's
//! password; every page but the counsellor's shows counts only, small ones withheld; every
//! opening of the archive is in the access log with who and why; without a reason nothing
//! is opened.

mod common;

use axum::http::StatusCode;
use common::Harness;
use nianbao_systems::psych::{PsychKind, Sealer};
use nianbao_systems::{Mode, Vocabulary};

/// Seven students without risk, three at low risk, two at high risk: the small levels are
/// withheld, and together (5) they reach the minimum, so the seven are published.
const SCREENINGS: &str = "记录编号,学号,姓名,量表,筛查日期,得分,风险等级,备注\n\
    P1,S1,学生一,SCL-90,2025-03-10,101,无风险,\n\
    P2,S2,学生二,SCL-90,2025-03-10,102,无风险,\n\
    P3,S3,学生三,SCL-90,2025-03-10,103,无风险,\n\
    P4,S4,学生四,SCL-90,2025-03-10,104,无风险,\n\
    P5,S5,学生五,SCL-90,2025-03-10,105,无风险,\n\
    P6,S6,学生六,SCL-90,2025-03-10,106,无风险,\n\
    P7,S7,学生七,SCL-90,2025-03-10,107,无风险,\n\
    P8,S8,学生八,SCL-90,2025-03-10,131,低风险,\n\
    P9,S9,学生九,SCL-90,2025-03-10,132,低风险,\n\
    P10,S10,学生十,SCL-90,2025-03-10,133,低风险,\n\
    P11,S11,学生十一,SCL-90,2025-03-10,188,高风险,\n\
    P12,S12,学生十二,SCL-90,2025-03-10,199.25,高风险,夜间难以入睡\n";

async fn fill(h: &Harness) {
    let vocabulary = Vocabulary::builtin(&h.definitions).unwrap();
    let table = nianbao_systems::table::read_file(
        "筛查.csv",
        SCREENINGS.as_bytes(),
        "",
        PsychKind::Screenings.columns(),
        &nianbao_xlsx::Limits::default(),
    )
    .unwrap();
    let rows =
        nianbao_systems::psych::records::read(PsychKind::Screenings, &table, &vocabulary.psych)
            .unwrap();
    let counsellor = h.user("counsellor").await;
    h.store
        .import_psych(
            &h.code,
            PsychKind::Screenings,
            rows,
            Mode::Upsert,
            &Sealer::new(&h.psych_key, &h.code),
            &nianbao_store::PsychAccess {
                user: &counsellor,
                reason: "统计核对",
            },
            &vocabulary,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_web_administrator_cannot_make_or_take_over_a_counsellor() {
    for h in Harness::all().await {
        let mut admin = h.signed_in("admin").await;
        let csrf = admin.csrf("/admin/users").await;
        let page = admin.get("/admin/users").await;
        assert!(
            !page.body.contains("value=\"counsellor\""),
            "{}: not offered",
            h.label
        );
        let name = common::unique("counsellor-");
        let refused = admin
            .post(
                "/admin/users",
                &[
                    ("csrf", &csrf),
                    ("name", &name),
                    ("role", "counsellor"),
                    ("school", &h.code),
                    ("department", ""),
                    ("password", "another long password"),
                ],
            )
            .await;
        assert!(
            refused.body.contains("只能由服务器管理员在命令行创建"),
            "{}",
            refused.body
        );
        assert!(
            !h.store
                .users()
                .await
                .unwrap()
                .iter()
                .any(|u| u.name == name)
        );
        let counsellor = h.users["counsellor"].clone();
        let refused = admin
            .post(
                &format!("/admin/users/{}", urlencode(&counsellor)),
                &[
                    ("csrf", &csrf),
                    ("action", "password"),
                    ("password", "taken over 12345"),
                ],
            )
            .await;
        assert!(
            refused.body.contains("网页管理员不能创建或重设其密码"),
            "{}",
            refused.body
        );
        assert!(
            h.store
                .authenticate(&counsellor, "taken over 12345")
                .await
                .unwrap()
                .is_none(),
            "{}: the counsellor's password is unchanged",
            h.label
        );
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn pages_show_counts_only_and_every_opening_is_logged() {
    for h in Harness::all().await {
        fill(&h).await;
        let code = &h.code;
        // The quality office: the counts, the small ones withheld, no student.
        let mut quality = h.signed_in("quality").await;
        let page = quality.get(&format!("/schools/{code}/psych")).await;
        assert_eq!(page.status, StatusCode::OK);
        let row = |name: &str| {
            let start = page
                .body
                .find(name)
                .unwrap_or_else(|| panic!("{name}: {}", page.body));
            page.body[start..start + page.body[start..].find("</tr>").unwrap()].to_string()
        };
        assert!(
            row("参加心理筛查学生数").contains(">12<"),
            "{}",
            row("参加心理筛查学生数")
        );
        assert!(row("心理筛查无风险学生数").contains(">7<"));
        for withheld in ["心理筛查低风险学生数", "心理筛查高风险学生数"] {
            let cells = row(withheld);
            assert!(
                !cells.contains(">3<") && !cells.contains(">2<"),
                "{withheld}: {cells}"
            );
        }
        for secret in ["学生十二", "S12", "199.25", "夜间难以入睡"] {
            assert!(!page.body.contains(secret), "{secret}");
        }
        let report = quality.get(&format!("/schools/{code}/report")).await;
        assert!(
            report.body.contains("心理筛查 12 人次"),
            "the report has the count"
        );
        assert!(
            !report.body.contains("高风险学生"),
            "nor the withheld level"
        );

        // The counsellor: without a reason nothing is opened or logged.
        let counsellor = h.user("counsellor").await;
        let before = h
            .store
            .psych_access_log(code, &counsellor, 100)
            .await
            .unwrap()
            .len();
        let mut client = h.signed_in("counsellor").await;
        let form = client.get(&format!("/schools/{code}/psych/archives")).await;
        assert!(form.body.contains("id=\"reason-form\"") && !form.body.contains("学生十二"));
        let odd = client
            .get(&format!(
                "/schools/{code}/psych/archives?reason=%E5%A5%BD%E5%A5%87"
            ))
            .await;
        assert_eq!(
            odd.status,
            StatusCode::BAD_REQUEST,
            "an unlisted reason is refused"
        );
        assert_eq!(
            h.store
                .psych_access_log(code, &counsellor, 100)
                .await
                .unwrap()
                .len(),
            before
        );
        let list = client
            .get(&format!(
                "/schools/{code}/psych/archives?reason=%E5%8D%B1%E6%9C%BA%E5%B9%B2%E9%A2%84&detail=%E9%AB%98%E9%A3%8E%E9%99%A9%E9%9A%8F%E8%AE%BF"
            ))
            .await;
        assert!(list.body.contains("学生十二"), "{}", list.body);
        let log = h
            .store
            .psych_access_log(code, &counsellor, 1)
            .await
            .unwrap();
        assert_eq!(log[0].action, "查看档案列表");
        assert_eq!(log[0].reason, "危机干预：高风险随访");
        assert_eq!(log[0].actor, counsellor.name);
        let page = client.get(&format!("/schools/{code}/psych/access")).await;
        assert!(page.body.contains("危机干预：高风险随访"), "{}", page.body);
    }
}
