//! The area's own report (区县/市级 职业教育质量年度报告), compiled from the approved data
//! of its schools into the same document model the school reports use, so it renders
//! through the same HTML, Word and PDF renderers with the same numbering.
//!
//! Only approved schools (区县已审核 or 市已接收) contribute a figure; the data notes at
//! the end name every school that contributed and every school that did not yet, with its
//! state, so each total can be traced. The bureau's own texts (前言, 总体情况, 面临挑战)
//! are the bureau's words; a missing one prints as a gap, and the report stays a draft.

use std::collections::BTreeMap;

use nianbao_bureau::SubmissionState;
use nianbao_bureau::areas::{AreaSchool, AreaTree};
use nianbao_bureau::compare::{Comparison, peer_scope};
use nianbao_bureau::peers::{PeerLevel, PeerRule};
use nianbao_core::{Dataset, Definitions, Year, number};

use crate::model::{
    Align, Block, Cover, DRAFT_COVER, Document, FinalMark, Gap, GapKind, Heading, Inline, ListKind,
    Paragraph, Status,
};
use crate::tables::{Cell, HeaderCell, Table};

/// The parts of the area report that the bureau writes.
pub const TEXT_PARTS: [(&str, &str); 3] = [
    ("preface", "前言"),
    ("overview", "总体情况"),
    ("challenges", "面临挑战"),
];

/// Everything the area report is made from.
pub struct AreaReportInput<'a> {
    pub definitions: &'a Definitions,
    pub tree: &'a AreaTree,
    pub area: &'a str,
    pub year: Year,
    /// Every school of the area with its state for the year.
    pub states: &'a BTreeMap<String, SubmissionState>,
    /// The datasets of the approved schools (others are ignored even if given).
    pub datasets: &'a [Dataset],
    /// The comparison of the approved schools, their outliers judged among the approved
    /// schools of the area's peer scope ([`nianbao_bureau::compare::peer_scope`]).
    pub comparison: &'a Comparison,
    /// The level of the area peers are taken from.
    pub peers: PeerLevel,
    /// The bureau's texts by part code ("preface" …).
    pub texts: &'a BTreeMap<String, String>,
    /// The date printed on the cover ("2026-02-10").
    pub date: &'a str,
}

/// Why an area report cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("区域代码「{0}」不存在")]
    UnknownArea(String),
}

/// Totals over the approved schools, as printed in the report.
const TOTALS: [(&str, &str); 5] = [
    ("students.enrolled_total", "在校生数(人)"),
    ("students.intake_total", "招生数(人)"),
    ("students.graduates_total", "毕业生数(人)"),
    ("staff.full_time.total", "专任教师数(人)"),
    ("staff.dual.total", "双师型教师数(人)"),
];

fn heading(level: u8, number: Option<String>, text: &str, id: &str) -> Block {
    Block::Heading(Heading {
        level,
        number,
        text: text.to_string(),
        id: id.to_string(),
        in_toc: true,
        page_break: level == 1,
    })
}

fn paragraph(text: impl Into<String>) -> Block {
    Block::Paragraph(Paragraph::new(vec![Inline::plain(text)]))
}

fn header(text: &str) -> HeaderCell {
    HeaderCell {
        text: text.to_string(),
        colspan: 1,
        rowspan: 1,
    }
}

fn cell(text: impl Into<String>, label: bool) -> Cell {
    Cell {
        text: text.into(),
        rowspan: 1,
        label,
    }
}

/// The bureau's text of one part, a paragraph per line, or a gap when it is not written.
fn text_part(
    blocks: &mut Vec<Block>,
    gaps: &mut Vec<Gap>,
    texts: &BTreeMap<String, String>,
    code: &str,
    title: &str,
) {
    match texts.get(code).map(|t| t.trim()).filter(|t| !t.is_empty()) {
        Some(text) => {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                blocks.push(paragraph(line));
            }
        }
        None => {
            let message = format!("{title}尚未撰写");
            blocks.push(Block::Gap(format!("【待补文字：{message}】")));
            gaps.push(Gap {
                part: title.to_string(),
                kind: GapKind::Empty,
                message,
            });
        }
    }
}

