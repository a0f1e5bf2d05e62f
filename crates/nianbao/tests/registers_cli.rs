//! The four registers from the command line, end to end: imports (CSV and Excel) refused at
//! their rows and columns with nothing changed, exports that import back, the figures of
//! the report sections read back from the Word document equal to the registers'
//! aggregates, a check finding where a typed figure disagrees, and the psychological
//! archive: counsellor only, every read logged, no count below the minimum cell size in
//! the report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nianbao_core::number::grouped;
use nianbao_core::{Definitions, Year};

struct Workspace {
    dir: tempfile::TempDir,
}

const PASSWORD: &str = "counsellor password 1";

impl Workspace {
    /// A store holding the sample school's data, without its report texts (so the
    /// sections print the generic templates that bind the registers).
    fn new() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
        let folder = ws.path("sample");
        copy_dir(&sample, &folder);
        std::fs::remove_dir_all(folder.join("content")).unwrap();
        ws.succeed(&["import", folder.to_str().unwrap()]);
        ws
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn run_with(&self, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .env_remove("NIANBAO_PSYCH_KEY")
            .env_remove("NIANBAO_PSYCH_KEY_FILE")
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, "", &[])
    }

    fn succeed(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nianbao {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail, and returns what it said on stderr.
    fn fail(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "nianbao {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// The report as Word, read back as text.
    fn docx_text(&self) -> String {
        let out = self.path("out");
        self.succeed(&["report", "--format", "docx", "--out", out.to_str().unwrap()]);
        nianbao_audit::extract_text(&out.join("report.docx")).unwrap()
    }

    /// The dataset with the registers' figures, as the report reads it.
    fn figures(&self) -> nianbao_core::Dataset {
        let definitions = Definitions::builtin().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = nianbao_store::Store::open_sqlite(&self.path("store.db"))
                .await
                .unwrap();
            let code = store.schools().await.unwrap()[0].code.clone();
            store
                .load_dataset_with_registers(&code, &definitions)
                .await
                .unwrap()
        })
    }

    fn findings(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["check", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"].as_array().unwrap().clone()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The text of one numbered section of the report: from its heading to the next one.
fn section(text: &str, heading: &str, next: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.trim() == heading)
        .unwrap_or_else(|| panic!("no heading {heading} in the report"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim() == next)
        .map_or(lines.len(), |p| start + 1 + p);
    lines[start + 1..end].join("\n")
}

fn y2025() -> Year {
    Year::new(2025).unwrap()
}

const BASES: &str = "基地编号,基地名称,级别,年开放学时,服务专业,面积（平方米）,工位数\n\
    B1,汽车实训中心,国家级,1600,汽车运用与维修,3200,120\n\
    B2,电子商务实训室,校级,1200,电子商务,400,60\n";
const EQUIPMENT: &str = "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态,报废日期\n\
    A1,四柱举升机,1250000,B1,2023-05-01,在用,\n\
    A2,汽车诊断仪,830000.5,B1,2025-03-01,在用,\n\
    A3,电商直播设备,420000,B2,2024-09-01,维修,\n\
    A4,旧车床,200000,B1,2010-01-01,报废,2024-06-30\n";
const USAGE: &str = "记录编号,基地编号,资产编号,使用单位类型,使用单位,使用日期,学时,人数,用途\n\
    U1,B1,A1,校内班级,汽修2301,2025-04-01,4,40,教学实训\n\
    U2,B1,,外校师生,某中学,2025-05-01,6,30,开放参观\n\
    U3,B2,,企业职工,某电商公司,2025-06-01,8,20,技能竞赛集训\n";

#[test]
fn the_equipment_register_reaches_sections_1_2_and_2_6_of_the_report() {
    let ws = Workspace::new();
    ws.succeed(&["bases", "import", "bases", &ws.file("bases.csv", BASES)]);
    let equipment = ws.file("equipment.csv", EQUIPMENT);
    let out = ws.succeed(&["bases", "import", "equipment", &equipment]);
    assert!(out.contains("新增 4 条"), "{out}");
    ws.succeed(&["bases", "import", "usage", &ws.file("usage.csv", USAGE)]);

    // The export is a workbook that imports back without a change.
    let exported = ws.path("equipment.xlsx");
    ws.succeed(&["bases", "export", "equipment", exported.to_str().unwrap()]);
    let again = ws.succeed(&["bases", "import", "equipment", exported.to_str().unwrap()]);
    assert!(again.contains("4 条未变"), "{again}");

    // Bad rows are refused at their rows and columns, and nothing changes.
    let export_csv = |name: &str| {
        let path = ws.path(name);
        ws.succeed(&["bases", "export", "equipment", path.to_str().unwrap()]);
        std::fs::read_to_string(path).unwrap()
    };
    let history = || ws.succeed(&["history", "--limit", "1000"]);
    let (before, history_before) = (export_csv("before.csv"), history());
    assert_eq!(before.lines().count(), 5, "{before}");
    let bad = ws.file(
        "bad.csv",
        "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA5,示波器,1000,B1,2025-01-01,在用\nA6,万用表,一百,B1,2025-02-30,坏了\n",
    );
    let error = ws.fail(&["bases", "import", "equipment", &bad]);
    for expected in [
        "bad.csv 第 3 行 第 3 列（价值（元））：应为数值，实际为「一百」",
        "bad.csv 第 3 行 第 5 列（购置日期）",
        "bad.csv 第 3 行 第 6 列（状态）",
        "数据库未作任何修改",
    ] {
        assert!(error.contains(expected), "{expected}: {error}");
    }
    let dangling = ws.file(
        "dangling.csv",
        "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA5,示波器,1000,B1,2025-01-01,在用\nA6,万用表,100,B9,2025-02-01,在用\n",
    );
    let error = ws.fail(&["bases", "import", "equipment", &dangling]);
    assert!(
        error.contains("dangling.csv 第 3 行 第 4 列（所属基地编号）：没有编号为「B9」的实训基地"),
        "{error}"
    );
    assert_eq!(export_csv("after.csv"), before, "the register is unchanged");
    assert_eq!(history(), history_before, "the change log is unchanged");

    // The figures the report prints are the register's.
    let data = ws.figures();
    let y = y2025();
    let total = data.value(y, "register.equipment.value_total").unwrap();
    // In service at the end of 2025: A1, A2 and A3 (in repair); the lathe left in 2024.
    assert_eq!(total, (1_250_000.0 + 830_000.5 + 420_000.0) / 10_000.0);
    let per_student = data.value(y, "register.equipment.per_student").unwrap();
    assert_eq!(per_student, total * 10_000.0 / 9313.0);
    let text = ws.docx_text();
    let conditions = section(&text, "1.2 办学条件", "1.3 专业设置");
    let expected = format!(
        "据设备台账，教学仪器设备总值 {} 万元，生均 {} 元。",
        grouped(total, 2),
        grouped(per_student, 2)
    );
    assert!(conditions.contains(&expected), "{expected}\n{conditions}");
    let bases = section(&text, "2.6 实训基地建设", "2.7 技能成长");
    for expected in [
        "学校有校内实训基地 2 个，其中国家级 1 个，实训场所面积 3,600.00 平方米，实训工位 180 个"
            .to_string(),
        format!("在用教学仪器设备 3 台套，总值 {} 万元", grouped(total, 2)),
        "本年度新增设备 1 台套，价值 83.00 万元".into(),
        format!(
            "全年登记实训使用 18.0 学时、90 人次，实训基地平均利用率 {}%",
            grouped(18.0 / 2800.0 * 100.0, 1)
        ),
        "其中接待校外人员 50 人次，开展技能竞赛集训 1 次".into(),
    ] {
        assert!(bases.contains(&expected), "{expected}\n{bases}");
    }

    // The typed 7571.70 万元 disagrees with the register: a finding says so.
    let finding = ws
        .findings()
        .into_iter()
        .find(|f| f["rule"] == "register.equipment-value")
        .expect("a finding on the equipment value");
    assert_eq!(finding["severity"], "warning");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("7571.7"), "{message}");
}

#[test]
fn the_training_register_reaches_sections_3_1_and_3_2_of_the_report() {
    let ws = Workspace::new();
    let classes = ws.file(
        "classes.csv",
        "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数,培训地点,委托或资助单位\n\
         C1,植保无人机操作,高素质农民,2025-03-01,2025-03-05,32,50,舟白街道,区农业农村委\n\
         C2,电工上岗,退役军人,2025-04-01,2025-04-20,80,30,学校,区退役军人事务局\n\
         C3,电商直播,返乡青年,2025-06-01,2025-06-10,40,25,学校,\n",
    );
    ws.succeed(&["training", "import", "classes", &classes]);
    let batches = ws.file(
        "batches.csv",
        "批次编号,职业（工种）,等级,认定日期,参加认定人数,取得证书人数\nR1,电工,四级/中级工,2025-06-20,120,101\nR2,汽车维修工,三级/高级工,2025-11-02,60,48\n",
    );
    ws.succeed(&["training", "import", "certifications", &batches]);
    let bad = ws.file(
        "bad.csv",
        "批次编号,职业（工种）,等级,认定日期,参加认定人数,取得证书人数\nR3,电工,八级,2025-06-20,10,12\n",
    );
    let error = ws.fail(&["training", "import", "certifications", &bad]);
    assert!(error.contains("bad.csv 第 2 行 第 3 列（等级）"), "{error}");
    assert!(
        error.contains("bad.csv 第 2 行 第 6 列（取得证书人数）：12 人多于参加认定的 10 人"),
        "{error}"
    );
    let listed = ws.succeed(&["training", "list"]);
    assert!(
        listed.contains("电工\t三级/高级工") || listed.contains("电工\t四级/中级工\t120\t101"),
        "{listed}"
    );

    let data = ws.figures();
    let y = y2025();
    assert_eq!(data.value(y, "register.training.trainees"), Some(105.0));
    assert_eq!(data.value(y, "register.training.assessed"), Some(180.0));
    let text = ws.docx_text();
    let service = section(&text, "3.1 服务行业企业", "3.2 服务地方发展");
    let expected = format!(
        "据培训登记，2025 年度学校举办社会培训班 {} 期、培训 {} 人次，合计 {} 人学时；组织职业技能等级认定 {} 人次，其中 {} 人取得证书。",
        grouped(data.value(y, "register.training.classes").unwrap(), 0),
        grouped(data.value(y, "register.training.trainees").unwrap(), 0),
        grouped(data.value(y, "register.training.trainee_hours").unwrap(), 0),
        grouped(data.value(y, "register.training.assessed").unwrap(), 0),
        grouped(data.value(y, "register.training.certified").unwrap(), 0),
    );
    assert!(service.contains(&expected), "{expected}\n{service}");
    assert!(
        service.contains("3 期、培训 105 人次，合计 5,000 人学时"),
        "{service}"
    );
    let local = section(&text, "3.2 服务地方发展", "3.3 服务国家战略");
    assert!(
        local.contains("按培训对象统计，高素质农民 50 人次，返乡青年 25 人次，退役军人 30 人次；其中乡村振兴类培训 2 期、75 人。"),
        "{local}"
    );
    let rules: Vec<String> = ws
        .findings()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    for rule in [
        "register.training-trainees",
        "register.training-assessed",
        "register.training-rural-classes",
        "register.training-rural-trainees",
    ] {
        assert!(rules.iter().any(|r| r == rule), "{rule}: {rules:?}");
    }
}

#[test]
fn the_course_loop_reaches_section_2_3_and_closes_actions_only_with_evidence() {
    let ws = Workspace::new();
    for (list, text) in [
        (
            "courses",
            "课程编号,课程名称,课程级别,学时,建设年份,上线平台,最近更新年份,课程负责人\n\
             K1,汽车电气设备检修,省级,64,2023,国家职业教育智慧教育平台,2025,王老师\n\
             K2,网店运营推广,市级,48,2025,重庆市职业教育在线精品课程平台,,李老师\n\
             K3,语文,校级,144,2020,,,\n",
        ),
        (
            "enrolments",
            "课程编号,学期,选课人数\nK1,2024-2025-1,560\nK1,2025-2026-1,620\nK2,2025-2026-1,300\n",
        ),
        (
            "measurements",
            "课程编号,学期,监测指标,数值\nK1,2025-2026-1,学生到课率,86\nK1,2025-2026-1,作业提交率,92\n",
        ),
        (
            "evaluations",
            "课程编号,学期,评价主体,平均分,评价人数\nK1,2025-2026-1,学生,92.5,300\nK2,2025-2026-1,学生,88,100\nK1,2025-2026-1,督导,90,3\n",
        ),
        (
            "feedback",
            "反馈编号,课程编号,反馈日期,来源,问题描述\nF1,K1,2025-10-10,监测预警,到课率低于目标\n",
        ),
        (
            "actions",
            "措施编号,课程编号,反馈编号,改进措施,责任人,截止日期,状态,完成日期,佐证\n\
             A1,K1,F1,增加课堂互动,王老师,2025-11-30,已完成,2025-11-20,教研活动记录2025-11\n\
             A2,K1,F1,调整上课时间,教务处,2025-12-31,进行中,,\n",
        ),
    ] {
        let path = ws.file(&format!("{list}.csv"), text);
        ws.succeed(&["courses", "import", list, &path]);
    }
    let bad = ws.file(
        "bad.csv",
        "措施编号,课程编号,改进措施,责任人,截止日期,状态,完成日期\nA3,K1,更新课件,王老师,2025-12-01,已完成,2025-11-25\n",
    );
    let error = ws.fail(&["courses", "import", "actions", &bad]);
    assert!(
        error.contains("bad.csv 第 2 行 「佐证」：状态为「已完成」的措施须写明佐证"),
        "{error}"
    );
    let error = ws.fail(&["courses", "close", "A2", "--evidence", "  "]);
    assert!(error.contains("须写明佐证"), "{error}");
    ws.succeed(&[
        "courses",
        "close",
        "A2",
        "--evidence",
        "2026年春季课表",
        "--date",
        "2025-12-20",
    ]);
    let timeline = ws.succeed(&["courses", "list", "K1"]);
    for stage in ["建设", "监测", "评价", "反馈", "改进"] {
        assert!(timeline.contains(stage), "{stage}: {timeline}");
    }
    assert!(timeline.contains("【未达标】"), "{timeline}");

    let data = ws.figures();
    let y = y2025();
    let text = ws.docx_text();
    let courses = section(&text, "2.3 课程建设", "2.4 教材建设");
    let v = |code: &str| grouped(data.value(y, code).unwrap(), 0);
    for expected in [
        format!(
            "课程档案登记课程 {} 门，其中在线课程 {} 门、在国家平台上线 {} 门",
            v("register.courses.total"),
            v("register.courses.online"),
            v("register.courses.national_platform")
        ),
        "课程档案登记课程 3 门，其中在线课程 2 门、在国家平台上线 1 门；省级、市级课程 2 门".into(),
        "本年度新建课程 1 门、更新 1 门，课程总学时 256 学时（上年 208 学时）".into(),
        "选课 920 人次，门均 460 人（上年 560 人）".into(),
        "学生评教平均 91.4 分，督导评价平均 90.0 分；按学期监测，未达目标的监测项 1 项".into(),
        "本年度收集课程问题反馈 1 项，应完成改进措施 2 项，已完成并留有佐证的 2 项".into(),
    ] {
        assert!(courses.contains(&expected), "{expected}\n{courses}");
    }
}

const SCREENINGS: &str = "记录编号,学号,姓名,班级,量表,筛查日期,得分,风险等级,备注\n\
    P01,S01,学生甲,汽修2301,SCL-90,2025-03-10,101,无风险,\n\
    P02,S02,学生乙,汽修2301,SCL-90,2025-03-10,102,无风险,\n\
    P03,S03,学生丙,汽修2301,SCL-90,2025-03-10,103,无风险,\n\
    P04,S04,学生丁,汽修2301,SCL-90,2025-03-10,104,无风险,\n\
    P05,S05,学生戊,电商2302,SCL-90,2025-03-11,105,无风险,\n\
    P06,S06,学生己,电商2302,SCL-90,2025-03-11,106,无风险,\n\
    P07,S07,学生庚,电商2302,SCL-90,2025-03-11,107,无风险,\n\
    P08,S08,学生辛,电商2302,SCL-90,2025-03-11,131,低风险,\n\
    P09,S09,学生壬,电商2302,SCL-90,2025-03-11,132,低风险,\n\
    P10,S10,学生癸,电商2302,SCL-90,2025-03-11,151,中风险,\n\
    P11,S11,学生子,电商2302,SCL-90,2025-03-11,152,中风险,\n\
    P12,S12,学生丑,电商2302,SCL-90,2025-03-11,197.5,高风险,自述长期失眠\n";
const SESSIONS: &str = "记录编号,形式,日期,学号,姓名,时长（分钟）,参加人数,辅导教师,主题,记录\n\
    T1,个体辅导,2025-03-20,S12,学生丑,50,,张老师,睡眠与情绪,约定每周面谈\n\
    T2,个体辅导,2025-03-27,S12,学生丑,50,,张老师,睡眠与情绪,\n\
    T3,个体辅导,2025-04-03,S10,学生癸,40,,张老师,人际关系,\n\
    L1,心理讲座,2025-04-10,,,90,600,张老师,青春期情绪管理,\n\
    L2,心理讲座,2025-05-10,,,90,580,张老师,考试焦虑,\n\
    L3,心理讲座,2025-09-10,,,90,620,张老师,新生适应,\n\
    L4,心理讲座,2025-10-10,,,90,610,张老师,网络成瘾,\n\
    L5,心理讲座,2025-11-10,,,90,590,张老师,生命教育,\n\
    L6,心理讲座,2025-12-10,,,90,600,张老师,压力管理,\n";

#[test]
fn the_psychological_archive_is_for_the_counsellor_and_the_report_has_no_small_count() {
    let ws = Workspace::new();
    let key = ws.path("psych.key");
    ws.succeed(&["psych", "keygen", key.to_str().unwrap()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is its owner's only");
    }
    let error = ws.fail(&["psych", "keygen", key.to_str().unwrap()]);
    assert!(error.contains("不会被覆盖"), "{error}");
    for (name, role) in [("张老师", "counsellor"), ("质量办", "quality")] {
        let out = ws.run_with(
            &["user", "add", "--name", name, "--role", role],
            &format!("{PASSWORD}\n"),
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let key_env = [("NIANBAO_PSYCH_KEY_FILE", key.to_str().unwrap())];
    let screenings = ws.file("screenings.csv", SCREENINGS);
    let import = |user: &str, reason: &str, list: &str, file: &str| {
        ws.run_with(
            &[
                "psych", "import", list, file, "--as", user, "--reason", reason,
            ],
            &format!("{PASSWORD}\n"),
            &key_env,
        )
    };
    let refused = import("质量办", "统计核对", "screenings", &screenings);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("只有心理辅导员"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let no_key = ws.run_with(
        &[
            "psych",
            "import",
            "screenings",
            &screenings,
            "--as",
            "张老师",
            "--reason",
            "统计核对",
        ],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("没有心理档案密钥"));
    let bad_reason = import("张老师", "随便看看", "screenings", &screenings);
    assert!(String::from_utf8_lossy(&bad_reason.stderr).contains("须说明事由"));
    let out = import("张老师", "统计核对：春季筛查", "screenings", &screenings);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = import(
        "张老师",
        "统计核对",
        "sessions",
        &ws.file("sessions.csv", SESSIONS),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = ws.file(
        "bad.csv",
        "记录编号,学号,姓名,量表,筛查日期,得分,风险等级\nP13,S13,学生寅,SCL-90,2025-03-12,abc,危险\n",
    );
    let out = import("张老师", "统计核对", "screenings", &bad);
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("bad.csv 第 2 行 第 6 列（得分）：应为数值"),
        "{error}"
    );
    assert!(
        error.contains("bad.csv 第 2 行 第 7 列（风险等级）"),
        "{error}"
    );

    // The archive opens for the counsellor with a reason; every read is logged.
    let list = ws.run_with(
        &[
            "psych",
            "list",
            "--as",
            "张老师",
            "--reason",
            "危机干预：随访高风险学生",
        ],
        &format!("{PASSWORD}\n"),
        &key_env,
    );
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("学生丑") && listed.contains("高风险"),
        "{listed}"
    );
    let log = ws.run_with(
        &["psych", "log", "--as", "张老师"],
        &format!("{PASSWORD}\n"),
        &[],
    );
    let log = String::from_utf8_lossy(&log.stdout);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "two imports and one read: {log}");
    assert!(
        lines[0].contains("查看档案列表") && lines[0].contains("事由：危机干预：随访高风险学生")
    );
    assert!(lines.iter().all(|l| l.contains("张老师")), "{log}");

    // The report: counts only, none below the minimum cell size.
    let data = ws.figures();
    let y = y2025();
    assert_eq!(data.value(y, "register.psych.screenings"), Some(12.0));
    assert_eq!(data.value(y, "register.psych.risk.none"), Some(7.0));
    for withheld in [
        "register.psych.risk.low",
        "register.psych.risk.medium",
        "register.psych.risk.high",
        "register.psych.individual_sessions",
        "register.psych.counselled_students",
    ] {
        assert_eq!(data.value(y, withheld), None, "{withheld}");
    }
    let text = ws.docx_text();
    let wellbeing = section(&text, "2.1 立德树人", "2.2 专业建设");
    assert!(
        wellbeing.contains(
            "组织心理筛查 12 人次、覆盖学生 12 人，举办心理健康讲座 6 场、参加 3,600 人次"
        ),
        "{wellbeing}"
    );
    assert!(wellbeing.contains("无风险学生 7 人"), "{wellbeing}");
    assert!(wellbeing.contains("为保护学生隐私"), "{wellbeing}");
    let numbers: Vec<f64> = wellbeing
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .filter_map(|n| n.replace(',', "").trim_end_matches('.').parse().ok())
        .collect();
    assert!(!numbers.is_empty());
    for n in &numbers {
        assert!(
            *n >= 5.0,
            "a count below 5 in section 2.1: {n}\n{wellbeing}"
        );
    }
    for secret in ["学生丑", "S12", "197.5", "自述长期失眠"] {
        assert!(!text.contains(secret), "{secret} in the report");
    }
    let summary = ws.succeed(&["psych", "summary"]);
    assert!(
        summary.contains("心理筛查人次（心理档案）\t12 人次"),
        "{summary}"
    );
    assert!(
        summary.contains("心理筛查高风险学生数（心理档案）\t不公开或无记录"),
        "{summary}"
    );

    // The typed 9841 disagrees with the archive's 12.
    assert!(
        ws.findings()
            .iter()
            .any(|f| f["rule"] == "register.psych-screenings")
    );
    // The key of another archive is refused.
    let other = ws.path("other.key");
    ws.succeed(&["psych", "keygen", other.to_str().unwrap()]);
    let wrong = ws.run_with(
        &["psych", "list", "--as", "张老师", "--reason", "档案整理"],
        &format!("{PASSWORD}\n"),
        &[("NIANBAO_PSYCH_KEY_FILE", other.to_str().unwrap())],
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("密钥与本校建档时使用的密钥不一致"));
}
