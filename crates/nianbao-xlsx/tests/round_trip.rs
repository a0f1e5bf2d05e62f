//! Templates written from the sample school read back as the values they were written with,
//! and edits made in them are read as a person means them or refused with their place.

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::*;
use nianbao_core::{Dimension, FactKey, Year};
use nianbao_xlsx::{CellValue, Limits, MAX_CELL_ERRORS, UploadError, read_upload, write_template};

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

fn read(bytes: &[u8], scope: &nianbao_xlsx::TemplateScope) -> Result<Vec<CellValue>, UploadError> {
    read_upload(bytes, defs(), scope, &Limits::default()).map(|upload| upload.cells)
}

fn cell_errors(result: Result<Vec<CellValue>, UploadError>) -> Vec<nianbao_xlsx::CellError> {
    match result {
        Err(UploadError::Cells(cells)) => cells,
        other => panic!("expected cell errors, got {other:?}"),
    }
}

fn value_of(values: &[CellValue], key: &FactKey) -> Option<f64> {
    values
        .iter()
        .find(|v| &v.key == key)
        .unwrap_or_else(|| panic!("no value read for {key:?}"))
        .value
}

#[test]
fn an_untouched_template_reads_back_the_dataset() {
    let data = sample();
    for section in ["1.4", "1.5"] {
        let scope = office_scope(section, data);
        let bytes = write_template(defs(), data, &scope).unwrap();
        let values = read(&bytes, &scope).unwrap();
        let school = defs()
            .elements
            .iter()
            .filter(|e| e.section == section && e.dimension == Dimension::School)
            .count();
        let major = defs()
            .elements
            .iter()
            .filter(|e| e.section == section && e.dimension == Dimension::Major)
            .count();
        assert_eq!(
            values.len(),
            (school + major * data.majors.len()) * scope.years.len(),
            "section {section}"
        );
        for value in &values {
            assert_eq!(
                value.value,
                data.facts.get(&value.key).copied(),
                "{:?}",
                value.key
            );
        }
    }
    // Spot checks against the sample's files.
    let scope = office_scope("1.5", data);
    let values = read(&write_template(defs(), data, &scope).unwrap(), &scope).unwrap();
    assert_eq!(
        value_of(
            &values,
            &FactKey::major(year(2024), "major.intake", "会计事务")
        ),
        Some(271.0)
    );
    assert_eq!(
        value_of(
            &values,
            &FactKey::major(year(2025), "major.graduates", "电子商务")
        ),
        Some(78.0)
    );
}

#[test]
fn every_section_with_elements_has_a_template_that_reads_back() {
    let data = sample();
    for section in &defs().sections {
        // Figures computed from a register are never entered.
        if !defs()
            .elements
            .iter()
            .any(|e| e.section == section.number && !e.is_computed())
        {
            continue;
        }
        let scope = office_scope(&section.number, data);
        let bytes = write_template(defs(), data, &scope).unwrap();
        let values =
            read(&bytes, &scope).unwrap_or_else(|e| panic!("section {}: {e}", section.number));
        assert!(!values.is_empty(), "section {}", section.number);
    }
}

#[test]
fn a_section_without_elements_or_an_unknown_one_has_no_template() {
    let data = sample();
    let err = write_template(defs(), data, &office_scope("9.9", data)).unwrap_err();
    assert!(err.to_string().contains("9.9"), "{err}");
    let empty = defs()
        .sections
        .iter()
        .find(|s| !defs().elements.iter().any(|e| e.section == s.number))
        .expect("some section has only text");
    let err = write_template(defs(), data, &office_scope(&empty.number, data)).unwrap_err();
    assert!(err.to_string().contains("没有可以填报的数据项"), "{err}");
    // A section whose only figures are computed from a register has nothing to enter.
    let err = write_template(defs(), data, &office_scope("2.6", data)).unwrap_err();
    assert!(err.to_string().contains("没有可以填报的数据项"), "{err}");
}

