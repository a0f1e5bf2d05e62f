//! The registers in the store, on a SQLite file and on PostgreSQL when
//! `NIANBAO_TEST_DATABASE_URL` is set: imports are one transaction (a refused import leaves
//! records, change log and figures as they were), figures reach the dataset, a typed figure
//! that disagrees with its register is a finding, and the psychological archive is sealed,
//! logged and readable only by a counsellor.

use std::collections::BTreeMap;
use std::path::Path;

use nianbao_core::{Dataset, Definitions, FactKey, Major, OrgPath, Role, School, Year, run_checks};
use nianbao_store::{NewUser, PsychAccess, Store, StoreError, User};
use nianbao_systems::psych::{Key, PsychKind, Sealer};
use nianbao_systems::table::read_file;
use nianbao_systems::{Day, ImportErrors, Mode, Vocabulary};

mod common;
use common::OwnDatabase;

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

fn code(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}")
}

fn dataset(code: &str) -> Dataset {
    let school = School {
        code: code.into(),
        name: format!("测试学校{code}"),
        org_unit: OrgPath {
            province: "某省".into(),
            city: "某市".into(),
            district: "某区".into(),
        },
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    data.majors.push(Major {
        name: "汽车运用与维修".into(),
        category: "交通运输大类".into(),
        department: String::new(),
    });
    data.set(
        FactKey::school(year(2025), "students.enrolled_total"),
        1000.0,
    );
    data.set(
        FactKey::school(year(2025), "conditions.equipment_value"),
        8.0,
    );
    data.set(FactKey::school(year(2025), "training.social"), 100.0);
    data.set(
        FactKey::school(year(2025), "wellbeing.psych_screenings"),
        9.0,
    );
    data.set(FactKey::school(year(2024), "staff.total"), 50.0);
    data
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    label: &'static str,
    /// The SQLite file, to read raw; `None` on PostgreSQL.
    file: Option<std::path::PathBuf>,
    url: Option<String>,
    /// A PostgreSQL database made for this test alone, dropped with it.
    _database: Option<OwnDatabase>,
}

async fn stores() -> Vec<Setup> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registers.db");
    let sqlite = Store::open_sqlite(&file).await.unwrap();
    let mut stores = vec![Setup {
        _dir: dir,
        store: sqlite,
        label: "SQLite",
        file: Some(file),
        url: None,
        _database: None,
    }];
    if let Ok(shared) = std::env::var("NIANBAO_TEST_DATABASE_URL") {
        let database = OwnDatabase::create(&shared, "registers");
        let url = database.url.clone();
        stores.push(Setup {
            _dir: tempfile::tempdir().unwrap(),
            store: Store::open(&url).await.unwrap(),
            label: "PostgreSQL",
            file: None,
            url: Some(url),
            _database: Some(database),
        });
    }
    stores
}

fn definitions() -> Definitions {
    Definitions::builtin().unwrap()
}

fn vocabulary() -> Vocabulary {
    Vocabulary::builtin(&definitions()).unwrap()
}

fn table(
    name: &str,
    text: &str,
    columns: &nianbao_systems::table::Columns,
) -> nianbao_systems::table::Table {
    read_file(
        name,
        text.as_bytes(),
        "",
        columns,
        &nianbao_xlsx::Limits::default(),
    )
    .unwrap()
}

/// Everything a refused import must leave as it was.
async fn state(store: &Store, code: &str) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{}",
        store.bases_register(code).await.unwrap(),
        store.training_register(code).await.unwrap(),
        store.courses_register(code).await.unwrap(),
        store.register_figures(code).await.unwrap(),
        store.history(code, 100_000).await.unwrap().len()
    )
}

fn refused(result: Result<nianbao_systems::ImportSummary, StoreError>) -> ImportErrors {
    match result {
        Err(StoreError::Import(errors)) => *errors,
        other => panic!("expected a refused import, got {other:?}"),
    }
}

const BASES: &str = "基地编号,基地名称,级别,年开放学时,服务专业,面积（平方米）,工位数\n\
    B1,汽车实训中心,国家级,1000,汽车运用与维修,1200,60\n\
    B2,电商实训室,校级,600,,300,40\n";
