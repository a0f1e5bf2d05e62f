//! The points ledger's pages (积分制) on SQLite and PostgreSQL: what a 班主任, a 任课教师
//! and a student may reach and what they are refused — a student of another class, another
//! teacher's event, a reversal without a reason or twice, a limit — and the read log.

mod common;

use axum::http::StatusCode;
use common::{Client, Harness, Response};

/// Posts a roster file to the school's roster upload as `client`: as an Excel workbook
/// named `name`, or (without a name) as [`Client::upload`] posts a file.
async fn upload_roster(
    client: &mut Client,
    code: &str,
    csrf: &str,
    name: Option<&str>,
    file: &[u8],
) -> Response {
    let path = format!("/schools/{code}/points/roster");
    let fields = [("csrf", csrf)];
    match name {
        Some(name) => {
            let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            client.upload_as(&path, &fields, name, xlsx, file).await
        }
        None => client.upload(&path, &fields, file).await,
    }
}

/// Posts the closing of the term `term` as `client`.
async fn close_term(client: &mut Client, code: &str, csrf: &str, term: &str) -> Response {
    let path = format!("/schools/{code}/points/terms/{}/close", common::enc(term));
    client.post(&path, &[("csrf", csrf)]).await
}

#[tokio::test]
async fn recording_and_reversing_are_limited_to_ones_own_classes_and_events() {
    for mut h in Harness::all().await {
        let pf = h.with_points().await;
        let code = h.code.clone();
        let (mut head, csrf) = h
            .signed_in_at("head_teacher", &format!("/schools/{code}/points/record"))
            .await;
        let record = |students: Vec<&str>, observation: &str| {
            let mut fields = vec![
                ("csrf".to_string(), csrf.clone()),
                ("class".to_string(), pf.class.clone()),
                ("observation".to_string(), observation.to_string()),
                ("note".to_string(), "课堂".to_string()),
            ];
            for s in students {
                fields.push(("student".to_string(), s.to_string()));
            }
            fields
        };
        let post = |client: &mut common::Client, fields: Vec<(String, String)>| {
            let mut client = client.clone();
            let code = code.clone();
            async move {
                let pairs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                client
                    .post(&format!("/schools/{code}/points/record"), &pairs)
                    .await
            }
        };

        // A student of another class cannot be slipped into the form.
        let forged = post(&mut head, record(vec!["S2601001", &pf.stranger], "C01.1.1")).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", h.label);
        // Nothing ticked, nothing chosen: named, nothing recorded.
        let empty = post(&mut head, record(vec![], "")).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            empty.body.contains("请至少勾选一名学生") && empty.body.contains("请选择一个观测点"),
            "{}",
            empty.body
        );
        // An observation the 班主任's role may not record is refused by the ledger's rule.
        let tree = nianbao_points::Tree::sample();
        let not_ours = tree
            .observations
            .iter()
            .find(|o| !o.roles.iter().any(|r| r == "班主任"))
            .unwrap();
        let refused = post(&mut head, record(vec!["S2601001"], &not_ours.code)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("「班主任」不能记录观测点"),
            "{}",
            refused.body
        );

        // Two students; then one of them again the same day: the daily limit, and the
        // other student of that batch is not recorded either.
        let ok = post(&mut head, record(vec!["S2601001", "S2601002"], "C01.1.1")).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let limit = post(&mut head, record(vec!["S2601003", "S2601001"], "C01.1.1")).await;
        assert_eq!(limit.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            limit.body.contains("张小明（S2601001）") && limit.body.contains("超出每日 1 次的上限"),
            "{}",
            limit.body
        );
        let points = nianbao_store::points::PointsStore::new(&h.store, None)
            .await
            .unwrap();
        let sl = points.open_ledger(&code).await.unwrap();
        assert_eq!(sl.ledger.len(), 2, "{}: only the first batch", h.label);

        // The 任课教师's event cannot be reversed by the 班主任.
        let teachers = h
            .record_points("teacher", "S2601004", &{
                tree.observations
                    .iter()
                    .find(|o| o.roles.iter().any(|r| r == "任课教师"))
                    .unwrap()
                    .code
                    .clone()
            })
            .await;
        let r = head
            .post(
                &format!("/schools/{code}/points/events/{teachers}/reverse"),
                &[("csrf", &csrf), ("reason", "越权")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);

        // Own event: a reason is required, then it is reversed once and only once.
        let mine = points
            .recorded_by(&sl, &h.users["head_teacher"], 10)
            .await
            .unwrap();
        let id = mine[0].event.event_id.clone();
        let reverse = |reason: &'static str| {
            let mut client = head.clone();
            let (code, id, csrf) = (code.clone(), id.clone(), csrf.clone());
            async move {
                client
                    .post(
                        &format!("/schools/{code}/points/events/{id}/reverse"),
                        &[("csrf", &csrf), ("reason", reason)],
                    )
                    .await
            }
        };
        let no_reason = reverse("  ").await;
        assert!(
            no_reason.location().contains("problem="),
            "{}",
            no_reason.location()
        );
        let done = reverse("记错学生").await;
        assert!(done.location().ends_with("done=1"), "{}", done.location());
        let twice = reverse("再次").await;
        assert!(
            twice.location().contains("problem="),
            "{}",
            twice.location()
        );
        let page = head.get(&format!("/schools/{code}/points/mine")).await;
        assert!(page.body.contains("已冲销") && page.body.contains("记错学生"));
        let sl = points.open_ledger(&code).await.unwrap();
        assert_eq!(
            sl.ledger.len(),
            4,
            "{}: two, the teacher's and one reversal",
            h.label
        );

        // Reads: the 班主任's read of a profile is logged, the student's own is not; the
        // 任课教师 reads no profile.
        let profile = |student: &str| format!("/schools/{code}/points/students/{student}");
        let student_page = head.get(&profile(&pf.other_student)).await;
        assert_eq!(student_page.status, StatusCode::OK);
        let mut own = h.signed_in("student").await;
        let mine = own.get(&profile(&pf.student)).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("<svg"), "the radar is drawn");
        let other = own.get(&profile(&pf.other_student)).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN);
        assert!(!other.body.contains("李小红"));
        let mut teacher = h.signed_in("teacher").await;
        let r = teacher.get(&profile(&pf.student)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The quality office ranks classes, majors and departments and draws up the lists;
        // no one else does.
        let mut quality = h.signed_in("quality").await;
        for (by, shown) in [
            ("class", "汽修2601"),
            ("major", "汽车运用与维修"),
            ("department", "智能制造部"),
        ] {
            let page = quality
                .get(&format!("/schools/{code}/points/rankings?by={by}"))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{by}: {}", page.body);
            assert!(
                page.body.contains(shown) && page.body.contains("百分位"),
                "{by}: {}",
                page.body
            );
        }
        let bad = quality
            .get(&format!("/schools/{code}/points/rankings?by=grade"))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let lists = quality.get(&format!("/schools/{code}/points/awards")).await;
        assert_eq!(lists.status, StatusCode::OK, "{}", lists.body);
        for name in ["红匠之星", "职教高考班推荐", "3+4 本科班推荐"] {
            assert!(lists.body.contains(name), "{name}: {}", lists.body);
        }
        for path in [
            "rankings",
            "awards",
            "rankings?format=csv",
            "awards?format=csv",
        ] {
            let r = head.get(&format!("/schools/{code}/points/{path}")).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        }
        // Exports name who exported and when, in the file and in the log.
        let sl = points.open_ledger(&code).await.unwrap();
        assert!(points.exports(&sl, 10).await.unwrap().is_empty());
        let ranking = quality
            .get(&format!(
                "/schools/{code}/points/rankings?by=major&format=csv"
            ))
            .await;
        assert_eq!(ranking.status, StatusCode::OK, "{}", ranking.body);
        let exporter = &h.users["quality"];
        let first = ranking.body.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!(
                "\u{feff}导出人,{exporter},导出时间（北京时间）,20"
            )),
            "{}",
            ranking.body
        );
        assert!(ranking.body.contains("名次,专业,人数"), "{}", ranking.body);
        assert!(ranking.body.contains("汽车运用与维修"), "{}", ranking.body);
        assert!(ranking.saved_name().ends_with(".csv"));
        let lists_csv = quality
            .get(&format!("/schools/{code}/points/awards?format=csv"))
            .await;
        assert_eq!(lists_csv.status, StatusCode::OK, "{}", lists_csv.body);
        assert!(
            lists_csv.body.contains(&format!("导出人,{exporter}"))
                && lists_csv.body.contains("红匠之星"),
            "{}",
            lists_csv.body
        );
        let log = points.exports(&sl, 10).await.unwrap();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log.iter().all(|e| &e.exported_by == exporter));
        let whats: Vec<&str> = log.iter().map(|e| e.what.as_str()).collect();
        assert!(
            whats.contains(&"专业排名") && whats.contains(&"评优与推荐名单"),
            "{whats:?}"
        );
        let shown = nianbao_core::clock::beijing_time(&log[0].exported_at);
        assert!(
            ranking.body.contains(&shown) || lists_csv.body.contains(&shown),
            "{shown}"
        );

        // The roster from the browser: a refused file names its row and column and changes
        // nothing; a good one adds and updates.
        let csrf_q = quality.csrf(&format!("/schools/{code}/points")).await;
        let before = points.open_ledger(&code).await.unwrap().ledger.roster.len();
        let refused = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            None,
            "学号,姓名,班级,专业,专业部,入学年份\nS2609001,新同学,汽修2601,汽车运用与维修,汽车技术部,2026\nS2609002,,汽修2601,汽车运用与维修,汽车技术部,二〇二六\n".as_bytes(),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("第 3 行「入学年份」列")
                && refused.body.contains("数据库未作任何修改"),
            "{}",
            refused.body
        );
        let id_card = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            None,
            "学号,姓名,班级,专业,专业部,入学年份,身份证号\n".as_bytes(),
        )
        .await;
        assert!(
            id_card.body.contains("系统不保存此类个人信息"),
            "{}",
            id_card.body
        );
        let gbk = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            None,
            &[0xD1, 0xA7, 0xBA, 0xC5, b'\n'],
        )
        .await;
        assert!(gbk.body.contains("CSV UTF-8"), "{}", gbk.body);
        assert_eq!(
            points.open_ledger(&code).await.unwrap().ledger.roster.len(),
            before
        );
        let imported = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            None,
            "\u{feff}学号,姓名,班级,专业,专业部,入学年份\nS2609001,新同学,汽修2601,汽车运用与维修,汽车技术部,2026\nS2601004,陈小燕,汽修2602,汽车运用与维修,汽车技术部,2026\n".as_bytes(),
        )
        .await;
        assert_eq!(
            imported.location(),
            format!("/schools/{code}/points?added=1&updated=1")
        );
        let roster = points.open_ledger(&code).await.unwrap().ledger.roster;
        assert_eq!(roster.len(), before + 1);
        let moved = roster
            .id_of("S2601004")
            .and_then(|id| roster.student(id))
            .unwrap();
        assert_eq!(moved.class, "汽修2602");
        // The same from an Excel workbook: a refused sheet names the file, the sheet, the row
        // as Excel numbers it and the column; numbers in number cells are read as written.
        let workbook = |rows: &[[&str; 6]], year_as_number: bool| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name("名册").unwrap();
            sheet.write_string(0, 0, "2026 级新生名册").unwrap();
            for (c, h) in ["学号", "姓名", "班级", "专业", "专业部", "入学年份"]
                .iter()
                .enumerate()
            {
                sheet.write_string(2, c as u16, *h).unwrap();
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let (r, c) = (r as u32 + 3, c as u16);
                    match v.parse::<f64>() {
                        Ok(n) if year_as_number && c == 5 => {
                            sheet.write_number(r, c, n).unwrap();
                        }
                        _ => {
                            sheet.write_string(r, c, *v).unwrap();
                        }
                    }
                }
            }
            book.save_to_buffer().unwrap()
        };
        let lin_yi = [
            "S2609101",
            "林一",
            "汽修2601",
            "汽车运用与维修",
            "汽车技术部",
            "2026",
        ];
        let refused = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            Some("新生名册.xlsx"),
            &workbook(
                &[
                    lin_yi,
                    [
                        "S2609102",
                        "林二",
                        "汽修2601",
                        "汽车运用与维修",
                        "汽车技术部",
                        "明年",
                    ],
                ],
                true,
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("新生名册.xlsx「名册」工作表")
                && refused.body.contains("第 5 行「入学年份」列")
                && refused.body.contains("「明年」应为四位年份"),
            "{}",
            refused.body
        );
        let headerless = upload_roster(&mut quality, &code, &csrf_q, Some("新生名册.xlsx"), &{
            let mut book = rust_xlsxwriter::Workbook::new();
            book.add_worksheet().write_string(0, 0, "学号").unwrap();
            book.save_to_buffer().unwrap()
        })
        .await;
        assert!(
            headerless.body.contains("第 1 行「姓名」列：表头缺少此列"),
            "{}",
            headerless.body
        );
        assert_eq!(
            points.open_ledger(&code).await.unwrap().ledger.roster.len(),
            before + 1
        );
        let imported = upload_roster(
            &mut quality,
            &code,
            &csrf_q,
            Some("新生名册.xlsx"),
            &workbook(&[lin_yi], true),
        )
        .await;
        assert_eq!(
            imported.location(),
            format!("/schools/{code}/points?added=1&updated=0"),
            "{}",
            imported.body
        );
        let roster = points.open_ledger(&code).await.unwrap().ledger.roster;
        let new = roster
            .id_of("S2609101")
            .and_then(|id| roster.student(id))
            .unwrap();
        assert_eq!((new.name.as_str(), new.entry_year), ("林一", 2026));

        let r = upload_roster(&mut head, &code, &csrf, None, b"x").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Closing the current term: nothing more is recorded or reversed in it.
        let close = close_term(&mut quality, &code, &csrf_q, "本学期").await;
        assert_eq!(close.status, StatusCode::SEE_OTHER, "{}", close.body);
        let again = close_term(&mut quality, &code, &csrf_q, "本学期").await;
        assert!(again.body.contains("已经结账"), "{}", again.body);
        let late = post(&mut head, record(vec!["S2601003"], "C01.1.1")).await;
        assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(late.body.contains("已结账"), "{}", late.body);
        let r = close_term(&mut head, &code, &csrf, "上学期").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The web administrator does not make teachers' or students' accounts: they need
        // their classes or 学号, given on the command line.
        let (mut admin, csrf_a) = h.signed_in_at("admin", "/admin/users").await;
        for role in ["head_teacher", "teacher", "student"] {
            let name = common::unique("web-made-");
            let r = admin
                .post(
                    "/admin/users",
                    &[
                        ("csrf", csrf_a.as_str()),
                        ("name", &name),
                        ("role", role),
                        ("school", &code),
                        ("department", ""),
                        ("password", "another long password"),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{role}");
            assert!(r.body.contains("nianbao user add"), "{}", r.body);
            assert!(
                !h.store
                    .users()
                    .await
                    .unwrap()
                    .iter()
                    .any(|u| u.name == name)
            );
        }

        let reads = points.reads(&sl, None, 10).await.unwrap();
        assert_eq!(reads.len(), 1, "{}: {reads:?}", h.label);
        assert_eq!(reads[0].student, pf.other_student);
        assert_eq!(reads[0].reader, h.users["head_teacher"]);
    }
}