#[test]
fn the_template_is_laid_out_for_people() {
    let data = sample();
    let scope = office_scope("1.5", data);
    let bytes = write_template(defs(), data, &scope).unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["1.5 学生规模", "1.5 分专业", nianbao_xlsx::BASE_SHEET]
    );
    let visible: Vec<_> = book
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible))
        .collect();
    assert_eq!(
        visible[2].1,
        calamine::SheetVisible::VeryHidden,
        "{visible:?}"
    );

    let school = book.worksheet_range("1.5 学生规模").unwrap();
    let text = |range: &calamine::Range<Data>, row: u32, col: u32| {
        range
            .get_value((row, col))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let title = text(&school, 0, 0);
    assert!(title.contains(&data.school.name), "{title}");
    assert!(title.contains("1.5 学生规模"), "{title}");
    assert!(
        text(&school, 1, 0).contains("请在白色单元格中填写，灰色单元格请勿修改；留空表示不填报")
    );
    let header: Vec<String> = (0..6).map(|c| text(&school, 2, c)).collect();
    assert_eq!(
        header,
        ["项目", "代码", "单位", "2023年", "2024年", "2025年"]
    );
    assert_eq!(text(&school, 3, 0), "招生人数合计");
    assert_eq!(text(&school, 3, 1), "students.intake_total");
    assert_eq!(text(&school, 3, 2), "人");

    let major = book.worksheet_range("1.5 分专业").unwrap();
    let header: Vec<String> = (0..5).map(|c| text(&major, 2, c)).collect();
    assert_eq!(
        header,
        [
            "专业名称",
            "年份",
            "招生人数（人）",
            "在校生人数（人）",
            "毕业生人数（人）"
        ]
    );
    assert_eq!(text(&major, 3, 0), "会计事务");
    assert_eq!(text(&major, 3, 1), "2023");
    assert_eq!(text(&major, 3, 2), "246");

    // Label cells are locked on a protected sheet; input cells are not; counts show whole.
    let sheet1 = String::from_utf8(unzip(&bytes, "xl/worksheets/sheet1.xml")).unwrap();
    assert!(
        sheet1.contains("<sheetProtection"),
        "sheet is not protected"
    );
    assert!(sheet1.contains("<dataValidation"), "no data validation");
    assert!(sheet1.contains("<cols>"), "no column widths");
    let styles = String::from_utf8(unzip(&bytes, "xl/styles.xml")).unwrap();
    assert!(styles.contains(r#"locked="0""#), "no unlocked input cells");
    assert!(
        styles.contains(r#"numFmtId="1""#),
        "no integer format for counts"
    );
}

fn unzip(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut entry = archive.by_name(name).unwrap();
    let mut out = Vec::new();
    entry.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn a_department_template_lists_only_its_majors() {
    let data = sample();
    let scope = department_scope("1.5", data, "现代服务部");
    assert!(!scope.majors.is_empty() && scope.majors.len() < data.majors.len());
    let bytes = write_template(defs(), data, &scope).unwrap();
    let values = read(&bytes, &scope).unwrap();
    for value in &values {
        if let Some(major) = &value.key.major {
            assert_eq!(data.major(major).unwrap().department, "现代服务部");
        }
    }
    assert!(
        values
            .iter()
            .any(|v| v.key.major.as_deref() == Some("会计事务"))
    );
}

#[test]
fn bad_values_are_refused_with_sheet_row_and_column() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let total = school_row("1.4", "staff.total");
    let share = school_row("1.4", "staff.dual.senior_share");
    let edited = edit_sheet(&template, 1, |xml| {
        let xml = set_cell(&xml, &format!("D{total}"), &Put::Number(12.5));
        let xml = set_cell(&xml, &format!("E{total}"), &Put::Text("12人"));
        let xml = set_cell(&xml, &format!("F{total}"), &Put::Text("abc"));
        set_cell(&xml, &format!("F{share}"), &Put::Number(120.0))
    });
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), 4, "{errors:#?}");
    let first = &errors[0];
    assert_eq!(first.sheet, "1.4 师资队伍");
    assert_eq!(first.row, total);
    assert_eq!(first.column, "D");
    assert_eq!(
        first.to_string(),
        format!("「1.4 师资队伍」工作表 D{total} 单元格：应为不小于 0 的整数，实际为「12.5」")
    );
    assert_eq!(errors[1].column, "E");
    assert!(errors[1].message.contains("「12人」"), "{}", errors[1]);
    assert!(errors[2].message.contains("「abc」"), "{}", errors[2]);
    assert_eq!((errors[3].row, errors[3].column.as_str()), (share, "F"));
    assert!(
        errors[3].message.contains("介于 0 到 100 之间的数"),
        "{}",
        errors[3]
    );
}

#[test]
fn blank_cells_mean_no_value_and_typed_numbers_are_read() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let total = school_row("1.4", "staff.total");
    let external = school_row("1.4", "staff.external");
    assert!(data.value(year(2025), "staff.total").is_some());
    let edited = edit_sheet(&template, 1, |xml| {
        let xml = set_cell(&xml, &format!("F{total}"), &Put::Blank);
        let xml = set_cell(&xml, &format!("E{total}"), &Put::Text("  "));
        let xml = set_cell(&xml, &format!("D{total}"), &Put::Text(" 321 "));
        set_cell(&xml, &format!("F{external}"), &Put::Number(7.0))
    });
    let values = read(&edited, &scope).unwrap();
    assert_eq!(
        value_of(&values, &FactKey::school(year(2025), "staff.total")),
        None
    );
    assert_eq!(
        value_of(&values, &FactKey::school(year(2024), "staff.total")),
        None
    );
    assert_eq!(
        value_of(&values, &FactKey::school(year(2023), "staff.total")),
        Some(321.0)
    );
    assert_eq!(
        value_of(&values, &FactKey::school(year(2025), "staff.external")),
        Some(7.0)
    );
}