const EQUIPMENT: &str = "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态,报废日期\n\
    A1,举升机,50000,B1,2023-05-01,在用,\n\
    A2,诊断仪,30000.5,B1,2025-03-01,在用,\n\
    A3,旧车床,20000,B2,2010-01-01,报废,2024-06-30\n";
const USAGE: &str = "记录编号,基地编号,资产编号,使用单位类型,使用单位,使用日期,学时,人数,用途\n\
    U1,B1,A1,校内班级,汽修2301,2025-04-01,4,40,教学实训\n\
    U2,B1,,外校师生,某中学,2025-05-01,6,30,开放参观\n";

async fn import_bases(
    store: &Store,
    code: &str,
    kind: nianbao_systems::bases::BasesKind,
    text: &str,
) -> Result<nianbao_systems::ImportSummary, StoreError> {
    let vocabulary = vocabulary();
    let table = table("台账.csv", text, kind.columns());
    let import = nianbao_systems::bases::read(kind, &table, &vocabulary.bases).unwrap();
    store
        .import_bases(code, import, Mode::Upsert, &vocabulary, "tester")
        .await
}

#[tokio::test]
async fn the_equipment_register_feeds_the_dataset_and_its_check() {
    use nianbao_systems::bases::BasesKind;
    let definitions = definitions();
    for setup in stores().await {
        let store = &setup.store;
        let code = code("bases");
        store.save_dataset(&dataset(&code), "tester").await.unwrap();
        for (kind, text) in [
            (BasesKind::Bases, BASES),
            (BasesKind::Equipment, EQUIPMENT),
            (BasesKind::Usage, USAGE),
        ] {
            let summary = import_bases(store, &code, kind, text).await.unwrap();
            assert_eq!(summary.unchanged, 0, "{}", setup.label);
        }
        let register = store.bases_register(&code).await.unwrap();
        assert_eq!(register.equipment.len(), 3, "{}", setup.label);
        assert_eq!(register.equipment[1].value, 30000.5);

        // The register's total (8.00005 万元) agrees with the typed 8 万元 within the slack.
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        let y = year(2025);
        assert_eq!(
            data.value(y, "register.equipment.value_total"),
            Some(8.00005)
        );
        // Read with many schools at once, the school carries the same figures.
        let codes = std::collections::BTreeSet::from([code.clone()]);
        assert_eq!(
            store
                .load_datasets(Some(&codes), &definitions)
                .await
                .unwrap(),
            vec![data.clone()],
            "{}",
            setup.label
        );
        assert_eq!(
            data.value(y, "register.equipment.per_student"),
            Some(80.0005)
        );
        assert_eq!(
            data.value(y, "register.usage.external_person_times"),
            Some(30.0)
        );
        assert_eq!(
            data.value(year(2024), "register.equipment.value_total"),
            Some(5.0),
            "{}: at the end of 2024 the analyser was not bought and the lathe gone",
            setup.label
        );
        assert!(
            !run_checks(&definitions, &data)
                .iter()
                .any(|f| f.rule == "register.equipment-value"),
            "{}",
            setup.label
        );
        // A typed figure that disagrees with the register is a finding naming both.
        let mut typed = store.load_dataset(&code).await.unwrap();
        assert!(
            typed.value(y, "register.equipment.value_total").is_none(),
            "not stored as typed"
        );
        typed.set(FactKey::school(y, "conditions.equipment_value"), 9.5);
        store.save_dataset(&typed, "tester").await.unwrap();
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        let finding = run_checks(&definitions, &data)
            .into_iter()
            .find(|f| f.rule == "register.equipment-value")
            .unwrap_or_else(|| panic!("{}: no finding", setup.label));
        assert!(finding.message.contains("9.5"), "{}", finding.message);
        assert!(finding.message.contains("8.00005"), "{}", finding.message);

        // A file with bad rows is refused at its rows and columns; nothing changes.
        let before = state(store, &code).await;
        let errors = refused(
            import_bases(
                store,
                &code,
                BasesKind::Equipment,
                "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA4,示波器,1000,B9,2025-01-01,在用\nA1,举升机,60000,B1,2023-05-01,在用\n",
            )
            .await,
        );
        assert_eq!(
            errors.list[0].to_string(),
            "台账.csv 第 2 行 第 4 列（所属基地编号）：没有编号为「B9」的实训基地",
            "{}",
            setup.label
        );
        assert_eq!(
            state(store, &code).await,
            before,
            "{}: store unchanged",
            setup.label
        );
    }
}

