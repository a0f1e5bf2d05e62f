//! Areas, submissions and approval in the store, on SQLite and (when
//! `NIANBAO_TEST_DATABASE_URL` is set) PostgreSQL: the lock on submitted years, returns with
//! reasons, the approved snapshot's diff, area approval after all schools, late schools, and
//! register imports and major renames that would change a locked year.

use nianbao_bureau::areas::{AreaTree, parse_date};
use nianbao_bureau::synth::{self, SynthConfig};
use nianbao_bureau::{Action, Actor, ActorRole, ReturnItem, ReturnTarget, SubmissionState};
use nianbao_core::{Dataset, Definitions, FactKey, Severity, Year, run_checks};
use nianbao_store::{FactEdit, Restructure, Store, StoreError, TextSave};

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

async fn stores() -> Vec<(tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(&dir.path().join("test.db"))
        .await
        .unwrap();
    let mut stores = vec![(dir, sqlite)];
    if let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") {
        stores.push((
            tempfile::tempdir().unwrap(),
            Store::open(&url).await.unwrap(),
        ));
    }
    stores
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t{nanos}")
}

fn area_file(p: &str) -> String {
    format!(
        r#"
[[province]]
code = "{p}-p"
name = "测试省"

[[city]]
code = "{p}-c"
name = "测试市"
province = "{p}-p"

[[district]]
code = "{p}-d1"
name = "甲区"
city = "{p}-c"

[[district]]
code = "{p}-d2"
name = "乙区"
city = "{p}-c"

[[school]]
code = "{p}-a"
name = "甲区一校"
district = "{p}-d1"
type = "中职"

[[school]]
code = "{p}-b"
name = "甲区二校"
district = "{p}-d1"
type = "中职"

[[school]]
code = "{p}-x"
name = "乙区一校"
district = "{p}-d2"
type = "技工"

[[deadline]]
area = "{p}-c"
year = 2025
date = "2026-01-31"
"#
    )
}

/// Loads the test area (`area_file`) of prefix `p` into the store.
async fn load_area(store: &Store, p: &str) {
    let tree = AreaTree::parse("areas.toml", &area_file(p)).unwrap();
    store.load_areas(&tree).await.unwrap();
}

/// A synthetic area of `count` schools for 2025.
fn synth_area(count: usize, seed: u64, fault_share: f64) -> synth::SynthArea {
    synth::area(SynthConfig {
        count,
        seed,
        fault_share,
        year: year(2025),
    })
}

/// The datasets of a synthetic area of `count` schools, coded `{p}-000`, `{p}-001`, ….
fn synth_datasets(p: &str, count: usize, seed: u64, fault_share: f64) -> Vec<Dataset> {
    let area = synth_area(count, seed, fault_share);
    (0..count)
        .map(|i| {
            let mut data = synth::dataset(&area, i).unwrap();
            data.school.code = format!("{p}-{i:03}");
            data
        })
        .collect()
}

fn actor(role: ActorRole, name: &str) -> Actor {
    Actor {
        role,
        name: name.to_string(),
    }
}

/// Stores a clean synthetic dataset under `code` and accepts its warnings, so it may submit.
async fn clean_school(store: &Store, definitions: &Definitions, code: &str, index: usize) {
    let area = synth_area(10, 11, 0.0);
    let mut data = synth::dataset(&area, index).unwrap();
    data.school.code = code.to_string();
    store.save_dataset(&data, "学校").await.unwrap();
    for finding in run_checks(definitions, &data)
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        store
            .accept(code, finding, "已核实，办学条件正在改善", "学校")
            .await
            .unwrap();
    }
}

