//! Writing a section's template, or a whole year's workbook, with rust_xlsxwriter.

use nianbao_core::{Dataset, Definitions, FactKey, ValueKind, Year};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, DocProperties, Format, FormatAlign, FormatBorder,
    ProtectionOptions, Workbook, Worksheet,
};

use crate::base::write_base_sheet;
use crate::error::{ScopeError, XlsxError};
use crate::layout::{
    HEADER_ROW, INSTRUCTIONS, MAJOR_LABELS, NOTE_ROW, Plan, SCHOOL_LABELS, TITLE_ROW,
    element_header, expected, text_width, year_header,
};
use crate::{TemplateScope, WorkbookScope};

type WriteResult<T> = Result<T, rust_xlsxwriter::XlsxError>;

const LABEL_GREY: u32 = 0xE7E6E6;
const HEADER_GREY: u32 = 0xD0CECE;

/// The cell formats of a template.
struct Styles {
    title: Format,
    note: Format,
    header: Format,
    label: Format,
    label_centered: Format,
    label_year: Format,
    input_count: Format,
    input_number: Format,
}

impl Styles {
    fn new() -> Styles {
        let bordered = Format::new()
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xA6A6A6))
            .set_align(FormatAlign::VerticalCenter);
        let label = bordered
            .clone()
            .set_background_color(Color::RGB(LABEL_GREY))
            .set_locked();
        let input = bordered
            .clone()
            .set_background_color(Color::White)
            .set_unlocked();
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter),
            note: Format::new()
                .set_text_wrap()
                .set_font_color(Color::RGB(0x595959))
                .set_align(FormatAlign::Top),
            header: bordered
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_background_color(Color::RGB(HEADER_GREY))
                .set_align(FormatAlign::Center)
                .set_locked(),
            label_centered: label.clone().set_align(FormatAlign::Center),
            label_year: label
                .clone()
                .set_align(FormatAlign::Center)
                .set_num_format_index(1),
            label,
            input_count: input.clone().set_num_format_index(1),
            input_number: input,
        }
    }

    fn input(&self, kind: ValueKind) -> &Format {
        match kind {
            ValueKind::Count => &self.input_count,
            _ => &self.input_number,
        }
    }
}

/// Writes the template of one section: its school-level sheet, and its per-major sheet when
/// the section has per-major elements and the scope has majors; and the hidden sheet of the
/// values it was made from.
pub fn write_template(
    defs: &Definitions,
    data: &Dataset,
    scope: &TemplateScope,
) -> Result<Vec<u8>, XlsxError> {
    let workbook = WorkbookScope::from(scope);
    let plan = Plan::new(defs, &workbook.sections[0], &workbook.years)?;
    let title = plan.title_text(&data.school.name, "");
    write_plans(data, &[plan], &workbook.years, title)
}

/// Writes one workbook for the whole year: the sheets of every section of the scope that has
/// something to fill in, in the scope's order, as the sections' templates have them; and the
/// hidden sheet of the values it was made from.
pub fn write_workbook(
    defs: &Definitions,
    data: &Dataset,
    scope: &WorkbookScope,
) -> Result<Vec<u8>, XlsxError> {
    let mut plans = Vec::new();
    for section in &scope.sections {
        match Plan::new(defs, section, &scope.years) {
            Ok(plan) => plans.push(plan),
            Err(ScopeError::NothingToFill(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    if plans.is_empty() {
        return Err(ScopeError::EmptyWorkbook.into());
    }
    let title = workbook_title(&data.school.name, &plans[0].years);
    write_plans(data, &plans, &scope.years, title)
}

/// "示例学校 数据填报工作簿（2023年、2024年、2025年）"
fn workbook_title(school: &str, years: &[Year]) -> String {
    let years: Vec<String> = years.iter().map(|y| year_header(*y)).collect();
    format!("{} 数据填报工作簿（{}）", school.trim(), years.join("、"))
        .trim_start()
        .to_string()
}

fn write_plans(
    data: &Dataset,
    plans: &[Plan],
    years: &[Year],
    title: String,
) -> Result<Vec<u8>, XlsxError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_company(data.school.name.clone()),
    );
    let mut keys = Vec::new();
    for plan in plans {
        if plan.has_school_sheet() {
            write_school_sheet(workbook.add_worksheet(), plan, data, &styles, &mut keys)?;
        }
        if plan.has_major_sheet() {
            write_major_sheet(workbook.add_worksheet(), plan, data, &styles, &mut keys)?;
        }
    }
    let mut years = years.to_vec();
    years.sort_unstable();
    years.dedup();
    write_base_sheet(workbook.add_worksheet(), data, &years, &keys)?;
    Ok(workbook.save_to_buffer()?)
}

/// Title, instructions and header rows common to both sheets, and the column widths. The
/// title and instructions span every column and wrap; their rows are made tall enough.
fn write_heading(
    sheet: &mut Worksheet,
    styles: &Styles,
    title: &str,
    note: &str,
    headers: &[String],
    widths: &[f64],
) -> WriteResult<()> {
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    let total: f64 = widths.iter().sum();
    let lines = |text: &str, scale: f64| (text_width(text) * scale / total).ceil().max(1.0);
    let last_col = (headers.len() as u16).saturating_sub(1).max(1);
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, title, &styles.title)?;
    sheet.set_row_height(TITLE_ROW, lines(title, 1.1 * 14.0 / 11.0) * 20.0 + 6.0)?;
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, last_col, note, &styles.note)?;
    sheet.set_row_height(NOTE_ROW, lines(note, 1.1) * 16.0 + 6.0)?;
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, col as u16, header, &styles.header)?;
    }
    sheet.set_row_height(HEADER_ROW, 30)?;
    Ok(())
}

