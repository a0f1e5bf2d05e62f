//! End-to-end test of `nianbao points` on a real SQLite file: a school is set up (tree,
//! roster, terms), events are imported from CSV, a bad file is refused whole with its row,
//! and profile (with SVG), awards, figures and history read the ledger back; reads of a
//! student's records and printed rankings and award lists are logged with who.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(dir.join("nianbao.db"))
        .arg("points")
        .args(args)
        .env_remove("NIANBAO_DATABASE_URL")
        .output()
        .expect("run nianbao")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn points_commands_end_to_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(dir, &["--school", "QJ", "init", "--name", "示例职教中心"]);
    let loaded = ok(dir, &["tree", "load"]);
    assert!(
        loaded.contains("15 项核心素养、46 个基本要点、235 个观测点"),
        "{loaded}"
    );
    std::fs::write(
        dir.join("roster.csv"),
        "学号,姓名,班级,专业,专业部,入学年份\n2025001,张明,2025级汽修1班,汽车运用与维修,汽车工程部,2025\n2025002,李华,2025级汽修1班,汽车运用与维修,汽车工程部,2025\n",
    )
    .expect("write roster");
    ok(
        dir,
        &["roster", dir.join("roster.csv").to_str().expect("path")],
    );
    ok(
        dir,
        &[
            "period",
            "add",
            "2025-2026-1",
            "--year",
            "2025",
            "--from",
            "2025-09-01",
            "--to",
            "2026-01-20",
        ],
    );
    let header = "事件编号,学号,观测点,分值,记录人,记录角色,时间,事由,佐证,冲销事件\n";
    std::fs::write(
        dir.join("events.csv"),
        format!("{header}E1,2025001,C08.2.4,15,T02,德育处,2025-10-12 10:00,市级技能竞赛获奖,证书.pdf,\nE2,2025001,C05.2.1,,T03,团委,2025-10-13 09:00,河道清理,,\nE6,2025001,C09.2.1,,T05,实训指导教师,2025-12-20 16:00,跟岗实习考核优秀,考核表.pdf,\nE3,2025002,C03.2.1,,T01,班主任,2025-09-09 08:10,迟到,,\n"),
    )
    .expect("write events");
    let imported = ok(
        dir,
        &["import", dir.join("events.csv").to_str().expect("path")],
    );
    assert!(imported.contains("4 条积分事件"), "{imported}");

    // One bad row refuses the whole file and names the row.
    std::fs::write(
        dir.join("bad.csv"),
        format!("{header}E4,2025002,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗,,\nE5,2025009,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗,,\n"),
    )
    .expect("write bad");
    let out = run(
        dir,
        &["import", dir.join("bad.csv").to_str().expect("path")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("第 3 行「学号」列") && err.contains("整批未导入"),
        "{err}"
    );

    let svg = dir.join("radar.svg");
    let profile = ok(
        dir,
        &[
            "profile",
            "2025001",
            "--svg",
            svg.to_str().expect("path"),
            "--format",
            "json",
        ],
    );
    let profile: serde_json::Value = serde_json::from_str(&profile).expect("profile json");
    assert_eq!(profile["total"], 22);
    assert_eq!(profile["dimensions"].as_array().map(Vec::len), Some(8));
    let drawn = std::fs::read_to_string(&svg).expect("svg");
    assert!(
        drawn.starts_with("<svg") && drawn.contains("工匠精神 15"),
        "{drawn}"
    );

    let awards = ok(
        dir,
        &[
            "awards",
            "--term",
            "2025-2026-1",
            "--rule",
            "hongjiang-star",
        ],
    );
    assert!(
        awards.contains("红匠之星") && awards.contains("张明"),
        "{awards}"
    );
    let figures = ok(dir, &["figures", "--year", "2025"]);
    let figures: serde_json::Value = serde_json::from_str(&figures).expect("figures json");
    assert_eq!(figures["events"], 4);
    assert_eq!(figures["students_evaluated"], 2);
    let history = ok(dir, &["history", "2025002"]);
    assert!(
        history.contains("C03.2.1") && history.contains("-1"),
        "{history}"
    );
    let summary = ok(dir, &["summary", "--group", "class", "--by", "competency"]);
    assert!(summary.contains("2025级汽修1班"), "{summary}");

    // Every read of a student's profile or history is logged: who, when, whose, what.
    let reads = ok(dir, &["reads"]);
    let lines: Vec<&str> = reads.lines().collect();
    assert_eq!(lines.len(), 2, "{reads}");
    assert!(
        reads.contains("2025001 张明\t八维画像") && reads.contains("2025002 李华\t积分流水"),
        "{reads}"
    );
    assert!(lines.iter().all(|l| l.contains("cli")), "{reads}");
    let one = ok(dir, &["reads", "2025002"]);
    assert_eq!(one.lines().count(), 1, "{one}");
    assert!(one.contains("积分流水"), "{one}");

    // Printed rankings and award lists are logged as the web's downloads are: who, what,
    // how many rows.
    let ranked = ok(dir, &["rank", "--scope", "class"]);
    assert_eq!(ranked.lines().count(), 2, "{ranked}");
    let exports = ok(dir, &["exports"]);
    let lines: Vec<&str> = exports.lines().collect();
    assert_eq!(lines.len(), 2, "{exports}");
    assert!(
        lines[0].contains("\t学生排名（班级，总分）\t2 行")
            || lines[1].contains("\t学生排名（班级，总分）\t2 行"),
        "{exports}"
    );
    let listed = awards.lines().filter(|l| l.starts_with("  ")).count();
    assert!(
        exports.contains(&format!("\t评优与推荐名单\t{listed} 行")),
        "{exports}"
    );
    let user = std::env::var("USER").map_or("cli".to_string(), |u| format!("cli:{u}"));
    assert!(
        lines.iter().all(|l| l.contains(&format!("\t{user}\t"))),
        "{exports}"
    );
}