fn refused(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_year_goes_from_submission_to_the_city_with_a_return_on_the_way() {
    let definitions = Definitions::builtin().unwrap();
    for (_dir, store) in stores().await {
        let p = unique();
        load_area(&store, &p).await;
        let stored = store.area_tree().await.unwrap();
        assert_eq!(stored.schools_in(&format!("{p}-d1")).len(), 2);
        let (a, b) = (format!("{p}-a"), format!("{p}-b"));
        clean_school(&store, &definitions, &a, 1).await;
        clean_school(&store, &definitions, &b, 2).await;
        let school = actor(ActorRole::School, "甲校质量办");
        let district = actor(ActorRole::District, "甲区教育局");
        let city = actor(ActorRole::City, "测试市教育局");
        let y = year(2025);

        // A school with an unexplained warning may not submit.
        let mut data = store.load_dataset(&a).await.unwrap();
        let staff = data.value(y, "staff.total").unwrap();
        data.set(FactKey::school(y, "staff.total"), staff * 1.5);
        data.set(
            FactKey::school(y, "staff.external"),
            data.value(y, "staff.external").unwrap() + staff * 0.5,
        );
        store.save_dataset(&data, "学校").await.unwrap();
        let why = refused(
            store
                .act_on_submission(&a, y, Action::Submit, &school, &[], &definitions)
                .await,
        );
        assert!(why.contains("警告未说明"), "{why}");
        data.set(FactKey::school(y, "staff.total"), staff);
        data.set(
            FactKey::school(y, "staff.external"),
            data.value(y, "staff.external").unwrap() - staff * 0.5,
        );
        store.save_dataset(&data, "学校").await.unwrap();

        let state = store
            .act_on_submission(&a, y, Action::Submit, &school, &[], &definitions)
            .await
            .unwrap();
        assert_eq!(state, SubmissionState::Submitted);

        // Locked: fact edits, whole saves and text saves are refused with the reason.
        let edit = FactEdit {
            key: FactKey::school(y, "staff.total"),
            expected: Some(staff),
            value: Some(staff + 1.0),
        };
        let why = refused(
            store
                .edit_facts(&a, std::slice::from_ref(&edit), "学校")
                .await,
        );
        assert!(why.contains("2025 年度数据已锁定"), "{why}");
        assert!(why.contains("等待区县教育局审核"), "{why}");
        let mut changed = store.load_dataset(&a).await.unwrap();
        changed.set(FactKey::school(y, "staff.total"), staff + 1.0);
        refused(store.save_dataset(&changed, "学校").await);
        let save = TextSave {
            path: "sections/1.1.md",
            parts: &["1.1"],
            base_version: 0,
            body: Some("新的文字"),
        };
        refused(store.save_texts(&a, y, &[save], "学校").await);
        // Another year of the same school stays open.
        let other_year = FactEdit {
            key: FactKey::school(year(2024), "training.social"),
            expected: None,
            value: Some(10.0),
        };
        store.edit_facts(&a, &[other_year], "学校").await.unwrap();

        // Only the district approves; then the district cannot be approved while b waits.
        refused(
            store
                .act_on_submission(&a, y, Action::Approve, &school, &[], &definitions)
                .await,
        );
        store
            .act_on_submission(&a, y, Action::Approve, &district, &[], &definitions)
            .await
            .unwrap();
        let why = refused(
            store
                .approve_area(&format!("{p}-d1"), y, "甲区教育局")
                .await,
        );
        assert!(why.contains("1 所学校未审核通过（甲区二校）"), "{why}");
        assert_eq!(
            store.changes_since_approval(&a, y).await.unwrap(),
            Some(vec![])
        );

        // A return needs a reason; it unlocks the year.
        let blank = ReturnItem {
            target: ReturnTarget::Fact(FactKey::school(y, "staff.total")),
            reason: " ".into(),
        };
        refused(
            store
                .act_on_submission(&a, y, Action::Return, &district, &[blank], &definitions)
                .await,
        );
        let item = ReturnItem {
            target: ReturnTarget::Fact(FactKey::school(y, "staff.total")),
            reason: "教职工总数与人事报表不一致，请核对".into(),
        };
        let state = store
            .act_on_submission(
                &a,
                y,
                Action::Return,
                &district,
                std::slice::from_ref(&item),
                &definitions,
            )
            .await
            .unwrap();
        assert_eq!(state, SubmissionState::Returned);
        store.edit_facts(&a, &[edit], "学校").await.unwrap();
        let changes = store.changes_since_approval(&a, y).await.unwrap().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].key.element, "staff.total");
        assert_eq!(changes[0].approved, Some(staff));
        assert_eq!(changes[0].current, Some(staff + 1.0));

        // The fix breaks a sum, so it cannot be submitted until corrected.
        let why = refused(
            store
                .act_on_submission(&a, y, Action::Submit, &school, &[], &definitions)
                .await,
        );
        assert!(why.contains("错误未改正"), "{why}");
        let fix = FactEdit {
            key: FactKey::school(y, "staff.external"),
            expected: data.value(y, "staff.external"),
            value: data.value(y, "staff.external").map(|v| v + 1.0),
        };
        store.edit_facts(&a, &[fix], "学校").await.unwrap();
        store
            .act_on_submission(&a, y, Action::Submit, &school, &[], &definitions)
            .await
            .unwrap();

        // b submits; the district approves both in bulk, then the district as a whole.
        store
            .act_on_submission(&b, y, Action::Submit, &school, &[], &definitions)
            .await
            .unwrap();
        let outcome = store
            .bulk_approve(&format!("{p}-d1"), y, &district, &definitions)
            .await
            .unwrap();
        assert_eq!(outcome.approved, vec![a.clone(), b.clone()]);
        assert!(outcome.skipped.is_empty());
        store
            .approve_area(&format!("{p}-d1"), y, "甲区教育局")
            .await
            .unwrap();
        assert!(
            store
                .area_approval(&format!("{p}-d1"), y)
                .await
                .unwrap()
                .is_some()
        );
        let state = store
            .act_on_submission(&a, y, Action::Receive, &city, &[], &definitions)
            .await
            .unwrap();
        assert_eq!(state.label(), "市已接收");
        let status = store.submission(&a, y).await.unwrap();
        assert_eq!(status.actor, "测试市教育局");
        assert!(status.submitted_at.is_some());

        let history = store.submission_history(&a, y).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.code()).collect();
        assert_eq!(
            actions,
            [
                "submit", "approve", "return", "submit", "approve", "receive"
            ]
        );
        assert_eq!(history[2].items, vec![item]);
        assert_eq!(history[2].actor, "甲区教育局");

        // The city's deadline has passed for the school that never submitted.
        let late = store
            .late_schools(&format!("{p}-c"), y, parse_date("2026-02-01").unwrap())
            .await
            .unwrap();
        let late: Vec<&str> = late.iter().map(|(s, _)| s.code.as_str()).collect();
        assert_eq!(late, [format!("{p}-x")]);
        assert!(
            store
                .late_schools(&format!("{p}-c"), y, parse_date("2026-01-31").unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// A list of the training-base register imported as the upload pages import it.
async fn import_bases(
    store: &Store,
    code: &str,
    kind: nianbao_systems::bases::BasesKind,
    text: &str,
) -> Result<nianbao_systems::ImportSummary, StoreError> {
    use nianbao_systems::bases::read;
    let definitions = Definitions::builtin().unwrap();
    let vocabulary = nianbao_systems::Vocabulary::builtin(&definitions).unwrap();
    let table = nianbao_systems::table::read_file(
        "台账.csv",
        text.as_bytes(),
        "",
        kind.columns(),
        &nianbao_xlsx::Limits::default(),
    )
    .unwrap();
    let import = read(kind, &table, &vocabulary.bases).unwrap();
    store
        .import_bases(
            code,
            import,
            nianbao_systems::Mode::Upsert,
            &vocabulary,
            "学校",
        )
        .await
}

#[tokio::test]
async fn a_register_import_or_a_major_rename_may_not_change_a_submitted_year() {
    use nianbao_systems::bases::BasesKind;
    let definitions = Definitions::builtin().unwrap();
    for (_dir, store) in stores().await {
        let p = unique();
        load_area(&store, &p).await;
        let a = format!("{p}-a");
        clean_school(&store, &definitions, &a, 1).await;
        let bases = "基地编号,基地名称,级别,年开放学时,服务专业,面积（平方米）,工位数\n\
            B1,汽车实训中心,国家级,1000,,1200,60\n";
        import_bases(&store, &a, BasesKind::Bases, bases)
            .await
            .unwrap();
        let header = "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态,报废日期\n";
        let bought_2024 = format!("{header}A1,举升机,50000,B1,2024-05-01,在用,\n");
        import_bases(&store, &a, BasesKind::Equipment, &bought_2024)
            .await
            .unwrap();
        let y = year(2025);
        // The register's figure beside the typed one may warn; the school explains it.
        let data = store
            .load_dataset_with_registers(&a, &definitions)
            .await
            .unwrap();
        for finding in run_checks(&definitions, &data)
            .iter()
            .filter(|f| f.severity == Severity::Warning)
        {
            store
                .accept(&a, finding, "台账按购置日期统计，已核实", "学校")
                .await
                .unwrap();
        }
        let school = actor(ActorRole::School, "甲校质量办");
        let state = store
            .act_on_submission(&a, y, Action::Submit, &school, &[], &definitions)
            .await
            .unwrap();
        assert_eq!(state, SubmissionState::Submitted);
        let before = store.register_figures(&a).await.unwrap();

        // Equipment bought in 2025 changes 2025's equipment value: refused, nothing written.
        let bought_2025 = format!("{header}A2,诊断仪,30000,B1,2025-03-01,在用,\n");
        let why = refused(import_bases(&store, &a, BasesKind::Equipment, &bought_2025).await);
        assert!(why.contains("2025 年度数据已锁定"), "{why}");
        assert_eq!(store.register_figures(&a).await.unwrap(), before);
        assert_eq!(store.bases_register(&a).await.unwrap().equipment.len(), 1);

        // The same record again changes no figure and is no write to the locked year.
        import_bases(&store, &a, BasesKind::Equipment, &bought_2024)
            .await
            .unwrap();
        assert_eq!(store.register_figures(&a).await.unwrap(), before);

        // Renaming a major would relabel the locked year's facts: refused, names unchanged.
        let data = store.load_dataset(&a).await.unwrap();
        let old_name = data.majors[0].name.clone();
        assert!(
            data.facts
                .keys()
                .any(|k| k.major.as_deref() == Some(old_name.as_str()))
        );
        let mut majors = data.majors.clone();
        majors[0].name = format!("{old_name}（新）");
        let rename = Restructure {
            expected_school: data.school.clone(),
            expected_majors: data.majors.clone(),
            school: data.school.clone(),
            majors,
            renamed_majors: vec![(old_name.clone(), format!("{old_name}（新）"))],
            renamed_departments: Vec::new(),
        };
        let why = refused(store.restructure(&a, &rename, "学校").await);
        assert!(why.contains("2025 年度数据已锁定"), "{why}");
        assert_eq!(store.load_dataset(&a).await.unwrap(), data);

        // Once the district returns the year, the import goes through.
        let district = actor(ActorRole::District, "甲区教育局");
        let item = ReturnItem {
            target: ReturnTarget::Section("1.2".into()),
            reason: "请补充设备台账".into(),
        };
        store
            .act_on_submission(&a, y, Action::Return, &district, &[item], &definitions)
            .await
            .unwrap();
        import_bases(&store, &a, BasesKind::Equipment, &bought_2025)
            .await
            .unwrap();
        assert_ne!(store.register_figures(&a).await.unwrap(), before);
    }
}

#[tokio::test]
async fn an_area_report_keeps_its_own_schools_datasets_and_only_the_results_of_its_peers() {
    use nianbao_bureau::peers::PeerLevel;
    let definitions = Definitions::builtin().unwrap();
    for (_dir, store) in stores().await {
        let p = unique();
        load_area(&store, &p).await;
        let tree = store.area_tree().await.unwrap();
        let (a, b, x) = (format!("{p}-a"), format!("{p}-b"), format!("{p}-x"));
        for (code, index) in [(&a, 1), (&b, 2), (&x, 3)] {
            clean_school(&store, &definitions, code, index).await;
        }
        // 甲区一校 and 乙区一校 approved; 甲区二校 still a draft.
        let y = year(2025);
        for code in [&a, &x] {
            for (action, role) in [
                (Action::Submit, ActorRole::School),
                (Action::Approve, ActorRole::District),
            ] {
                store
                    .act_on_submission(code, y, action, &actor(role, "t"), &[], &definitions)
                    .await
                    .unwrap();
            }
        }
        let codes = |codes: Vec<&str>| codes.join(",");
        let district = format!("{p}-d1");
        // Peers from the city: 乙区一校 is evaluated as a peer, but only the district's own
        // dataset is kept.
        let read = store
            .approved_for_report(&tree, &district, PeerLevel::City, y, &definitions, 2)
            .await
            .unwrap();
        let kept: Vec<&str> = read
            .datasets
            .iter()
            .map(|d| d.school.code.as_str())
            .collect();
        let evaluated: Vec<&str> = read.results.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes(kept), a);
        assert_eq!(codes(evaluated), format!("{a},{x}"));
        let alone = store
            .load_dataset_with_registers(&a, &definitions)
            .await
            .unwrap();
        assert_eq!(read.datasets[0], alone);
        let peer = &read.results[1];
        assert_eq!(peer.name, "乙区一校");
        assert!(peer.value("student_teacher_ratio").is_some());
        // Peers from the district itself: the district's approved school only.
        let read = store
            .approved_for_report(&tree, &district, PeerLevel::District, y, &definitions, 2)
            .await
            .unwrap();
        let evaluated: Vec<&str> = read.results.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes(evaluated), a);
        assert_eq!(read.datasets.len(), 1);
    }
}

