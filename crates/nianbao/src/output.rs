//! How findings and indicators are printed: text for people, JSON for programs.

use std::fmt::Write;

use anyhow::Result;
use nianbao_core::indicator::IndicatorResult;
use nianbao_core::{Acceptance, Definitions, Finding, Severity, Year};
use serde::Serialize;

#[derive(Serialize)]
struct FindingsDocument<'a> {
    findings: Vec<FindingOut<'a>>,
}

/// A finding with its key and, when the school accepted it, the explanation.
#[derive(Serialize)]
struct FindingOut<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted: Option<&'a Acceptance>,
}

fn accepted<'a>(finding: &Finding, acceptances: &'a [Acceptance]) -> Option<&'a Acceptance> {
    let key = finding.key();
    acceptances.iter().find(|a| a.key == key)
}

pub fn findings_json(findings: &[Finding], acceptances: &[Acceptance]) -> Result<String> {
    let findings = findings
        .iter()
        .map(|finding| FindingOut {
            finding,
            key: finding.key(),
            accepted: accepted(finding, acceptances),
        })
        .collect();
    Ok(serde_json::to_string_pretty(&FindingsDocument {
        findings,
    })?)
}

pub fn findings_text(
    findings: &[Finding],
    acceptances: &[Acceptance],
    definitions: &Definitions,
) -> String {
    let mut out = String::new();
    let mut section: Option<&str> = None;
    for finding in findings {
        if section != Some(finding.section.as_str()) {
            section = Some(&finding.section);
            let title = definitions
                .section_title(&finding.section)
                .unwrap_or("其他");
            let _ = writeln!(out, "\n{} {}", finding.section, title);
        }
        let _ = writeln!(
            out,
            "  [{}] {}  ({})",
            finding.severity.label(),
            finding.message,
            finding.key()
        );
        if let Some(a) = accepted(finding, acceptances) {
            let _ = writeln!(
                out,
                "      已说明（{}，{}）：{}",
                a.actor, a.accepted_at, a.explanation
            );
        }
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "\n共 {} 项：错误 {}，警告 {}，提示 {}",
        findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    out
}

#[derive(Serialize)]
struct IndicatorsDocument<'a> {
    indicators: &'a [IndicatorResult],
}

pub fn indicators_json(results: &[IndicatorResult]) -> Result<String> {
    Ok(serde_json::to_string_pretty(&IndicatorsDocument {
        indicators: results,
    })?)
}

/// One block per indicator: value, how it was computed, and each standard's verdict.
pub fn indicators_text(results: &[IndicatorResult], year: Year) -> String {
    let mut out = format!("{year} 年度指标\n");
    for r in results {
        let value = match &r.display {
            Some(v) => format!("{v}{}", r.unit),
            None => "（缺少数据，无法计算）".to_string(),
        };
        let _ = writeln!(out, "\n{}：{}", r.name, value);
        if r.value.is_some() {
            let _ = writeln!(out, "  计算：{} = {}", r.formula_names, r.formula_values);
        }
        if let Some(reported) = r.reported {
            let _ = writeln!(
                out,
                "  学校报告值：{}{}",
                nianbao_core::number::plain(reported),
                r.unit
            );
        }
        for v in &r.verdicts {
            let verdict = if v.pass { "达标" } else { "未达标" };
            let _ = writeln!(
                out,
                "  {}：要求 {} {}{}，{}（{}）",
                v.standard_name,
                v.op.symbol(),
                nianbao_core::number::plain(v.threshold),
                r.unit,
                verdict,
                v.source
            );
        }
    }
    out
}