#[tokio::test]
async fn a_bad_cell_is_refused_before_the_store_is_asked() {
    use nianbao_systems::bases::BasesKind;
    let vocabulary = vocabulary();
    let table = table(
        "台账.csv",
        "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA5,万用表,一百,B1,2025-01-01,在用\n",
        BasesKind::Equipment.columns(),
    );
    let errors =
        nianbao_systems::bases::read(BasesKind::Equipment, &table, &vocabulary.bases).unwrap_err();
    assert_eq!(
        errors.list[0].to_string(),
        "台账.csv 第 2 行 第 3 列（价值（元））：应为数值，实际为「一百」"
    );
}

#[tokio::test]
async fn the_training_register_counts_by_audience_and_checks_the_typed_figure() {
    use nianbao_systems::training::{TrainingKind, read};
    let definitions = definitions();
    let vocabulary = vocabulary();
    let classes = "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\n\
        C1,植保无人机,高素质农民,2025-03-01,2025-03-05,32,50\n\
        C2,电工,退役军人,2025-04-01,2025-04-20,80,30\n";
    for setup in stores().await {
        let store = &setup.store;
        let code = code("training");
        store.save_dataset(&dataset(&code), "tester").await.unwrap();
        let import = read(
            TrainingKind::Classes,
            &table("培训.csv", classes, TrainingKind::Classes.columns()),
            &vocabulary.training,
        )
        .unwrap();
        store
            .import_training(&code, import, Mode::Upsert, &vocabulary, "tester")
            .await
            .unwrap();
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        let y = year(2025);
        assert_eq!(data.value(y, "register.training.trainees"), Some(80.0));
        assert_eq!(
            data.value(y, "register.training.audience.farmers"),
            Some(50.0)
        );
        let finding = run_checks(&definitions, &data)
            .into_iter()
            .find(|f| f.rule == "register.training-trainees")
            .unwrap_or_else(|| panic!("{}: typed 100 vs register 80", setup.label));
        assert!(finding.message.contains("80"), "{}", finding.message);

        let before = state(store, &code).await;
        let bad = read(
            TrainingKind::Classes,
            &table(
                "培训.csv",
                "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\nC3,x,外星人,2025-03-01,2025-03-05,32,50\n",
                TrainingKind::Classes.columns(),
            ),
            &vocabulary.training,
        )
        .unwrap_err();
        assert!(
            bad.list[0]
                .to_string()
                .starts_with("培训.csv 第 2 行 第 3 列（培训对象）")
        );
        let duplicate = read(
            TrainingKind::Classes,
            &table(
                "培训.csv",
                "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\nC3,x,退役军人,2025-03-01,2025-03-05,32,50\nC3,y,退役军人,2025-03-01,2025-03-05,32,50\n",
                TrainingKind::Classes.columns(),
            ),
            &vocabulary.training,
        )
        .unwrap();
        let errors = refused(
            store
                .import_training(&code, duplicate, Mode::Upsert, &vocabulary, "tester")
                .await,
        );
        assert_eq!(
            errors.list[0].to_string(),
            "培训.csv 第 3 行 第 1 列（班级编号）：「C3」在文件中重复出现"
        );
        assert_eq!(state(store, &code).await, before, "{}", setup.label);
    }
}