#[tokio::test]
async fn many_datasets_load_at_once_as_they_load_one_by_one() {
    let definitions = Definitions::builtin().unwrap();
    for (_dir, store) in stores().await {
        let p = unique();
        let area = synth_area(5, 5, 0.0);
        let mut codes = std::collections::BTreeSet::new();
        for i in 0..5 {
            let mut data = synth::dataset(&area, i).unwrap();
            data.school.code = format!("{p}-{i}");
            store.save_dataset(&data, "t").await.unwrap();
            codes.insert(data.school.code.clone());
        }
        // A school whose values and names test the aggregated row: floats that need all 17
        // digits, the extremes; quotes, backslashes and line breaks.
        let mut odd = synth::dataset(&area, 0).unwrap();
        odd.school.code = format!("{p}-odd");
        odd.majors[0].name = "汽车\"运用\\与维修\n（中职）".into();
        let major = odd.majors[0].name.clone();
        let values = [
            0.1 + 0.2,
            1.0 / 3.0,
            -2.0 / 7.0,
            123_456_789.123_456_79,
            5e-324,
            2.225_073_858_507_201e-308,
            f64::MAX,
            f64::MIN_POSITIVE,
            9_007_199_254_740_993.0,
            0.000_123_456_789_012_345_67,
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = Vec::new();
        while random.len() < 200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if v.is_finite() {
                random.push(v);
            }
        }
        for (i, v) in values.iter().chain(&random).enumerate() {
            odd.set(FactKey::school(year(2025), format!("test.value_{i}")), *v);
        }
        odd.set(FactKey::major(year(2025), "major.intake", &major), 0.7);
        odd.notes.insert(
            FactKey::major(year(2025), "major.intake", &major),
            "说明：含\"引号\"、反斜杠\\和\n换行".into(),
        );
        store.save_dataset(&odd, "t").await.unwrap();
        codes.insert(odd.school.code.clone());

        let all = store
            .load_datasets(Some(&codes), &definitions)
            .await
            .unwrap();
        assert_eq!(all.len(), 6);
        let in_order: Vec<&str> = all.iter().map(|d| d.school.code.as_str()).collect();
        let mut sorted = in_order.clone();
        sorted.sort();
        assert_eq!(in_order, sorted, "code order");
        for data in &all {
            let alone = store
                .load_dataset_with_registers(&data.school.code, &definitions)
                .await
                .unwrap();
            assert_eq!(*data, alone);
            let bits = |d: &Dataset| -> Vec<(FactKey, u64)> {
                d.facts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_bits()))
                    .collect()
            };
            assert_eq!(bits(data), bits(&alone), "every value to the bit");
        }
        let read = all
            .iter()
            .find(|d| d.school.code == odd.school.code)
            .unwrap();
        for (i, v) in values.iter().chain(&random).enumerate() {
            let found = read.value(year(2025), &format!("test.value_{i}")).unwrap();
            assert_eq!(found.to_bits(), v.to_bits(), "{v:e}");
        }
        assert_eq!(read.majors, odd.majors);
        assert_eq!(read.notes, odd.notes);

        // Every school of the store, read in chunks, includes these in the same order.
        let mut everyone = Vec::new();
        let count = store
            .each_dataset(None, &definitions, |d| everyone.push(d.school.code))
            .await
            .unwrap();
        assert_eq!(count, everyone.len());
        let mine: Vec<&str> = everyone
            .iter()
            .map(String::as_str)
            .filter(|c| codes.contains(*c))
            .collect();
        assert_eq!(mine, in_order);
        let mut sorted = everyone.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(everyone, sorted, "each school once, in code order");
    }
}