#[test]
fn formulas_count_by_their_cached_result_and_are_refused_without_one() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let total = school_row("1.4", "staff.total");
    let edited = edit_sheet(&template, 1, |xml| {
        let xml = set_cell(
            &xml,
            &format!("D{total}"),
            &Put::Calculated("100+23", 123.0),
        );
        set_cell(&xml, &format!("E{total}"), &Put::Formula("100+24"))
    });
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].column, "E");
    assert!(errors[0].message.contains("公式"), "{}", errors[0]);

    let edited = edit_sheet(&template, 1, |xml| {
        set_cell(
            &xml,
            &format!("D{total}"),
            &Put::Calculated("100+23", 123.0),
        )
    });
    let values = read(&edited, &scope).unwrap();
    assert_eq!(
        value_of(&values, &FactKey::school(year(2023), "staff.total")),
        Some(123.0)
    );
}

#[test]
fn a_major_outside_the_scope_is_refused_not_ignored() {
    let data = sample();
    let scope = department_scope("1.5", data, "现代服务部");
    let template = write_template(defs(), data, &scope).unwrap();
    let next = 4 + (scope.majors.len() * scope.years.len()) as u32;
    let edited = edit_sheet(&template, 2, |xml| {
        add_row(
            &xml,
            next,
            &[
                ("A", Put::Text("数控技术应用")),
                ("B", Put::Number(2025.0)),
                ("C", Put::Number(10.0)),
            ],
        )
    });
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].sheet, "1.5 分专业");
    assert_eq!((errors[0].row, errors[0].column.as_str()), (next, "A"));
    assert!(errors[0].message.contains("数控技术应用"), "{}", errors[0]);

    // A repeated major and year, and a year outside the template, are refused too.
    let edited = edit_sheet(&template, 2, |xml| {
        let xml = add_row(
            &xml,
            next,
            &[("A", Put::Text("会计事务")), ("B", Put::Number(2025.0))],
        );
        add_row(
            &xml,
            next + 1,
            &[
                ("A", Put::Text("会计事务")),
                ("B", Put::Text("2019年")),
                ("C", Put::Number(1.0)),
            ],
        )
    });
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].message.contains("重复"), "{}", errors[0]);
    assert_eq!(errors[1].column, "B");
}

#[test]
fn a_changed_code_or_header_is_refused() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let total = school_row("1.4", "staff.total");
    let edited = edit_sheet(&template, 1, |xml| {
        set_cell(
            &xml,
            &format!("B{total}"),
            &Put::Text("students.intake_total"),
        )
    });
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!((errors[0].row, errors[0].column.as_str()), (total, "B"));
    assert!(
        errors[0].message.contains("students.intake_total"),
        "{}",
        errors[0]
    );

    let edited = edit_sheet(&template, 1, |xml| {
        set_cell(&xml, "E3", &Put::Text("2026年"))
    });
    let errors = cell_errors(read(&edited, &scope));
    assert!(
        errors
            .iter()
            .any(|e| e.column == "E" && e.row == 3 && e.message.contains("2026年")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("缺少「2024年」列")),
        "{errors:#?}"
    );
}

#[test]
fn a_template_of_another_section_is_refused() {
    let data = sample();
    let bytes = write_template(defs(), data, &office_scope("1.2", data)).unwrap();
    let err = read(&bytes, &office_scope("1.4", data)).unwrap_err();
    assert!(matches!(err, UploadError::MissingSheet { .. }), "{err:?}");
    assert!(err.to_string().contains("1.4 师资队伍"), "{err}");
}

