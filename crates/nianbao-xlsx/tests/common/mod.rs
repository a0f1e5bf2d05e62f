//! Shared fixtures: the sample school, scopes, and editing a template's XML as Excel would.

#![allow(dead_code)]

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use nianbao_core::{Dataset, Definitions, Dimension, Major, Year};
use nianbao_xlsx::TemplateScope;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

pub fn defs() -> &'static Definitions {
    static DEFS: OnceLock<Definitions> = OnceLock::new();
    DEFS.get_or_init(|| Definitions::builtin().unwrap())
}

pub fn sample() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
        nianbao_io::read_dataset(&dir, defs()).unwrap()
    })
}

pub fn years(data: &Dataset) -> Vec<Year> {
    let last = data.school.report_year.get() as i64;
    (last - 2..=last).map(|y| Year::new(y).unwrap()).collect()
}

/// The scope of a quality-office user: every major.
pub fn office_scope<'a>(section: &'a str, data: &'a Dataset) -> TemplateScope<'a> {
    TemplateScope {
        section,
        years: years(data),
        majors: data.majors.iter().collect(),
    }
}

/// The scope of a department editor: only the department's majors.
pub fn department_scope<'a>(
    section: &'a str,
    data: &'a Dataset,
    department: &str,
) -> TemplateScope<'a> {
    TemplateScope {
        section,
        years: years(data),
        majors: data
            .majors
            .iter()
            .filter(|m| m.department == department)
            .collect::<Vec<&Major>>(),
    }
}

/// The 1-based row of a school-level element in its section's template.
pub fn school_row(section: &str, code: &str) -> u32 {
    let index = defs()
        .elements
        .iter()
        .filter(|e| e.section == section && e.dimension == Dimension::School)
        .position(|e| e.code == code)
        .unwrap();
    4 + index as u32
}

/// What to put into a cell.
#[derive(Debug, Clone)]
pub enum Put<'a> {
    Number(f64),
    Text(&'a str),
    Blank,
    /// A formula without a cached result, as a program that cannot calculate writes it.
    Formula(&'a str),
    /// A formula with the result Excel cached when saving.
    Calculated(&'a str, f64),
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The XML of one cell, keeping its style.
pub fn cell_xml(reference: &str, style: &str, put: &Put) -> String {
    match put {
        Put::Number(n) => format!(r#"<c r="{reference}"{style}><v>{n}</v></c>"#),
        Put::Text(t) => format!(
            r#"<c r="{reference}"{style} t="inlineStr"><is><t>{}</t></is></c>"#,
            escape(t)
        ),
        Put::Blank => format!(r#"<c r="{reference}"{style}/>"#),
        Put::Formula(f) => format!(r#"<c r="{reference}"{style}><f>{}</f></c>"#, escape(f)),
        Put::Calculated(f, v) => format!(
            r#"<c r="{reference}"{style}><f>{}</f><v>{v}</v></c>"#,
            escape(f)
        ),
    }
}

/// Replaces the cell `reference` (e.g. "D7") of a worksheet's XML.
pub fn set_cell(xml: &str, reference: &str, put: &Put) -> String {
    let start = xml
        .find(&format!(r#"<c r="{reference}""#))
        .unwrap_or_else(|| panic!("no cell {reference}"));
    let tag_end = start + xml[start..].find('>').unwrap();
    let (end, open_tag) = if xml.as_bytes()[tag_end - 1] == b'/' {
        (tag_end + 1, &xml[start..tag_end - 1])
    } else {
        (
            start + xml[start..].find("</c>").unwrap() + "</c>".len(),
            &xml[start..tag_end],
        )
    };
    let style = open_tag
        .split_whitespace()
        .find(|a| a.starts_with("s="))
        .map(|a| format!(" {a}"))
        .unwrap_or_default();
    format!(
        "{}{}{}",
        &xml[..start],
        cell_xml(reference, &style, put),
        &xml[end..]
    )
}

/// Adds a row of cells at the end of a worksheet's data.
pub fn add_row(xml: &str, row: u32, cells: &[(&str, Put)]) -> String {
    let cells: String = cells
        .iter()
        .map(|(col, put)| cell_xml(&format!("{col}{row}"), "", put))
        .collect();
    xml.replacen(
        "</sheetData>",
        &format!(r#"<row r="{row}">{cells}</row></sheetData>"#),
        1,
    )
}

/// Rewrites the entries of a zip archive, as a spreadsheet program saving the file would.
pub fn edit_entries(bytes: &[u8], mut edit: impl FnMut(&str, String) -> String) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        let content = match String::from_utf8(content) {
            Ok(text) => edit(&name, text).into_bytes(),
            Err(e) => e.into_bytes(),
        };
        out.start_file(name, options).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Edits one worksheet (1-based, in tab order) of a workbook.
pub fn edit_sheet(bytes: &[u8], sheet: usize, edit: impl Fn(String) -> String) -> Vec<u8> {
    let path = format!("xl/worksheets/sheet{sheet}.xml");
    edit_entries(
        bytes,
        |name, text| if name == path { edit(text) } else { text },
    )
}

/// A zip archive of the given entries.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in entries {
        out.start_file(*name, options).unwrap();
        out.write_all(content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A copy of a workbook cell by cell, as a spreadsheet program saving it again would write
/// it: every sheet (hidden ones only with `keep_hidden`, and hidden again), with `change`
/// applied to one cell (sheet name, 0-based row and column, new content).
pub fn resave(
    bytes: &[u8],
    keep_hidden: bool,
    change: Option<(&str, u32, u16, calamine::Data)>,
) -> Vec<u8> {
    use calamine::{Data, Reader, SheetVisible, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheets = book.sheets_metadata().to_vec();
    let mut out = rust_xlsxwriter::Workbook::new();
    for meta in sheets {
        if meta.visible != SheetVisible::Visible && !keep_hidden {
            continue;
        }
        let range = book.worksheet_range(&meta.name).unwrap();
        let sheet = out.add_worksheet();
        sheet.set_name(&meta.name).unwrap();
        match meta.visible {
            SheetVisible::Hidden => {
                sheet.set_hidden(true);
            }
            SheetVisible::VeryHidden => {
                sheet.set_very_hidden(true);
            }
            SheetVisible::Visible => {}
        }
        let mut cells: Vec<(u32, u16, Data)> = Vec::new();
        if let Some((top, left)) = range.start() {
            for (r, c, cell) in range.used_cells() {
                cells.push((top + r as u32, (left + c as u32) as u16, cell.clone()));
            }
        }
        if let Some((name, row, col, data)) = &change
            && *name == meta.name
        {
            cells.retain(|(r, c, _)| (*r, *c) != (*row, *col));
            cells.push((*row, *col, data.clone()));
        }
        for (row, col, cell) in cells {
            match cell {
                Data::String(s) => sheet.write_string(row, col, s),
                Data::Float(f) => sheet.write_number(row, col, f),
                Data::Int(i) => sheet.write_number(row, col, i as f64),
                Data::Bool(b) => sheet.write_boolean(row, col, b),
                _ => Ok(&mut *sheet),
            }
            .unwrap();
        }
    }
    out.save_to_buffer().unwrap()
}

/// The sections of the definitions that have elements to fill in.
pub fn data_sections() -> Vec<&'static str> {
    defs()
        .sections
        .iter()
        // Figures computed from a register are never entered.
        .filter(|s| {
            defs()
                .elements
                .iter()
                .any(|e| e.section == s.number && !e.is_computed())
        })
        .map(|s| s.number.as_str())
        .collect()
}