/// Builds the area report.
pub fn compile(input: &AreaReportInput<'_>) -> Result<Document, CompileError> {
    let area = input
        .tree
        .area(input.area)
        .ok_or_else(|| CompileError::UnknownArea(input.area.to_string()))?;
    let schools: Vec<&AreaSchool> = input.tree.schools_in(input.area);
    let state_of = |code: &str| {
        input
            .states
            .get(code)
            .copied()
            .unwrap_or(SubmissionState::Draft)
    };
    let approved: Vec<&AreaSchool> = schools
        .iter()
        .copied()
        .filter(|s| state_of(&s.code).approved())
        .collect();
    let data_of: BTreeMap<&str, &Dataset> = input
        .datasets
        .iter()
        .filter(|d| approved.iter().any(|s| s.code == d.school.code))
        .map(|d| (d.school.code.as_str(), d))
        .collect();
    let year = input.year;
    let mut blocks = Vec::new();
    let mut gaps = Vec::new();
    let mut tables = 0usize;
    let mut next_table = || {
        tables += 1;
        tables
    };

    blocks.push(Block::ListOf(ListKind::Contents));
    blocks.push(Block::ListOf(ListKind::Tables));

    blocks.push(heading(1, None, "前言", "preface"));
    text_part(&mut blocks, &mut gaps, input.texts, "preface", "前言");

    // 1 总体情况: the bureau's words, then the totals computed from approved data.
    blocks.push(heading(1, Some("1".into()), "总体情况", "s1"));
    text_part(&mut blocks, &mut gaps, input.texts, "overview", "总体情况");
    let mut totals: Vec<(f64, usize)> = vec![(0.0, 0); TOTALS.len()];
    for data in data_of.values() {
        for (k, (element, _)) in TOTALS.iter().enumerate() {
            if let Some(v) = data.value(year, element) {
                totals[k].0 += v;
                totals[k].1 += 1;
            }
        }
    }
    blocks.push(paragraph(format!(
        "{}共有学校 {} 所，其中 {} 所的 {year} 年度数据已审核通过，本报告的数据均来自这 {} 所学校。",
        area.name,
        schools.len(),
        approved.len(),
        approved.len()
    )));
    let mut sentences = Vec::new();
    for (k, (_, label)) in TOTALS.iter().enumerate() {
        let (sum, n) = totals[k];
        if n > 0 {
            let name = label.split('(').next().unwrap_or(label);
            let qualifier = if n < approved.len() {
                format!("（{n} 所学校填报）")
            } else {
                String::new()
            };
            sentences.push(format!(
                "{name}合计 {} 人{qualifier}",
                number::grouped(sum, 0)
            ));
        }
    }
    if sentences.is_empty() {
        blocks.push(Block::Gap("【待补数据：尚无已审核学校的数据】".to_string()));
        gaps.push(Gap {
            part: "1 总体情况".into(),
            kind: GapKind::Data,
            message: "尚无已审核学校的数据".into(),
        });
    } else {
        blocks.push(paragraph(format!("{}。", sentences.join("；"))));
    }

    // 表: per school totals.
    let number = next_table();
    let mut header_row = vec![header("学校")];
    header_row.extend(TOTALS.iter().map(|(_, label)| header(label)));
    let mut rows = Vec::new();
    for school in &approved {
        let mut row = vec![cell(&school.name, true)];
        for (element, _) in TOTALS {
            let value = data_of
                .get(school.code.as_str())
                .and_then(|d| d.value(year, element));
            row.push(cell(
                value.map(|v| number::grouped(v, 0)).unwrap_or_default(),
                false,
            ));
        }
        rows.push(row);
    }
    let mut total_row = vec![cell("合计", true)];
    for (sum, n) in &totals {
        total_row.push(cell(
            if *n > 0 {
                number::grouped(*sum, 0)
            } else {
                String::new()
            },
            false,
        ));
    }
    rows.push(total_row);
    blocks.push(Block::Table(Box::new(Table {
        id: format!("table-{number}"),
        number,
        caption: format!("{year} 年度各校基本数据"),
        header: vec![header_row],
        rows,
    })));

    // 2 指标达标情况: counts per indicator, then one table per judged indicator.
    blocks.push(heading(1, Some("2".into()), "办学条件与指标达标情况", "s2"));
    let number = next_table();
    let mut rows = Vec::new();
    for summary in input.comparison.indicators.iter().filter(|s| s.judged) {
        let median = summary
            .trend
            .iter()
            .find(|(y, _, _)| *y == year)
            .and_then(|(_, m, _)| *m);
        rows.push(vec![
            cell(&summary.name, true),
            cell(summary.meets.to_string(), false),
            cell(summary.fails.to_string(), false),
            cell(summary.missing.to_string(), false),
            cell(
                median
                    .map(|m| number::grouped(m, summary.decimals))
                    .unwrap_or_default(),
                false,
            ),
        ]);
    }
    blocks.push(paragraph(format!(
        "下表按国家标准统计已审核学校各项指标的达标情况；中位数按 {year} 年度有数据的学校计算。"
    )));
    blocks.push(Block::Table(Box::new(Table {
        id: format!("table-{number}"),
        number,
        caption: "各项指标达标学校数".to_string(),
        header: vec![vec![
            header("指标"),
            header("达标(所)"),
            header("不达标(所)"),
            header("无数据(所)"),
            header("中位数"),
        ]],
        rows,
    })));
    let scope = peer_scope(input.tree, input.area, input.peers);
    let scope_name = input
        .tree
        .area(&scope)
        .map_or(scope.as_str(), |a| a.name.as_str());
    let rule = PeerRule::default();
    blocks.push(paragraph(format!(
        "以下各表的「同类学校比较」一列：同类学校取自{scope_name}（{}）已审核的学校中类型相同、在校生规模段相同者，以组内中位数和绝对中位差（MAD）计算修正 z 值，绝对值超过 {} 的列出；不足 {} 所学校的组不作比较。",
        input.peers.label(),
        number::fixed(rule.threshold, 1),
        rule.min_group
    )));
    let mut section = 0;
    for (k, indicator) in input.definitions.indicators.iter().enumerate() {
        let judged = input
            .comparison
            .indicators
            .get(k)
            .is_some_and(|s| s.id == indicator.id && s.judged);
        if !judged {
            continue;
        }
        section += 1;
        blocks.push(heading(
            2,
            Some(format!("2.{section}")),
            &indicator.name,
            &format!("s2-{section}"),
        ));
        let number = next_table();
        let unit = if indicator.unit.is_empty() {
            String::new()
        } else {
            format!("({})", indicator.unit)
        };
        let mut rows = Vec::new();
        for result in &input.comparison.schools {
            let line = result.indicators.iter().find(|l| l.id == indicator.id);
            let value = result.value(&indicator.id);
            let verdict = match line.and_then(|l| l.meets) {
                Some(true) => "达标",
                Some(false) => "不达标",
                None => "",
            };
            let explained = input
                .comparison
                .outliers
                .get(&result.code)
                .and_then(|list| list.iter().find(|o| o.indicator == indicator.id))
                .map(|o| o.explain(&indicator.name, indicator.decimals))
                .unwrap_or_default();
            rows.push(vec![
                cell(&result.name, true),
                cell(
                    value
                        .map(|v| number::grouped(v, indicator.decimals))
                        .unwrap_or_default(),
                    false,
                ),
                cell(verdict, false),
                cell(explained, false),
            ]);
        }
        blocks.push(Block::Table(Box::new(Table {
            id: format!("table-{number}"),
            number,
            caption: format!("各校{}", indicator.name),
            header: vec![vec![
                header("学校"),
                header(&format!("{}{unit}", indicator.name)),
                header("达标情况"),
                header("同类学校比较"),
            ]],
            rows,
        })));
    }

    blocks.push(heading(1, Some("3".into()), "面临挑战", "s3"));
    text_part(
        &mut blocks,
        &mut gaps,
        input.texts,
        "challenges",
        "面临挑战",
    );

    // 数据说明: who contributed, who did not yet.
    blocks.push(heading(1, None, "数据说明", "data-notes"));
    blocks.push(paragraph(format!(
        "本报告的数字只取自 {year} 年度数据已审核通过（区县已审核或市已接收）的学校；其他学校的数据待审核后补入。"
    )));
    let included: Vec<Vec<Inline>> = approved
        .iter()
        .map(|s| {
            vec![Inline::plain(format!(
                "{}（{}，{}）",
                s.name,
                s.kind.label(),
                state_of(&s.code).label()
            ))]
        })
        .collect();
    blocks.push(Block::Paragraph(Paragraph {
        runs: vec![Inline::bold(format!(
            "已纳入的学校（{} 所）",
            included.len()
        ))],
        align: Align::Left,
    }));
    if !included.is_empty() {
        blocks.push(Block::List {
            ordered: true,
            items: included,
        });
    }
    let pending: Vec<Vec<Inline>> = schools
        .iter()
        .filter(|s| !state_of(&s.code).approved())
        .map(|s| {
            vec![Inline::plain(format!(
                "{}（{}）",
                s.name,
                state_of(&s.code).label()
            ))]
        })
        .collect();
    blocks.push(Block::Paragraph(Paragraph {
        runs: vec![Inline::bold(format!(
            "尚未纳入的学校（{} 所）",
            pending.len()
        ))],
        align: Align::Left,
    }));
    if !pending.is_empty() {
        blocks.push(Block::List {
            ordered: true,
            items: pending,
        });
    }

    let title = format!("{year} 年度职业教育质量年度报告");
    Ok(Document {
        title: format!("{}{title}", area.name),
        cover: Cover {
            school: area.bureau_name(),
            school_en: String::new(),
            designations: Vec::new(),
            title,
            status: DRAFT_COVER.to_string(),
            date: crate::chinese_date(input.date),
        },
        blocks,
        status: Status::Draft,
        gaps,
    })
}

