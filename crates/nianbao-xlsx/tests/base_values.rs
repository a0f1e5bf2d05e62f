//! Templates and workbooks carry the values they were made from: untouched cells never
//! overwrite a newer value, edited cells expect their base value, and a whole year's workbook
//! reads back as the per-section templates do.

mod common;

use calamine::Data;
use common::*;
use nianbao_core::{Dataset, FactKey, Year};
use nianbao_xlsx::{
    Limits, SectionScope, UploadError, WorkbookScope, read_base, read_upload, read_workbook,
    stale_message, write_template, write_workbook,
};

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

fn staff(y: i64) -> FactKey {
    FactKey::school(year(y), "staff.total")
}

/// The sample with one fact changed, as if someone saved it through the form.
fn changed(key: &FactKey, value: f64) -> Dataset {
    let mut data = sample().clone();
    data.set(key.clone(), value);
    data
}

/// The quality office's workbook: every section, every major.
fn office_workbook(data: &Dataset) -> WorkbookScope<'_> {
    WorkbookScope {
        years: years(data),
        sections: data_sections()
            .into_iter()
            .map(|section| SectionScope {
                section,
                school_level: true,
                majors: data.majors.iter().collect(),
            })
            .collect(),
    }
}

/// A department's workbook: the per-major sheets of its own majors only.
fn department_workbook<'a>(data: &'a Dataset, department: &str) -> WorkbookScope<'a> {
    WorkbookScope {
        years: years(data),
        sections: data_sections()
            .into_iter()
            .map(|section| SectionScope {
                section,
                school_level: false,
                majors: data
                    .majors
                    .iter()
                    .filter(|m| m.department == department)
                    .collect(),
            })
            .collect(),
    }
}

#[test]
fn a_template_records_every_value_it_was_made_from() {
    let data = sample();
    let scope = office_scope("1.5", data);
    let bytes = write_template(defs(), data, &scope).unwrap();
    let upload = read_upload(&bytes, defs(), &scope, &Limits::default()).unwrap();
    let base = upload.base.as_ref().expect("the template carries its base");
    assert_eq!(base.school_code, data.school.code);
    assert_eq!(base.years, years(data));
    assert_eq!(base.len(), upload.cells.len());
    for cell in &upload.cells {
        assert_eq!(
            base.value(&cell.key),
            Some(data.facts.get(&cell.key).copied()),
            "{:?}",
            cell.key
        );
    }
    let changes = upload.changes(data).unwrap();
    assert!(changes.with_base);
    assert!(changes.edits.is_empty(), "{:?}", changes.edits);
    assert_eq!(changes.kept, 0);
}

#[test]
fn an_untouched_cell_never_overwrites_a_newer_value() {
    // 65 when the template was made; 75 saved through the form since.
    let made = changed(&staff(2025), 65.0);
    let scope = office_scope("1.4", &made);
    let template = write_template(defs(), &made, &scope).unwrap();
    let now = changed(&staff(2025), 75.0);
    let upload = read_upload(&template, defs(), &scope, &Limits::default()).unwrap();
    let changes = upload.changes(&now).unwrap();
    assert!(changes.edits.is_empty(), "{:?}", changes.edits);
    assert_eq!(changes.kept, 1);
}

#[test]
fn an_edited_cell_expects_its_base_value_and_is_stale_when_that_changed() {
    let made = changed(&staff(2025), 65.0);
    let scope = office_scope("1.4", &made);
    let template = write_template(defs(), &made, &scope).unwrap();
    let row = school_row("1.4", "staff.total");
    let edited = edit_sheet(&template, 1, |xml| {
        set_cell(&xml, &format!("F{row}"), &Put::Number(70.0))
    });
    let upload = read_upload(&edited, defs(), &scope, &Limits::default()).unwrap();

    let changes = upload.changes(&made).unwrap();
    assert_eq!(changes.edits.len(), 1, "{:?}", changes.edits);
    let edit = &changes.edits[0];
    assert_eq!(edit.key, staff(2025));
    assert_eq!((edit.expected, edit.value), (Some(65.0), Some(70.0)));
    assert_eq!(
        (edit.sheet.as_str(), edit.cell.clone()),
        ("1.4 师资队伍", format!("F{row}"))
    );
    assert!(!edit.is_stale(&made));

    let now = changed(&staff(2025), 75.0);
    let changes = upload.changes(&now).unwrap();
    assert_eq!(changes.edits.len(), 1);
    assert!(changes.edits[0].is_stale(&now));
    let message = stale_message(
        defs(),
        &changes.edits[0],
        Some(75.0),
        Some("质量办"),
        Some("2026-01-05T17:30:00Z"),
    );
    assert_eq!(
        message,
        format!(
            "「1.4 师资队伍」工作表 F{row} 单元格（教职工总数，2025年）：文件生成后已由 质量办 于 2026-01-06 01:30 改为 75（文件中原为 65，上传的是 70）"
        )
    );

    // Someone already entered the very value uploaded: nothing to do and nothing to refuse.
    let same = changed(&staff(2025), 70.0);
    assert!(upload.changes(&same).unwrap().edits.is_empty());
}

#[test]
fn the_base_survives_saving_again_with_its_hidden_sheet() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let row = school_row("1.4", "staff.total") - 1;
    let resaved = resave(
        &template,
        true,
        Some(("1.4 师资队伍", row, 5, Data::Float(650.0))),
    );
    let upload = read_upload(&resaved, defs(), &scope, &Limits::default()).unwrap();
    assert!(upload.base.is_some());
    let changes = upload.changes(data).unwrap();
    assert_eq!(changes.edits.len(), 1, "{:?}", changes.edits);
    assert_eq!(changes.edits[0].key, staff(2025));
    assert_eq!(changes.edits[0].value, Some(650.0));
}

