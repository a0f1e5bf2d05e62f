//! Output: the findings for people (grouped by section, in Chinese, each cited line quoted)
//! and as JSON (`{"findings":[…]}`).

use std::collections::BTreeMap;

use nianbao_core::{Finding, Severity};
use serde::{Deserialize, Serialize};

/// The JSON document of an audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingsReport {
    pub findings: Vec<Finding>,
}

/// The findings as JSON: `{"findings":[{"rule":…,"severity":…,"message":…,"locations":[…]}]}`.
pub fn render_json(findings: &[Finding]) -> String {
    let report = FindingsReport {
        findings: findings.to_vec(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{\"findings\":[]}".to_string())
}

/// The longest quotation of a line shown.
const QUOTE_CHARS: usize = 72;

/// Shortens a long line around the first number of the message that it contains.
fn excerpt(line: &str, message: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= QUOTE_CHARS {
        return line.to_string();
    }
    let focus = message
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter(|t| t.len() >= 2)
        .find_map(|t| line.find(t))
        .map(|byte| line[..byte].chars().count())
        .unwrap_or(0);
    let start = focus
        .saturating_sub(QUOTE_CHARS / 3)
        .min(chars.len().saturating_sub(QUOTE_CHARS));
    let end = (start + QUOTE_CHARS).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// The findings for people, grouped by report section, each with the lines it cites.
pub fn render_human(findings: &[Finding], text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("未发现数字前后矛盾之处。\n");
        return out;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    out.push_str(&format!(
        "共发现 {} 处问题：错误 {} 处，警告 {} 处，提示 {} 处。\n",
        findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    ));
    let mut sections: BTreeMap<(usize, String), Vec<&Finding>> = BTreeMap::new();
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    for finding in findings {
        let first = finding
            .locations
            .iter()
            .filter_map(|l| l.line)
            .min()
            .unwrap_or(0);
        let position = *order.entry(finding.section.clone()).or_insert(first);
        sections
            .entry((position, finding.section.clone()))
            .or_default()
            .push(finding);
    }
    for ((_, section), list) in sections {
        out.push('\n');
        if section.is_empty() {
            out.push_str("【正文之外】\n");
        } else {
            out.push_str(&format!("【{section} 节】\n"));
        }
        for finding in list {
            out.push_str(&format!(
                "  [{}] {}（{}）\n",
                finding.severity.label(),
                finding.message,
                finding.rule
            ));
            for location in &finding.locations {
                let Some(n) = location.line else { continue };
                let line = location.text.clone().unwrap_or_else(|| {
                    lines
                        .get(n.saturating_sub(1))
                        .map(|l| l.trim().to_string())
                        .unwrap_or_default()
                });
                out.push_str(&format!(
                    "      第 {n} 行：{}\n",
                    excerpt(&line, &finding.message)
                ));
            }
        }
    }
    out
}