#[test]
fn a_percentage_typed_with_its_sign_is_read_as_shown() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let share = format!("F{}", school_row("1.4", "staff.dual.senior_share"));
    let total = school_row("1.4", "staff.total");
    // Excel stores "85.5%" as 0.855 with a percent number format.
    let edited = with_percent_cells(&template, &[(&share, 0.855), (&format!("F{total}"), 0.5)]);
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].row, errors[0].column.as_str()), (total, "F"));
    assert!(errors[0].message.contains("50%"), "{}", errors[0]);

    let edited = with_percent_cells(&template, &[(&share, 0.855)]);
    let values = read(&edited, &scope).unwrap();
    assert_eq!(
        value_of(
            &values,
            &FactKey::school(year(2025), "staff.dual.senior_share")
        ),
        Some(85.5)
    );
}

/// The template with the given cells of its first sheet set to numbers shown as percentages
/// (Excel's built-in format 10, "0.00%").
fn with_percent_cells(template: &[u8], cells: &[(&str, f64)]) -> Vec<u8> {
    const OPEN: &str = "<cellXfs count=\"";
    let styles = String::from_utf8(unzip(template, "xl/styles.xml")).unwrap();
    let start = styles.find(OPEN).unwrap() + OPEN.len();
    let end = start + styles[start..].find('"').unwrap();
    let index: usize = styles[start..end].parse().unwrap();
    edit_entries(template, |name, text| match name {
        "xl/styles.xml" => {
            let text = format!("{}{}{}", &text[..start], index + 1, &text[end..]);
            text.replacen(
                "</cellXfs>",
                r#"<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>"#,
                1,
            )
        }
        "xl/worksheets/sheet1.xml" => {
            let mut xml = text;
            for (reference, value) in cells {
                xml = set_cell(&xml, reference, &Put::Number(*value));
                let at = xml.find(&format!(r#"<c r="{reference}""#)).unwrap();
                let tag_end = at + xml[at..].find('>').unwrap();
                let tag = xml[at..tag_end].to_string();
                let plain: String = tag
                    .split(' ')
                    .filter(|a| !a.starts_with("s="))
                    .collect::<Vec<_>>()
                    .join(" ");
                xml = format!("{}{plain} s=\"{index}\"{}", &xml[..at], &xml[tag_end..]);
            }
            xml
        }
        _ => text,
    })
}

#[test]
fn errors_are_collected_up_to_the_limit() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let rows = defs()
        .elements
        .iter()
        .filter(|e| e.section == "1.4" && e.dimension == Dimension::School)
        .count() as u32;
    let edited = edit_sheet(&template, 1, |mut xml| {
        for row in 4..4 + rows {
            for col in ["D", "E", "F"] {
                xml = set_cell(&xml, &format!("{col}{row}"), &Put::Text("?"));
            }
        }
        xml
    });
    assert!(rows * 3 > MAX_CELL_ERRORS as u32);
    let errors = cell_errors(read(&edited, &scope));
    assert_eq!(errors.len(), MAX_CELL_ERRORS);
}

#[test]
fn a_workbook_built_by_another_program_is_read_by_its_headers() {
    // A person may rebuild the sheet by hand: same headers, rows in another order.
    let data = sample();
    let scope = office_scope("1.4", data);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("1.4 师资队伍").unwrap();
    sheet.write_string(0, 0, "自制表格").unwrap();
    for (col, header) in ["项目", "代码", "单位", "2025年", "2023年", "2024年"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, col as u16, *header).unwrap();
    }
    sheet.write_string(3, 1, "staff.external").unwrap();
    sheet.write_number(3, 3, 40).unwrap();
    sheet.write_string(4, 1, "staff.total").unwrap();
    sheet.write_number(4, 3, 500).unwrap();
    sheet.write_string(4, 4, "480").unwrap();
    sheet.write_number(4, 5, -1).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let errors = cell_errors(read(&bytes, &scope));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].row, errors[0].column.as_str()), (5, "F"));
    assert!(errors[0].message.contains("「-1」"), "{}", errors[0]);

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("1.4 师资队伍（副本）").unwrap();
    for (col, header) in ["项目", "代码", "单位", "2023年", "2024年", "2025年"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, col as u16, *header).unwrap();
    }
    sheet.write_string(3, 1, "staff.total").unwrap();
    sheet.write_number(3, 5, 500).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let values = read(&bytes, &scope).unwrap();
    let cell = |y: i64, value: Option<f64>, cell: &str| CellValue {
        key: FactKey::school(year(y), "staff.total"),
        value,
        sheet: "1.4 师资队伍（副本）".into(),
        cell: cell.into(),
    };
    assert_eq!(
        values,
        vec![
            cell(2023, None, "D4"),
            cell(2024, None, "E4"),
            cell(2025, Some(500.0), "F4"),
        ]
    );
}
