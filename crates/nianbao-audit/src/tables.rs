//! Tables: header rows (two-level headers with merged cells), label columns (a category
//! written only on the first row of its group), years as row or column labels, total rows
//! (合计) and the numeric value of every cell.

use crate::numbers::{Quantity, Token, scan};

/// Whether a row adds up the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalKind {
    /// An ordinary row.
    Detail,
    /// 合计 / 总计: the sum of every detail row.
    Total,
    /// 小计: the sum of its group.
    Subtotal,
}

/// One column: its header path from the top header row down ("双师型教师数(人)" / "初级").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Column {
    pub path: Vec<String>,
    pub year: Option<i32>,
}

impl Column {
    /// The header path as one label ("双师型教师数(人)/初级").
    pub fn label(&self) -> String {
        self.path.join("/")
    }
}

/// One cell and its number.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub value: Option<Quantity>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    /// The label cells, with a merged category cell repeated from the row above.
    pub labels: Vec<String>,
    pub cells: Vec<Cell>,
    pub year: Option<i32>,
    pub total: TotalKind,
}

impl Row {
    /// The row's label as shown ("财经商贸类 会计事务"; "2024年度").
    pub fn label(&self) -> String {
        let labels: Vec<&str> = self
            .labels
            .iter()
            .map(String::as_str)
            .filter(|l| !l.is_empty())
            .collect();
        labels.join(" ")
    }

    /// The most specific label (the major rather than its category).
    pub fn name(&self) -> &str {
        self.labels
            .iter()
            .rev()
            .find(|l| !l.is_empty())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A table of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// "表2" when a caption names it, else "第N行的表格".
    pub name: String,
    pub title: String,
    pub first_line: usize,
    pub header_lines: Vec<usize>,
    pub columns: Vec<Column>,
    pub label_columns: usize,
    pub rows: Vec<Row>,
}

impl Table {
    /// The value of a cell, if it is a number.
    pub fn value(&self, row: usize, column: usize) -> Option<&Quantity> {
        self.rows.get(row)?.cells.get(column)?.value.as_ref()
    }

    /// Every line of the table (header and rows).
    pub fn lines(&self) -> Vec<usize> {
        let mut lines = self.header_lines.clone();
        lines.extend(self.rows.iter().map(|r| r.line));
        lines
    }
}

/// The number of a cell, when the cell is one number (with its unit).
pub fn cell_value(text: &str) -> Option<Quantity> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let tokens = scan(text);
    match tokens.as_slice() {
        [Token::Quantity(q)] if q.span.start == 0 || text[..q.span.start].trim().is_empty() => {
            let rest = text[q.span.end..].trim();
            (rest.is_empty() || rest.chars().count() <= 1).then(|| q.clone())
        }
        _ => None,
    }
}

/// A year written alone in a cell ("2024", "2024年", "2024年度", "2024届").
pub fn cell_year(text: &str) -> Option<i32> {
    let text = text.trim();
    let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() != 4 {
        return None;
    }
    let rest = text[4..].trim();
    let year: i32 = digits.parse().ok()?;
    ((1949..=2100).contains(&year) && ["", "年", "年度", "届", "学年", "级"].contains(&rest))
        .then_some(year)
}

/// Words that make a row label a total.
const TOTAL_WORDS: &[&str] = &["合计", "总计", "总数", "全校", "总体"];

/// Words that say nothing more about a total ("全校合计", "合计（人）").
const GENERIC_WORDS: &[&str] = &[
    "全校",
    "学校",
    "全部",
    "所有",
    "各专业",
    "共",
    "人",
    "（",
    "）",
    "(",
    ")",
];

/// Whether a row label names a total, and whether it names what is totalled
/// ("在校生人数合计", "标志性成果总数") rather than being a bare total ("合计", "全校合计").
fn is_total_label(text: &str) -> Option<(TotalKind, bool)> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let kind = if compact.contains("小计") {
        TotalKind::Subtotal
    } else if TOTAL_WORDS.iter().any(|w| compact.contains(w)) {
        TotalKind::Total
    } else {
        return None;
    };
    let mut rest = compact.replace("小计", "");
    for word in TOTAL_WORDS.iter().chain(GENERIC_WORDS) {
        rest = rest.replace(word, "");
    }
    Some((kind, !rest.is_empty()))
}