#[tokio::test]
async fn course_actions_close_only_with_evidence_and_refused_imports_change_nothing() {
    use nianbao_systems::courses::{CoursesKind, read};
    let definitions = definitions();
    let vocabulary = vocabulary();
    for setup in stores().await {
        let store = &setup.store;
        let code = code("courses");
        store.save_dataset(&dataset(&code), "tester").await.unwrap();
        for (kind, text) in [
            (
                CoursesKind::Courses,
                "课程编号,课程名称,课程级别,学时,建设年份,上线平台\nK1,汽车电气,省级,64,2023,国家职业教育智慧教育平台\n",
            ),
            (
                CoursesKind::Enrolments,
                "课程编号,学期,选课人数\nK1,2025-2026-1,620\n",
            ),
            (
                CoursesKind::Actions,
                "措施编号,课程编号,改进措施,责任人,截止日期,状态\nA1,K1,增加互动,王老师,2025-11-30,进行中\n",
            ),
        ] {
            let import = read(
                kind,
                &table("课程.csv", text, kind.columns()),
                &vocabulary.courses,
            )
            .unwrap();
            store
                .import_courses(&code, import, Mode::Upsert, &vocabulary, "tester")
                .await
                .unwrap();
        }
        let day = Day::new(2025, 11, 20).unwrap();
        let error = store
            .close_course_action(&code, "A1", " ", day, &vocabulary, "tester")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("佐证"), "{error}");
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        assert_eq!(
            data.value(year(2025), "register.courses.actions_closed"),
            Some(0.0)
        );
        store
            .close_course_action(&code, "A1", "教研记录 2025-11", day, &vocabulary, "tester")
            .await
            .unwrap();
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        assert_eq!(
            data.value(year(2025), "register.courses.actions_closed"),
            Some(1.0)
        );
        assert_eq!(
            data.value(year(2025), "register.courses.students_per_course"),
            Some(620.0)
        );

        let before = state(store, &code).await;
        let import = read(
            CoursesKind::Enrolments,
            &table(
                "课程.csv",
                "课程编号,学期,选课人数\nK1,2025-2026-2,500\nK9,2025-2026-1,10\n",
                CoursesKind::Enrolments.columns(),
            ),
            &vocabulary.courses,
        )
        .unwrap();
        let errors = refused(
            store
                .import_courses(&code, import, Mode::Upsert, &vocabulary, "tester")
                .await,
        );
        assert_eq!(
            errors.list[0].to_string(),
            "课程.csv 第 3 行 第 1 列（课程编号）：没有编号为「K9」的课程"
        );
        assert_eq!(state(store, &code).await, before, "{}", setup.label);
    }
}

async fn counsellor(store: &Store, code: &str, role: Role) -> User {
    store
        .add_user(&NewUser {
            name: &format!("{code}-{}", role.code()),
            role,
            school_code: Some(code),
            department: (role == Role::Department).then_some("信息技术部"),
            password: "a long enough password",
        })
        .await
        .unwrap()
}

/// Screenings whose scores and notes are easy to look for in raw bytes.
const SCREENINGS: &str = "记录编号,学号,姓名,班级,量表,筛查日期,得分,风险等级,备注\n\
    P1,S9000001,甄心怡,汽修2301,SCL-90,2025-03-10,187.25,高风险,自述长期失眠并有自伤念头\n\
    P2,S9000002,贾乐天,汽修2301,SCL-90,2025-03-10,101.5,无风险,\n\
    P3,S9000003,柏舒然,电商2302,SCL-90,2025-03-11,133.75,中风险,\n\
    P4,S9000004,林安,电商2302,SCL-90,2025-03-11,99,无风险,\n\
    P5,S9000005,林静,电商2302,SCL-90,2025-03-11,98,无风险,\n\
    P6,S9000006,林平,电商2302,SCL-90,2025-03-11,97,无风险,\n\
    P7,S9000007,林和,电商2302,SCL-90,2025-03-11,96,无风险,\n\
    P8,S9000008,林顺,电商2302,SCL-90,2025-03-11,95,低风险,\n";

