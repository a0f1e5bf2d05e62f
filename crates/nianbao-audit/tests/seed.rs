//! The audit of a real school's 2025 report: each contradiction found at its lines, with an
//! honest severity, and nothing else reported.
//!
//! The report lives outside the repository (`../shared/seeds`); where it is absent these tests
//! print a notice and pass, unless `NIANBAO_REQUIRE_SEED=1`, when they fail.

use nianbao_audit::{audit, extract_text, render_human, render_json};
use nianbao_core::{Finding, Severity};
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seeds/qianjiang-2025-quality-report.txt"
);

/// The seed report's text and findings, or None (with a notice) when it is absent.
fn findings() -> Option<(String, Vec<Finding>)> {
    let path = std::path::Path::new(SEED);
    if !path.exists() {
        assert!(
            std::env::var("NIANBAO_REQUIRE_SEED").as_deref() != Ok("1"),
            "NIANBAO_REQUIRE_SEED=1 but the sample report {SEED} is missing"
        );
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未找到样例报告 {SEED}（设置 NIANBAO_REQUIRE_SEED=1 时此测试将失败）"
        );
        return None;
    }
    let text = extract_text(path).expect("the seed report is readable");
    let findings = audit(&text);
    Some((text, findings))
}

fn lines(finding: &Finding) -> Vec<usize> {
    finding.locations.iter().filter_map(|l| l.line).collect()
}

/// (rule, severity, lines the finding must cite, words its message must contain)
const EXPECTED: &[(&str, Severity, &[usize], &str)] = &[
    ("list-caption", Severity::Warning, &[104, 105, 256], "图3"),
    ("list-caption", Severity::Warning, &[105, 278], "获评"),
    ("prose-table", Severity::Warning, &[154, 174], "497"),
    ("prose-table", Severity::Error, &[166, 173], "137"),
    ("share-recompute", Severity::Error, &[166], "31.8%"),
    ("share-recompute", Severity::Error, &[166], "5.07%"),
    ("total-parts", Severity::Error, &[166], "576"),
    ("share-sum", Severity::Error, &[180], "101.0%"),
    ("share-recompute", Severity::Error, &[182], "657 / 9313"),
    (
        "catalogue-edition",
        Severity::Warning,
        &[182, 188, 190, 208, 209],
        "装备制造大类",
    ),
    (
        "category-table",
        Severity::Warning,
        &[182, 186],
        "加工制造类",
    ),
    (
        "category-share",
        Severity::Warning,
        &[182, 188, 190, 210],
        "8571 / 9313",
    ),
    ("rate-counts", Severity::Warning, &[182, 387], "88.95%"),
    ("rate-counts", Severity::Error, &[210, 386], "2652"),
    ("rate-counts", Severity::Error, &[210, 387], "2887"),
    (
        "outcomes-exceed",
        Severity::Warning,
        &[210, 362, 363, 387],
        "2964",
    ),
    ("fraction", Severity::Error, &[367, 368], "九分之一"),
    ("prose-table", Severity::Warning, &[374, 375, 386], "612"),
];

#[test]
fn every_known_contradiction_is_found_at_its_lines() {
    let Some((_, findings)) = findings() else {
        return;
    };
    for (rule, severity, at, words) in EXPECTED {
        let found = findings
            .iter()
            .find(|f| {
                f.rule == *rule
                    && f.message.contains(words)
                    && at.iter().all(|l| lines(f).contains(l))
            })
            .unwrap_or_else(|| panic!("missing {rule} at {at:?} ({words}) in {findings:#?}"));
        assert_eq!(found.severity, *severity, "{found:#?}");
    }
}

#[test]
fn nothing_else_is_reported() {
    let Some((_, findings)) = findings() else {
        return;
    };
    for finding in &findings {
        let expected = EXPECTED.iter().any(|(rule, _, at, words)| {
            finding.rule == *rule
                && finding.message.contains(words)
                && at.iter().all(|l| lines(finding).contains(l))
        });
        assert!(expected, "unexpected finding {finding:#?}");
    }
    assert_eq!(findings.len(), EXPECTED.len());
}

#[test]
fn locations_quote_their_lines() {
    let Some((text, findings)) = findings() else {
        return;
    };
    let all: Vec<&str> = text.split('\n').collect();
    for finding in &findings {
        assert!(
            !finding.section.is_empty() || finding.rule.starts_with("list"),
            "{finding:#?}"
        );
        for location in &finding.locations {
            let line = location.line.expect("a line number");
            assert_eq!(location.text.as_deref(), Some(all[line - 1].trim()));
        }
    }
}

#[test]
fn renders_for_people_and_as_json() {
    let Some((text, findings)) = findings() else {
        return;
    };
    let human = render_human(&findings, &text);
    assert!(human.contains("【1.4 节】"));
    assert!(human.contains("教职工总数 576人 ≠ 正式在编 380 + 外聘 188 = 568人"));
    assert!(human.contains("第 166 行"));
    let json: serde_json::Value =
        serde_json::from_str(&render_json(&findings)).expect("valid JSON");
    let first = &json["findings"][0];
    assert!(first["rule"].is_string());
    assert!(matches!(
        first["severity"].as_str(),
        Some("error" | "warning" | "info")
    ));
    assert!(first["locations"][0]["line"].is_u64());
    assert!(first["locations"][0]["text"].is_string());
}