/// The kind of each data row. A bare total ("合计") always adds up the rows; a named one
/// ("在校生人数合计") does only when it is the table's one total and its last row — in a
/// table listing several named totals, or one among other items, each is an item of its
/// own (a scorecard's "在校生人数合计" is not the sum of the rows below it).
fn total_kinds(labels: &[Vec<String>]) -> Vec<TotalKind> {
    let found: Vec<Option<(TotalKind, bool)>> = labels
        .iter()
        .map(|row| row.iter().find_map(|l| is_total_label(l)))
        .collect();
    let totals = found
        .iter()
        .filter(|f| matches!(f, Some((TotalKind::Total, _))))
        .count();
    let last = found.len().saturating_sub(1);
    found
        .iter()
        .enumerate()
        .map(|(i, f)| match f {
            Some((TotalKind::Total, true)) if totals > 1 || i != last => TotalKind::Detail,
            Some((kind, _)) => *kind,
            None => TotalKind::Detail,
        })
        .collect()
}

/// Builds a table from its rows of cells.
pub fn parse_table(rows: &[(usize, Vec<String>)], caption: Option<(u32, String)>) -> Table {
    let width = rows.iter().map(|(_, cells)| cells.len()).max().unwrap_or(0);
    let cell = |r: usize, c: usize| -> &str {
        rows.get(r)
            .and_then(|(_, cells)| cells.get(c))
            .map(String::as_str)
            .unwrap_or("")
    };
    let is_number = |text: &str| cell_value(text).is_some() && cell_year(text).is_none();

    // Header rows: text-only rows at the top; a later one must leave its first cell empty or
    // hold only years (the second level of a two-level header).
    let mut header_count = 0;
    for (r, (_, cells)) in rows.iter().enumerate() {
        let filled: Vec<&String> = cells.iter().filter(|c| !c.trim().is_empty()).collect();
        let numbers = filled.iter().filter(|c| is_number(c)).count();
        let years = filled.iter().filter(|c| cell_year(c).is_some()).count();
        let header = if r == 0 {
            numbers * 2 < filled.len().max(1) && !(filled.len() > 1 && years == filled.len())
        } else {
            numbers == 0 && (cell(r, 0).trim().is_empty() || years == 0) && r == header_count
        };
        if header && r == header_count {
            header_count += 1;
        } else {
            break;
        }
    }
    if header_count == rows.len() {
        header_count = rows.len().min(1);
    }

    // Header paths: an empty header cell above a filled one belongs to the merged cell on
    // its left.
    let mut resolved: Vec<Vec<String>> = (0..header_count)
        .map(|r| (0..width).map(|c| cell(r, c).trim().to_string()).collect())
        .collect();
    for r in 0..header_count.saturating_sub(1) {
        for c in 1..width {
            if resolved[r][c].is_empty() && !resolved[r + 1][c].is_empty() {
                resolved[r][c] = resolved[r][c - 1].clone();
            }
        }
    }
    let columns: Vec<Column> = (0..width)
        .map(|c| {
            let mut path: Vec<String> = Vec::new();
            for row in &resolved {
                let text = &row[c];
                if !text.is_empty() && path.last() != Some(text) {
                    path.push(text.clone());
                }
            }
            let year = path.iter().find_map(|p| cell_year(p));
            Column { path, year }
        })
        .collect();

    // Label columns: the first, when it holds text or years, and the text columns after it.
    let data = &rows[header_count.min(rows.len())..];
    let mut label_columns = 0;
    for c in 0..width {
        let text_of = |cells: &Vec<String>| {
            cells
                .get(c)
                .map(String::as_str)
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let all_text = data.iter().all(|(_, cells)| {
            let text = text_of(cells);
            text.is_empty() || !is_number(&text) || (c == 0 && cell_year(&text).is_some())
        });
        // The first column labels its rows when any of them is words ("35岁及以下" … "合计").
        let first_labels = c == 0
            && data.iter().any(|(_, cells)| {
                let text = text_of(cells);
                !text.is_empty() && !is_number(&text)
            });
        if (all_text || first_labels) && c + 1 < width {
            label_columns += 1;
        } else {
            break;
        }
    }

    let written: Vec<Vec<String>> = data
        .iter()
        .map(|(_, cells)| {
            (0..label_columns)
                .map(|c| {
                    cells
                        .get(c)
                        .map(|t| t.trim().to_string())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let kinds = total_kinds(&written);
    let mut parsed_rows: Vec<Row> = Vec::new();
    for (((line, cells), mut labels), total) in data.iter().zip(written).zip(kinds) {
        if total == TotalKind::Detail
            && label_columns > 1
            && let Some(previous) = parsed_rows.last().filter(|p| p.total == TotalKind::Detail)
        {
            for c in 0..label_columns - 1 {
                if labels[c].is_empty() && !labels[c + 1..].iter().all(String::is_empty) {
                    labels[c] = previous.labels[c].clone();
                }
            }
        }
        let year = labels.iter().find_map(|l| cell_year(l));
        let row_cells = (0..width)
            .map(|c| {
                let text = cells
                    .get(c)
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default();
                let value = if c < label_columns {
                    None
                } else {
                    cell_value(&text)
                };
                Cell { text, value }
            })
            .collect();
        parsed_rows.push(Row {
            line: *line,
            labels,
            cells: row_cells,
            year,
            total,
        });
    }

    let first_line = rows.first().map(|(l, _)| *l).unwrap_or(0);
    let (name, title) = match caption {
        Some((n, title)) => (format!("表{n}"), title),
        None => (format!("第{first_line}行的表格"), String::new()),
    };
    Table {
        name,
        title,
        first_line,
        header_lines: rows.iter().take(header_count).map(|(l, _)| *l).collect(),
        columns,
        label_columns,
        rows: parsed_rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
        text.lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('\t').map(str::to_string).collect()))
            .collect()
    }

    #[test]
    fn two_level_header_with_merged_cells() {
        let table = parse_table(
            &rows(
                "年份\t总数\t分级\t\t\n\t\t初级\t中级\t高级\n2023年度\t10\t5\t3\t2\n2024年度\t12\t6\t4\t2",
            ),
            Some((1, "情况".into())),
        );
        assert_eq!(table.name, "表1");
        assert_eq!(table.header_lines, vec![1, 2]);
        assert_eq!(
            table.columns[3].path,
            vec!["分级".to_string(), "中级".to_string()]
        );
        assert_eq!(table.rows[1].year, Some(2024));
        assert_eq!(table.value(1, 3).map(|q| q.value), Some(4.0));
    }

    #[test]
    fn category_cells_and_totals() {
        let table = parse_table(
            &rows(
                "大类\t专业\t人数\t\n\t\t2024\t2025\n甲类\ta\t1\t2\n\tb\t3\t4\n乙类\tc\t5\t6\n合计\t\t9\t12",
            ),
            None,
        );
        assert_eq!(table.label_columns, 2);
        assert_eq!(table.columns[3].year, Some(2025));
        assert_eq!(
            table.rows[1].labels,
            vec!["甲类".to_string(), "b".to_string()]
        );
        assert_eq!(table.rows[3].total, TotalKind::Total);
    }

    #[test]
    fn named_totals_in_a_list_of_items_are_items() {
        let table = parse_table(
            &rows(
                "项目\t单位\t2025年度\n在校生人数合计\t人\t9313\n招生人数合计\t人\t3211\n生师比\t\t19.0\n标志性成果总数\t项\t217\n国家级标志性成果\t项\t6",
            ),
            None,
        );
        assert!(table.rows.iter().all(|r| r.total == TotalKind::Detail));
        let table = parse_table(&rows("专业\t人数\na\t1\nb\t2\n在校生人数合计\t3"), None);
        assert_eq!(table.rows[2].total, TotalKind::Total);
        let table = parse_table(&rows("专业\t人数\n全校合计\t3\na\t1\nb\t2"), None);
        assert_eq!(table.rows[0].total, TotalKind::Total);
    }

    #[test]
    fn years_as_row_labels() {
        let table = parse_table(&rows("年度\t人数\t率\n2024\t10\t100%\n2025\t12\t90%"), None);
        assert_eq!(table.label_columns, 1);
        assert_eq!(table.rows[0].year, Some(2024));
        assert_eq!(table.value(1, 2).map(|q| q.unit.clone()), Some("%".into()));
    }
}