/// Every file of the SQLite database (the main file, its journal and write-ahead log).
fn raw_sqlite(file: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let dir = file.parent().unwrap();
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with(&name) {
            bytes.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    bytes
}

fn pg_dump(url: &str) -> Option<Vec<u8>> {
    match std::process::Command::new("pg_dump")
        .arg("--data-only")
        .arg(url)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out.stdout)
        }
        Err(e) => {
            // PostgreSQL is under test only when NIANBAO_TEST_DATABASE_URL is set; then
            // pg_dump must be there too.
            panic!("pg_dump could not run ({e}): install postgresql-client");
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_psychological_archive_is_sealed_logged_and_for_counsellors_only() {
    let definitions = definitions();
    let vocabulary = vocabulary();
    for setup in stores().await {
        let store = &setup.store;
        let code = code("psych");
        store.save_dataset(&dataset(&code), "tester").await.unwrap();
        let me = counsellor(store, &code, Role::Counsellor).await;
        let quality = counsellor(store, &code, Role::Quality).await;
        let admin = counsellor(store, &code, Role::Admin).await;
        let (key, _) = Key::generate().unwrap();
        let sealer = Sealer::new(&key, &code);
        let rows = |text: &str| {
            nianbao_systems::psych::records::read(
                PsychKind::Screenings,
                &table("筛查.csv", text, PsychKind::Screenings.columns()),
                &vocabulary.psych,
            )
            .unwrap()
        };
        let access = PsychAccess {
            user: &me,
            reason: "统计核对：学期初筛查",
        };
        for user in [&quality, &admin] {
            let other = PsychAccess {
                user,
                reason: "统计核对",
            };
            let error = store
                .import_psych(
                    &code,
                    PsychKind::Screenings,
                    rows(SCREENINGS),
                    Mode::Upsert,
                    &sealer,
                    &other,
                    &vocabulary,
                )
                .await
                .unwrap_err();
            assert!(matches!(error, StoreError::NotCounsellor), "{error}");
            assert!(matches!(
                store
                    .psych_archives(&code, &sealer, &other, &vocabulary)
                    .await,
                Err(StoreError::NotCounsellor)
            ));
        }
        let no_reason = PsychAccess {
            user: &me,
            reason: "好奇",
        };
        assert!(matches!(
            store
                .psych_archives(&code, &sealer, &no_reason, &vocabulary)
                .await,
            Err(StoreError::ReasonRequired(_))
        ));
        let summary = store
            .import_psych(
                &code,
                PsychKind::Screenings,
                rows(SCREENINGS),
                Mode::Upsert,
                &sealer,
                &access,
                &vocabulary,
            )
            .await
            .unwrap();
        assert_eq!(summary.added, 8, "{}", setup.label);

        // Nothing about a student is in the database in the clear.
        let raw = match (&setup.file, &setup.url) {
            (Some(file), _) => raw_sqlite(file),
            (None, Some(url)) => pg_dump(url).unwrap(),
            _ => unreachable!(),
        };
        assert!(
            contains(&raw, &code),
            "{}: the raw bytes are really read",
            setup.label
        );
        for secret in [
            "187.25",
            "133.75",
            "自述长期失眠",
            "甄心怡",
            "S9000001",
            "高风险",
            "SCL-90",
        ] {
            assert!(
                !contains(&raw, secret),
                "{}: 「{secret}」 is stored in the clear",
                setup.label
            );
        }

        // A counsellor reads it back; every read is logged with who and why.
        let archives = store
            .psych_archives(&code, &sealer, &access, &vocabulary)
            .await
            .unwrap();
        assert_eq!(archives.len(), 8);
        let first = archives
            .iter()
            .find(|a| a.identity.student_no == "S9000001")
            .unwrap();
        assert_eq!(first.latest_risk.as_deref(), Some("高风险"));
        assert_eq!(first.retain_until, Day::new(2028, 3, 10).unwrap());
        let (archive, _) = store
            .psych_archive(&code, first.id, &sealer, &access, &vocabulary)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(archive.identity.name, "甄心怡");
        let sheet = store
            .export_psych(&code, PsychKind::Screenings, &sealer, &access, &vocabulary)
            .await
            .unwrap();
        assert_eq!(sheet.rows.len(), 8);
        let log = store.psych_access_log(&code, &me, 10).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["导出", "查看个人档案", "查看档案列表", "导入"],
            "{}",
            setup.label
        );
        assert!(
            log.iter()
                .all(|e| e.actor == me.name && e.reason.starts_with("统计核对"))
        );
        assert!(matches!(
            store.psych_access_log(&code, &quality, 10).await,
            Err(StoreError::NotCounsellor)
        ));

        // A different key is refused before anything is read or written.
        let (wrong, _) = Key::generate().unwrap();
        assert!(matches!(
            store
                .psych_archives(&code, &Sealer::new(&wrong, &code), &access, &vocabulary)
                .await,
            Err(StoreError::WrongKey)
        ));

        // Only counts leave the archive, and small ones are withheld.
        let data = store
            .load_dataset_with_registers(&code, &definitions)
            .await
            .unwrap();
        let y = year(2025);
        assert_eq!(data.value(y, "register.psych.screenings"), Some(8.0));
        assert_eq!(data.value(y, "register.psych.screened_students"), Some(8.0));
        // 1 high, 1 medium, 1 low: withheld; together 3, which 8 − 5 would give away, so
        // the 5 without risk are withheld too.
        for withheld in [
            "register.psych.risk.high",
            "register.psych.risk.medium",
            "register.psych.risk.low",
            "register.psych.risk.none",
        ] {
            assert_eq!(data.value(y, withheld), None, "{withheld}");
        }
        let finding = run_checks(&definitions, &data)
            .into_iter()
            .find(|f| f.rule == "register.psych-screenings")
            .unwrap_or_else(|| panic!("{}: typed 9 vs archive 8", setup.label));
        assert!(finding.message.contains('8'), "{}", finding.message);

        // A refused import changes nothing, the access log included.
        let raw_figures = store.register_figures(&code).await.unwrap();
        let log_before = store.psych_access_log(&code, &me, 100).await.unwrap().len();
        let error = store
            .import_psych(
                &code,
                PsychKind::Screenings,
                rows("记录编号,学号,姓名,量表,筛查日期,得分,风险等级\nP9,S9000001,别人,SCL-90,2025-09-01,100,无风险\n"),
                Mode::Upsert,
                &sealer,
                &access,
                &vocabulary,
            )
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("第 2 行 第 3 列（姓名）：学号「S9000001」已登记为「甄心怡」"),
            "{error}"
        );
        assert_eq!(store.register_figures(&code).await.unwrap(), raw_figures);
        assert_eq!(
            store.psych_access_log(&code, &me, 100).await.unwrap().len(),
            log_before
        );

        // At the end of the retention period the archives go; the year's counts stay.
        assert_eq!(
            store
                .psych_due_for_deletion(&code, Day::new(2028, 3, 12).unwrap())
                .await
                .unwrap(),
            8
        );
        assert!(matches!(
            store
                .purge_psych(&code, Day::new(2028, 3, 12).unwrap(), &quality)
                .await,
            Err(StoreError::NotCounsellor)
        ));
        let gone = store
            .purge_psych(&code, Day::new(2028, 3, 12).unwrap(), &me)
            .await
            .unwrap();
        assert_eq!(gone, 8);
        assert!(
            store
                .psych_archives(&code, &sealer, &access, &vocabulary)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.register_figures(&code).await.unwrap(), raw_figures);
        let last = &store.psych_access_log(&code, &me, 2).await.unwrap()[1];
        assert_eq!(last.action, "到期删除");
    }
}

