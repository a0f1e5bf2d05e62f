//! A batch audit's table of schools × findings as it is kept and shown ([`Line`]: one line
//! per report, what the web page stores and shows), and as an Excel workbook with Chinese
//! column names ([`workbook`]): per report its school, its pre-grade and the grade a person
//! confirmed, and the counts of its findings by kind (errors, warnings, missing chapters,
//! missing tables, figures that differ from the submitted data), then what each count is
//! made of, and a second sheet with the files left out.

use nianbao_core::Severity;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};

use crate::batch::{Report, Skipped};

/// What a report's audit found, as its line of the table carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    /// The errors' messages.
    #[serde(default)]
    pub error_messages: Vec<String>,
    pub missing_parts: Vec<String>,
    pub missing_tables: Vec<String>,
    /// Whether the report was compared with its school's submitted data.
    pub compared: bool,
    /// How many of its figures agree with the submitted data.
    pub agreeing: usize,
    /// Each figure it states otherwise than submitted, in a sentence.
    pub differing: Vec<String>,
    /// Figures it states that the submitted data has no value for.
    pub not_in_data: usize,
    /// The pre-grade from the rubric.
    pub grade: String,
}

/// One report of a batch as its table keeps and shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The entry's path in the archive.
    pub file: String,
    pub school_code: Option<String>,
    pub school: Option<String>,
    /// Why the report could not be read, when it could not.
    pub unreadable: Option<String>,
    pub assessment: Option<Summary>,
}

impl Line {
    /// The line of an audited report.
    pub fn of(report: &Report) -> Line {
        Line {
            file: report.file.clone(),
            school_code: report.school_code.clone(),
            school: report.school.clone(),
            unreadable: report.unreadable.clone(),
            assessment: report.assessment.as_ref().map(|a| Summary {
                errors: a.errors,
                warnings: a.warnings,
                error_messages: a
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| f.message.clone())
                    .collect(),
                missing_parts: a.missing_parts.clone(),
                missing_tables: a.missing_tables.clone(),
                compared: a.compared,
                agreeing: a.agreements.iter().filter(|x| x.agrees).count(),
                differing: a
                    .differing()
                    .iter()
                    .map(|x| {
                        format!(
                            "{}：报告写 {}（第 {} 行），报送数据为 {}",
                            x.subject(),
                            x.written,
                            x.line,
                            x.submitted_text
                        )
                    })
                    .collect(),
                not_in_data: a.not_in_data,
                grade: a.grade.clone(),
            }),
        }
    }
}

/// A grade a person confirmed for a report, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Confirmation {
    pub grade: String,
    pub note: String,
    pub by: String,
    /// When, as shown (Beijing time).
    pub at: String,
}

/// The columns of the table sheet, in order.
pub const COLUMNS: [&str; 18] = [
    "学校代码",
    "学校",
    "文件",
    "预评等级",
    "确认等级",
    "审核意见",
    "确认人",
    "确认时间（北京时间）",
    "错误",
    "警告",
    "缺少章节",
    "缺少表格",
    "与报送数据不一致",
    "与报送数据一致",
    "报送数据中没有的数字",
    "缺少的章节和表格",
    "不一致的数字",
    "错误与无法读取的原因",
];

/// The name of the table's sheet.
pub const SHEET: &str = "批量审核";
/// The name of the sheet of files left out.
pub const SKIPPED_SHEET: &str = "未审核的文件";