#[test]
fn a_file_without_its_base_is_compared_with_the_store_at_upload_time() {
    let made = changed(&staff(2025), 65.0);
    let scope = office_scope("1.4", &made);
    let copied = resave(&write_template(defs(), &made, &scope).unwrap(), false, None);
    let upload = read_upload(&copied, defs(), &scope, &Limits::default()).unwrap();
    assert!(upload.base.is_none());
    assert_eq!(read_base(&copied, &Limits::default()).unwrap(), None);
    let now = changed(&staff(2025), 75.0);
    let changes = upload.changes(&now).unwrap();
    assert!(!changes.with_base);
    // Without a base the file's 65 is taken as meant: it replaces what is stored now.
    assert_eq!(changes.edits.len(), 1);
    assert_eq!(
        (changes.edits[0].expected, changes.edits[0].value),
        (Some(75.0), Some(65.0))
    );
}

#[test]
fn a_damaged_base_is_refused_rather_than_guessed() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    // The base sheet is the template's last sheet; its first value row is row 8.
    let broken = edit_sheet(&template, 2, |xml| {
        set_cell(&xml, "D8", &Put::Text("六十五"))
    });
    let err = read_upload(&broken, defs(), &scope, &Limits::default()).unwrap_err();
    assert!(matches!(err, UploadError::DamagedBase(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("「基准值」工作表 D8 单元格不是数值"),
        "{err}"
    );
}

#[test]
fn a_file_made_for_another_school_or_other_years_is_refused() {
    let data = sample();
    let scope = office_scope("1.4", data);
    let template = write_template(defs(), data, &scope).unwrap();
    let mut other = data.clone();
    other.school.code = "another".into();
    other.school.name = "另一所学校".into();
    let upload = read_upload(&template, defs(), &scope, &Limits::default()).unwrap();
    let err = upload.changes(&other).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("为「{}」生成的", data.school.name)),
        "{err}"
    );

    let mut later = scope.clone();
    later.years = later
        .years
        .iter()
        .map(|y| year(y.get() as i64 + 1))
        .collect();
    let err = read_upload(&template, defs(), &later, &Limits::default()).unwrap_err();
    assert!(matches!(err, UploadError::OtherYears { .. }), "{err:?}");
}

#[test]
fn a_whole_year_workbook_reads_back_as_its_templates_do() {
    let data = sample();
    let scope = office_workbook(data);
    let bytes = write_workbook(defs(), data, &scope).unwrap();
    let upload = read_workbook(&bytes, defs(), &scope, &Limits::default()).unwrap();
    let mut expected = 0;
    for section in data_sections() {
        let one = office_scope(section, data);
        let template = write_template(defs(), data, &one).unwrap();
        expected += read_upload(&template, defs(), &one, &Limits::default())
            .unwrap()
            .cells
            .len();
    }
    assert_eq!(upload.cells.len(), expected);
    for cell in &upload.cells {
        assert_eq!(cell.value, data.facts.get(&cell.key).copied(), "{cell:?}");
    }
    let changes = upload.changes(data).unwrap();
    assert!(changes.edits.is_empty());

    // One edit on one sheet is one change, named by its sheet and cell.
    let row = school_row("1.4", "staff.total") - 1;
    let edited = resave(
        &bytes,
        true,
        Some(("1.4 师资队伍", row, 5, Data::Float(651.0))),
    );
    let upload = read_workbook(&edited, defs(), &scope, &Limits::default()).unwrap();
    let changes = upload.changes(data).unwrap();
    assert_eq!(changes.edits.len(), 1, "{:?}", changes.edits);
    assert_eq!(changes.edits[0].key, staff(2025));
    assert_eq!(changes.edits[0].cell, format!("F{}", row + 1));
}

#[test]
fn a_department_workbook_holds_only_what_it_may_edit() {
    let data = sample();
    let scope = department_workbook(data, "现代服务部");
    let bytes = write_workbook(defs(), data, &scope).unwrap();
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(&bytes)).unwrap();
    let names = calamine::Reader::sheet_names(&book);
    assert!(names.len() >= 2, "{names:?}");
    for name in &names[..names.len() - 1] {
        assert!(name.ends_with("分专业"), "{names:?}");
    }
    let upload = read_workbook(&bytes, defs(), &scope, &Limits::default()).unwrap();
    assert!(!upload.cells.is_empty());
    for cell in &upload.cells {
        let major = cell.key.major.as_deref().expect("per-major facts only");
        assert_eq!(data.major(major).unwrap().department, "现代服务部");
    }

    // The quality office's workbook has sheets the department may not fill: refused.
    let office = write_workbook(defs(), data, &office_workbook(data)).unwrap();
    let err = read_workbook(&office, defs(), &scope, &Limits::default()).unwrap_err();
    assert!(matches!(err, UploadError::OutOfScope { .. }), "{err:?}");
}

#[test]
fn deleted_sheets_yield_nothing_but_a_workbook_needs_one() {
    let data = sample();
    let scope = office_workbook(data);
    let one = write_template(defs(), data, &office_scope("1.4", data)).unwrap();
    let upload = read_workbook(&one, defs(), &scope, &Limits::default()).unwrap();
    assert!(upload.cells.iter().all(|c| c.sheet == "1.4 师资队伍"));
    assert!(!upload.cells.is_empty());

    let mut other = rust_xlsxwriter::Workbook::new();
    other.add_worksheet().set_name("说明").unwrap();
    let bytes = other.save_to_buffer().unwrap();
    let err = read_workbook(&bytes, defs(), &scope, &Limits::default()).unwrap_err();
    assert_eq!(err, UploadError::NoSheets);
}