#[tokio::test]
async fn every_school_is_read_once_in_code_order_across_chunks() {
    let definitions = Definitions::builtin().unwrap();
    for (_dir, store) in stores().await {
        let p = unique();
        let datasets = synth_datasets(&p, 300, 9, 0.1);
        store.save_datasets(&datasets, "t").await.unwrap();
        let codes: std::collections::BTreeSet<String> =
            datasets.iter().map(|d| d.school.code.clone()).collect();

        // More schools than one chunk, asked for by code.
        let asked = store
            .load_datasets(Some(&codes), &definitions)
            .await
            .unwrap();
        let read: Vec<&str> = asked.iter().map(|d| d.school.code.as_str()).collect();
        let expected: Vec<&str> = codes.iter().map(String::as_str).collect();
        assert_eq!(read, expected);
        for data in &datasets {
            let found = asked
                .iter()
                .find(|d| d.school.code == data.school.code)
                .unwrap();
            assert_eq!(found.facts, data.facts);
            assert_eq!(found.majors, data.majors);
        }

        // Every school of the store, chunk after chunk.
        let mut everyone = Vec::new();
        store
            .each_dataset(None, &definitions, |d| everyone.push(d.school.code))
            .await
            .unwrap();
        let mine: Vec<&str> = everyone
            .iter()
            .map(String::as_str)
            .filter(|c| codes.contains(*c))
            .collect();
        assert_eq!(mine, expected);
        let mut sorted = everyone.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(everyone, sorted, "each school once, in code order");
    }
}