/// The table as an Excel workbook: a line per report with the confirmation given for it (by
/// position), then a sheet of the files left out. A report not compared with submitted data
/// leaves the comparison's counts empty; an unreadable one leaves every count empty and
/// says why in the last column.
pub fn workbook(
    lines: &[(Line, Option<Confirmation>)],
    skipped: &[Skipped],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    sheet.set_freeze_panes(1, 2)?;
    for (c, width) in [
        (1u16, 24.0),
        (2, 28.0),
        (5, 24.0),
        (15, 30.0),
        (16, 48.0),
        (17, 48.0),
    ] {
        sheet.set_column_width(c, width)?;
    }
    for (i, (line, confirmed)) in lines.iter().enumerate() {
        let row = (i + 1) as u32;
        // Text cells are written only when there is text: an empty one reads back as blank.
        let mut put = |column: u16, text: &str, format: Option<&Format>| {
            if text.is_empty() {
                return Ok(());
            }
            match format {
                Some(f) => sheet.write_string_with_format(row, column, text, f),
                None => sheet.write_string(row, column, text),
            }
            .map(|_| ())
        };
        put(0, line.school_code.as_deref().unwrap_or(""), None)?;
        put(1, line.school.as_deref().unwrap_or(""), None)?;
        put(2, &line.file, None)?;
        if let Some(c) = confirmed {
            put(4, &c.grade, None)?;
            put(5, &c.note, Some(&wrap))?;
            put(6, &c.by, None)?;
            put(7, &c.at, None)?;
        }
        let Some(a) = &line.assessment else {
            let why = format!("无法读取：{}", line.unreadable.as_deref().unwrap_or(""));
            put(17, &why, Some(&wrap))?;
            continue;
        };
        put(3, &a.grade, None)?;
        let mut missing = Vec::new();
        if !a.missing_parts.is_empty() {
            missing.push(format!("章节：{}", a.missing_parts.join("、")));
        }
        if !a.missing_tables.is_empty() {
            missing.push(format!("表格：{}", a.missing_tables.join("、")));
        }
        put(15, &missing.join("；"), Some(&wrap))?;
        put(16, &a.differing.join("；"), Some(&wrap))?;
        put(17, &a.error_messages.join("；"), Some(&wrap))?;
        let mut counts = vec![
            (8, a.errors),
            (9, a.warnings),
            (10, a.missing_parts.len()),
            (11, a.missing_tables.len()),
        ];
        if a.compared {
            counts.extend([
                (12, a.differing.len()),
                (13, a.agreeing),
                (14, a.not_in_data),
            ]);
        }
        for (column, n) in counts {
            sheet.write_number(row, column, n as f64)?;
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name(SKIPPED_SHEET)?;
    sheet.write_string_with_format(0, 0, "文件", &bold)?;
    sheet.write_string_with_format(0, 1, "未审核的原因", &bold)?;
    sheet.set_column_width(0, 32.0)?;
    sheet.set_column_width(1, 40.0)?;
    for (i, s) in skipped.iter().enumerate() {
        sheet.write_string((i + 1) as u32, 0, &s.name)?;
        sheet.write_string((i + 1) as u32, 1, &s.reason)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn summary(grade: &str, compared: bool) -> Summary {
        Summary {
            errors: 2,
            warnings: 1,
            error_messages: vec!["合计与分项之和不符".into(), "比例超过 100%".into()],
            missing_parts: vec!["面临挑战".into()],
            missing_tables: vec![],
            compared,
            agreeing: 5,
            differing: vec![
                "2025年在校生人数合计：报告写 1,300人（第 4 行），报送数据为 1,200".into(),
            ],
            not_in_data: 3,
            grade: grade.into(),
        }
    }

    fn cell(sheet: &calamine::Range<Data>, row: u32, column: &str) -> Data {
        let c = COLUMNS.iter().position(|n| *n == column).unwrap() as u32;
        sheet.get_value((row, c)).cloned().unwrap_or(Data::Empty)
    }

    #[test]
    fn the_workbook_reads_back_with_its_chinese_columns_counts_and_confirmations() {
        let lines = vec![
            (
                Line {
                    file: "报告/S1-年报.txt".into(),
                    school_code: Some("S1".into()),
                    school: Some("东城职校".into()),
                    unreadable: None,
                    assessment: Some(summary("B", true)),
                },
                Some(Confirmation {
                    grade: "C".into(),
                    note: "在校生人数须更正".into(),
                    by: "区教育局审核员".into(),
                    at: "2026-03-01 10:00".into(),
                }),
            ),
            (
                Line {
                    file: "别校.txt".into(),
                    school_code: None,
                    school: None,
                    unreadable: None,
                    assessment: Some(summary("A", false)),
                },
                None,
            ),
            (
                Line {
                    file: "坏文件.pdf".into(),
                    school_code: None,
                    school: None,
                    unreadable: Some("PDF 已加密".into()),
                    assessment: None,
                },
                None,
            ),
        ];
        let skipped = vec![Skipped {
            name: "汇总表.xlsx".into(),
            reason: "不是报告文件".into(),
        }];
        let bytes = workbook(&lines, &skipped).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec![SHEET, SKIPPED_SHEET]);
        let sheet = book.worksheet_range(SHEET).unwrap();
        let header: Vec<String> = (0..COLUMNS.len() as u32)
            .map(|c| sheet.get_value((0, c)).unwrap().to_string())
            .collect();
        assert_eq!(header, COLUMNS);
        assert_eq!(sheet.height(), 4);
        assert_eq!(cell(&sheet, 1, "学校"), Data::String("东城职校".into()));
        assert_eq!(cell(&sheet, 1, "预评等级"), Data::String("B".into()));
        assert_eq!(cell(&sheet, 1, "确认等级"), Data::String("C".into()));
        assert_eq!(
            cell(&sheet, 1, "审核意见"),
            Data::String("在校生人数须更正".into())
        );
        assert_eq!(cell(&sheet, 1, "错误"), Data::Float(2.0));
        assert_eq!(cell(&sheet, 1, "缺少章节"), Data::Float(1.0));
        assert_eq!(cell(&sheet, 1, "缺少表格"), Data::Float(0.0));
        assert_eq!(cell(&sheet, 1, "与报送数据不一致"), Data::Float(1.0));
        assert_eq!(cell(&sheet, 1, "与报送数据一致"), Data::Float(5.0));
        assert!(
            cell(&sheet, 1, "不一致的数字")
                .to_string()
                .contains("报送数据为 1,200")
        );
        // Not compared: the comparison's counts stay empty, the others are there.
        assert_eq!(cell(&sheet, 2, "与报送数据不一致"), Data::Empty);
        assert_eq!(cell(&sheet, 2, "警告"), Data::Float(1.0));
        assert_eq!(cell(&sheet, 2, "确认等级"), Data::Empty);
        // Unreadable: no counts, the reason in the last column.
        assert_eq!(cell(&sheet, 3, "错误"), Data::Empty);
        assert_eq!(
            cell(&sheet, 3, "错误与无法读取的原因"),
            Data::String("无法读取：PDF 已加密".into())
        );
        let left_out = book.worksheet_range(SKIPPED_SHEET).unwrap();
        assert_eq!(
            left_out.get_value((1, 0)),
            Some(&Data::String("汇总表.xlsx".into()))
        );
    }

    #[test]
    fn a_line_kept_before_this_type_existed_still_reads() {
        // The web app kept each line as this JSON before the type was shared.
        let kept = r#"{"file":"a.txt","school_code":"S1","school":"东城职校","unreadable":null,
            "assessment":{"errors":0,"warnings":2,"error_messages":[],"missing_parts":[],
            "missing_tables":["学生情况"],"compared":true,"agreeing":4,"differing":[],
            "not_in_data":1,"grade":"A"}}"#;
        let line: Line = serde_json::from_str(kept).unwrap();
        let a = line.assessment.unwrap();
        assert_eq!((a.warnings, a.agreeing, a.grade.as_str()), (2, 4, "A"));
        assert_eq!(a.missing_tables, vec!["学生情况"]);
    }
}