/// Why an area report cannot be made final: the parts still unwritten, or no school in it.
pub fn final_blockers(document: &Document, included: usize) -> Vec<String> {
    let mut blockers: Vec<String> = document
        .gaps
        .iter()
        .map(|g| format!("「{}」{}", g.part, g.message))
        .collect();
    if included == 0 {
        blockers.push("尚无审核通过的学校".into());
    }
    blockers
}

/// The draft made final under `mark`: the cover no longer says 征求意见稿, no page carries
/// 草稿, and the report ends with the final's number and the hash of the draft's content.
pub fn make_final(mut document: Document, mark: FinalMark) -> Document {
    document.cover.status = String::new();
    document.blocks.push(Block::Paragraph(Paragraph {
        runs: vec![Inline::plain(format!(
            "定稿编号：第 {} 号；内容摘要（SHA-256）：{}",
            mark.snapshot, mark.hash
        ))],
        align: Align::Left,
    }));
    document.status = Status::Final(mark);
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use nianbao_bureau::compare::{Comparison, evaluate_many};
    use nianbao_bureau::peers::PeerRule;
    use nianbao_bureau::synth::{self, SynthConfig};

    #[test]
    fn only_approved_schools_contribute_and_the_notes_name_the_rest() {
        let definitions = Definitions::builtin().unwrap();
        let year = Year::new(2025).unwrap();
        let area = synth::area(SynthConfig {
            count: 12,
            seed: 9,
            fault_share: 0.0,
            year,
        });
        let datasets: Vec<Dataset> = (0..12).map(|i| synth::dataset(&area, i).unwrap()).collect();
        let mut states = BTreeMap::new();
        for (i, s) in area.tree.schools.iter().enumerate() {
            let state = match i % 3 {
                0 => SubmissionState::DistrictApproved,
                1 => SubmissionState::CityReceived,
                _ => SubmissionState::Submitted,
            };
            states.insert(s.code.clone(), state);
        }
        let approved: Vec<usize> = (0..12).filter(|i| i % 3 != 2).collect();
        let results = evaluate_many(
            &definitions,
            approved
                .iter()
                .map(|&i| (area.tree.schools[i].clone(), datasets[i].clone())),
            2,
        );
        let comparison = Comparison::build(
            &definitions,
            year,
            results,
            |_| "x".into(),
            PeerRule::default(),
        );
        let texts: BTreeMap<String, String> =
            [("preface".to_string(), "本区职业教育稳步发展。".to_string())].into();
        let district = &area.tree.areas[2].code;
        let document = compile(&AreaReportInput {
            definitions: &definitions,
            tree: &area.tree,
            area: district,
            year,
            states: &states,
            datasets: &datasets,
            comparison: &comparison,
            peers: PeerLevel::City,
            texts: &texts,
            date: "2026-02-10",
        })
        .unwrap();
        let html = crate::html::render(&document);
        let expected: f64 = approved
            .iter()
            .map(|&i| datasets[i].value(year, "students.enrolled_total").unwrap())
            .sum();
        assert!(
            html.contains(&format!("在校生数合计 {} 人", number::grouped(expected, 0))),
            "the total of the approved schools"
        );
        for i in 0..12 {
            let name = &area.tree.schools[i].name;
            assert!(html.contains(name.as_str()), "{name} is named somewhere");
        }
        assert!(html.contains("尚未纳入的学校（4 所）"));
        assert!(html.contains("已纳入的学校（8 所）"));
        // The unwritten parts are gaps, and the report is a draft.
        assert_eq!(document.gaps.len(), 2);
        assert!(document.status.is_draft());
        assert!(html.contains("本区职业教育稳步发展。"));
        let city = &area.tree.areas[1];
        assert_eq!(city.level, nianbao_bureau::Level::City);
        assert!(
            html.contains(&format!("同类学校取自{}（同市）", city.name)),
            "the peers' area is named"
        );
        assert!(document.entries(ListKind::Tables).len() >= 3);
    }
}