/// On SQLite only: a store of its own, since the broken school would break every other
/// test's read of a shared PostgreSQL database meanwhile.
#[tokio::test]
async fn a_school_whose_stored_profile_cannot_be_read_is_named_and_the_read_stops() {
    let definitions = Definitions::builtin().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("broken.db"))
        .await
        .unwrap();
    {
        let p = unique();
        let datasets = synth_datasets(&p, 40, 3, 0.0);
        store.save_datasets(&datasets, "t").await.unwrap();
        let broken = format!("{p}-017");
        let mut tx = store.database().write().await.unwrap();
        sqlx::query("UPDATE school SET profile = $1 WHERE code = $2")
            .bind("{不是 JSON")
            .bind(&broken)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let codes: std::collections::BTreeSet<String> =
            datasets.iter().map(|d| d.school.code.clone()).collect();

        for asked in [Some(&codes), None] {
            let mut handed = Vec::new();
            let error = store
                .each_dataset(asked, &definitions, |d| handed.push(d.school.code))
                .await
                .unwrap_err();
            assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
            assert!(error.to_string().contains(&broken), "{error}");
            assert!(
                handed
                    .iter()
                    .filter(|c| c.starts_with(&p))
                    .all(|c| *c < broken),
                "nothing after the broken school is handed over: {handed:?}"
            );
            assert!(handed.contains(&format!("{p}-016")), "{handed:?}");
        }
    }
}