#[test]
fn every_computed_element_is_produced_by_its_register() {
    // Each register's figures name elements that exist and are marked as its own.
    let definitions = definitions();
    let mut produced: BTreeMap<String, &str> = BTreeMap::new();
    let vocabulary = vocabulary();
    let y = 2025;
    let day = |m, d| Day::new(y, m, d).unwrap();
    let bases = nianbao_systems::bases::BasesRegister {
        bases: vec![nianbao_systems::bases::Base {
            code: "B".into(),
            name: "b".into(),
            level: "国家级".into(),
            majors: vec![],
            area: Some(1.0),
            stations: Some(1),
            available_hours: 10.0,
            built: None,
            note: None,
        }],
        equipment: vec![],
        usage: vec![nianbao_systems::bases::Usage {
            record_no: "U".into(),
            base: "B".into(),
            asset_no: None,
            user_kind: "外校师生".into(),
            user: "x".into(),
            day: day(3, 1),
            hours: 1.0,
            people: 1,
            purpose: "技能竞赛集训".into(),
        }],
    };
    for (code, _) in bases.figures(y, &vocabulary.bases) {
        produced.insert(code.to_string(), "bases");
    }
    produced.insert("register.equipment.per_student".into(), "bases");
    let training = nianbao_systems::training::TrainingRegister {
        classes: vocabulary
            .training
            .audience
            .iter()
            .enumerate()
            .map(|(i, a)| nianbao_systems::training::TrainingClass {
                code: format!("C{i}"),
                title: "t".into(),
                audience: a.name.clone(),
                start: day(3, 1),
                end: day(3, 2),
                hours: 1.0,
                trainees: 1,
                place: None,
                funder: None,
            })
            .collect(),
        certifications: vec![nianbao_systems::training::Certification {
            batch: "B".into(),
            occupation: "电工".into(),
            level: "四级/中级工".into(),
            day: day(3, 1),
            assessed: 1,
            certified: 1,
        }],
    };
    for fact in training.facts(&vocabulary.training) {
        produced.insert(fact.element, "training");
    }
    let mut archive = nianbao_systems::psych::PsychRecords::default();
    archive.screenings.push(nianbao_systems::psych::Screening {
        record_no: "P".into(),
        student_no: "S".into(),
        instrument: "SCL-90".into(),
        day: day(3, 1),
        score: 1.0,
        risk: "无风险".into(),
        note: None,
    });
    for fact in nianbao_systems::psych::tallies(&archive, &vocabulary.psych) {
        produced.insert(fact.element, "psych");
    }
    use nianbao_systems::courses::*;
    let term = Term::parse("2025-2026-1").unwrap();
    let courses = CoursesRegister {
        courses: vec![Course {
            code: "K".into(),
            name: "k".into(),
            level: "省级".into(),
            platform: Some("x".into()),
            hours: 1.0,
            built: y,
            updated: None,
            owner: None,
            major: None,
        }],
        enrolments: vec![Enrolment {
            course: "K".into(),
            term,
            students: 1,
        }],
        measurements: vec![Measurement {
            course: "K".into(),
            term,
            indicator: "学生到课率".into(),
            value: 1.0,
        }],
        evaluations: vocabulary
            .courses
            .rater
            .iter()
            .map(|r| Evaluation {
                course: "K".into(),
                term,
                rater: r.name.clone(),
                score: 1.0,
                raters: None,
            })
            .collect(),
        feedback: vec![Feedback {
            code: "F".into(),
            course: "K".into(),
            day: day(3, 1),
            source: "学生反馈".into(),
            text: "x".into(),
        }],
        actions: vec![Action {
            code: "A".into(),
            course: "K".into(),
            feedback: None,
            text: "x".into(),
            owner: "o".into(),
            due: day(3, 1),
            status: "进行中".into(),
            done: None,
            evidence: None,
        }],
    };
    for (code, _) in courses.figures(y, &vocabulary.courses) {
        produced.insert(code, "courses");
    }
    // The points ledger: a year with events, the built-in award rules.
    use nianbao_points::awards::{AnnualFigures, AwardFigure, DimensionAverage, RulesFile};
    let ledger = AnnualFigures {
        school: "s".into(),
        school_year: 2025,
        tree_version: 1,
        competencies: 15,
        points: 46,
        observations: 235,
        students_on_roll: 2,
        students_evaluated: 1,
        events: 1,
        positive_events: 1,
        negative_events: 0,
        reversals: 0,
        average_total: 1.0,
        dimension_averages: nianbao_points::Dimension::ALL
            .iter()
            .map(|d| DimensionAverage {
                dimension: d.name().to_string(),
                average: 1.0,
            })
            .collect(),
        awards: RulesFile::sample()
            .rules
            .iter()
            .map(|r| AwardFigure {
                code: r.code.clone(),
                name: r.name.clone(),
                kind: r.kind.clone(),
                students: 1,
                share_percent: 100.0,
            })
            .collect(),
    };
    for (code, _) in nianbao_points::awards::report_facts(&ledger) {
        produced.insert(code, "points");
    }
    let computed: BTreeMap<String, String> = definitions
        .elements
        .iter()
        .filter_map(|e| e.register.clone().map(|r| (e.code.clone(), r)))
        .collect();
    for (code, register) in &produced {
        assert_eq!(
            computed.get(code).map(String::as_str),
            Some(*register),
            "{code}"
        );
    }
    for code in computed.keys() {
        assert!(
            produced.contains_key(code),
            "{code} is computed by no register"
        );
    }
}