/// Locks label cells, leaves input cells open; no password, and columns and rows may still be
/// resized.
fn protect(sheet: &mut Worksheet) {
    sheet.protect_with_options(&ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    });
}

/// Prints landscape on A4, one page wide, with the header rows repeated on every page.
fn set_up_printing(sheet: &mut Worksheet) -> WriteResult<()> {
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(TITLE_ROW, HEADER_ROW)?;
    Ok(())
}

/// Excel's own check of what may be typed into a cell of this kind.
fn validation(kind: ValueKind) -> WriteResult<Option<DataValidation>> {
    let rule = match kind {
        ValueKind::Count => {
            DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        }
        ValueKind::Amount | ValueKind::Ratio => DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0)),
        ValueKind::Percent => {
            DataValidation::new().allow_decimal_number(DataValidationRule::Between(0.0, 100.0))
        }
        ValueKind::Change => return Ok(None),
    };
    Ok(Some(rule.set_error_title("输入有误")?.set_error_message(
        format!("请填写{}，不要填写单位或文字。", expected(kind)),
    )?))
}

fn column_width(texts: impl Iterator<Item = f64>, min: f64, max: f64) -> f64 {
    (texts.fold(0.0, f64::max) + 2.0).clamp(min, max)
}

fn write_school_sheet(
    sheet: &mut Worksheet,
    plan: &Plan,
    data: &Dataset,
    styles: &Styles,
    keys: &mut Vec<FactKey>,
) -> WriteResult<()> {
    sheet.set_name(plan.school_sheet_name())?;
    let mut headers: Vec<String> = SCHOOL_LABELS.iter().map(|s| s.to_string()).collect();
    headers.extend(plan.years.iter().map(|y| year_header(*y)));
    let names = plan.school.iter().map(|e| text_width(&e.name));
    let codes = plan.school.iter().map(|e| text_width(&e.code));
    let mut widths = vec![
        column_width(names, 14.0, 44.0),
        column_width(codes, 10.0, 44.0),
        8.0,
    ];
    widths.extend(plan.years.iter().map(|_| 13.0));
    write_heading(
        sheet,
        styles,
        &plan.title_text(&data.school.name, ""),
        INSTRUCTIONS,
        &headers,
        &widths,
    )?;
    let first_year_col = SCHOOL_LABELS.len() as u16;
    let last_year_col = first_year_col + plan.years.len() as u16 - 1;
    for (i, element) in plan.school.iter().enumerate() {
        let row = HEADER_ROW + 1 + i as u32;
        sheet.write_string_with_format(row, 0, &element.name, &styles.label)?;
        sheet.write_string_with_format(row, 1, &element.code, &styles.label)?;
        sheet.write_string_with_format(row, 2, &element.unit, &styles.label_centered)?;
        let format = styles.input(element.kind);
        for (j, year) in plan.years.iter().enumerate() {
            let col = first_year_col + j as u16;
            keys.push(FactKey::school(*year, element.code.clone()));
            match data.value(*year, &element.code) {
                Some(value) => sheet.write_number_with_format(row, col, value, format)?,
                None => sheet.write_blank(row, col, format)?,
            };
        }
        if let Some(rule) = validation(element.kind)? {
            sheet.add_data_validation(row, first_year_col, row, last_year_col, &rule)?;
        }
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, first_year_col)?;
    set_up_printing(sheet)?;
    protect(sheet);
    Ok(())
}

fn write_major_sheet(
    sheet: &mut Worksheet,
    plan: &Plan,
    data: &Dataset,
    styles: &Styles,
    keys: &mut Vec<FactKey>,
) -> WriteResult<()> {
    sheet.set_name(plan.major_sheet_name())?;
    let mut headers: Vec<String> = MAJOR_LABELS.iter().map(|s| s.to_string()).collect();
    headers.extend(plan.major.iter().map(|e| element_header(e)));
    let note = format!("{INSTRUCTIONS}本表每个专业每年一行，只列出您可以填报的专业。");
    let names = plan.majors.iter().map(|m| text_width(&m.name));
    let mut widths = vec![column_width(names, 14.0, 36.0), 8.0];
    widths.extend(
        plan.major
            .iter()
            .map(|e| column_width([text_width(&element_header(e))].into_iter(), 12.0, 30.0)),
    );
    write_heading(
        sheet,
        styles,
        &plan.title_text(&data.school.name, "分专业"),
        &note,
        &headers,
        &widths,
    )?;
    let first_col = MAJOR_LABELS.len() as u16;
    let rows = (plan.majors.len() * plan.years.len()) as u32;
    let mut row = HEADER_ROW + 1;
    for major in &plan.majors {
        for year in &plan.years {
            sheet.write_string_with_format(row, 0, &major.name, &styles.label)?;
            sheet.write_number_with_format(row, 1, year.get(), &styles.label_year)?;
            for (j, element) in plan.major.iter().enumerate() {
                let col = first_col + j as u16;
                let format = styles.input(element.kind);
                keys.push(FactKey::major(
                    *year,
                    element.code.clone(),
                    major.name.clone(),
                ));
                match data.major_value(*year, &element.code, &major.name) {
                    Some(value) => sheet.write_number_with_format(row, col, value, format)?,
                    None => sheet.write_blank(row, col, format)?,
                };
            }
            row += 1;
        }
    }
    for (j, element) in plan.major.iter().enumerate() {
        let col = first_col + j as u16;
        if let Some(rule) = validation(element.kind)? {
            let first = HEADER_ROW + 1;
            sheet.add_data_validation(first, col, first + rows - 1, col, &rule)?;
        }
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, first_col)?;
    set_up_printing(sheet)?;
    protect(sheet);
    Ok(())
}
