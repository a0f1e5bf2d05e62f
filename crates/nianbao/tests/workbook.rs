//! `nianbao workbook export` → one cell edited with a spreadsheet library (calamine reads,
//! rust_xlsxwriter writes, hidden sheets kept as Excel keeps them) → `workbook import`
//! changes exactly that fact; the same workbook imported after someone else changed that
//! fact is refused, naming the cell and who changed it.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::{Data, Reader, SheetVisible, Xlsx};
use nianbao_core::{Dataset, Definitions, FactKey, Year};

struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    /// A store holding the sample school.
    fn with_sample() -> Store {
        let store = Store {
            dir: tempfile::tempdir().unwrap(),
        };
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
        store.succeed(&["import", sample.to_str().unwrap()], "导入员");
        store
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the binary on this store as the system user `user` (the change log's actor).
    fn run(&self, args: &[&str], user: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .env("USER", user)
            .output()
            .unwrap()
    }

    fn succeed(&self, args: &[&str], user: &str) -> String {
        let out = self.run(args, user);
        assert!(
            out.status.success(),
            "nianbao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The stored dataset, through `nianbao export`.
    fn dataset(&self, name: &str) -> (Dataset, PathBuf) {
        let folder = self.path(name);
        self.succeed(&["export", folder.to_str().unwrap()], "导出员");
        let definitions = Definitions::builtin().unwrap();
        (
            nianbao_io::read_dataset(&folder, &definitions).unwrap(),
            folder,
        )
    }
}

/// The workbook saved again with the cell on the row whose column B is `code`, in the
/// column headed `column` of `sheet`, set to `value`. Every sheet is copied, hidden ones too.
fn edit_cell(bytes: &[u8], sheet: &str, code: &str, column: &str, value: f64) -> Vec<u8> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheets = book.sheets_metadata().to_vec();
    assert!(
        sheets.iter().any(|s| s.visible == SheetVisible::VeryHidden),
        "the workbook carries a hidden sheet: {sheets:?}"
    );
    let mut out = rust_xlsxwriter::Workbook::new();
    let mut edited = 0;
    for meta in sheets {
        let range = book.worksheet_range(&meta.name).unwrap();
        let target = (meta.name == sheet).then(|| {
            let row = range
                .rows()
                .position(|r| {
                    r.get(1)
                        .is_some_and(|c| matches!(c, Data::String(s) if s == code))
                })
                .unwrap();
            let col = range
                .rows()
                .find_map(|r| {
                    r.iter()
                        .position(|c| matches!(c, Data::String(s) if s == column))
                })
                .unwrap();
            (row, col)
        });
        let written = out.add_worksheet();
        written.set_name(&meta.name).unwrap();
        match meta.visible {
            SheetVisible::Hidden => {
                written.set_hidden(true);
            }
            SheetVisible::VeryHidden => {
                written.set_very_hidden(true);
            }
            SheetVisible::Visible => {}
        }
        let (top, left) = range.start().unwrap_or((0, 0));
        for (r, c, cell) in range.used_cells() {
            let (row, col) = (top + r as u32, (left + c as u32) as u16);
            let cell = if target == Some((r, c)) {
                edited += 1;
                Data::Float(value)
            } else {
                cell.clone()
            };
            match cell {
                Data::String(s) => written.write_string(row, col, s),
                Data::Float(f) => written.write_number(row, col, f),
                Data::Int(i) => written.write_number(row, col, i as f64),
                Data::Bool(b) => written.write_boolean(row, col, b),
                _ => Ok(&mut *written),
            }
            .unwrap();
        }
    }
    assert_eq!(edited, 1, "one cell edited");
    out.save_to_buffer().unwrap()
}

fn staff_total() -> FactKey {
    FactKey::school(Year::new(2025).unwrap(), "staff.total")
}

#[test]
fn an_exported_workbook_edited_in_one_cell_changes_exactly_that_fact() {
    let store = Store::with_sample();
    let (before, _) = store.dataset("before");
    let original = before.facts[&staff_total()];

    let file = store.path("全年数据.xlsx");
    let out = store.succeed(
        &[
            "workbook",
            "export",
            file.to_str().unwrap(),
            "--year",
            "2025",
        ],
        "质量办",
    );
    assert!(
        out.contains("已导出") && out.contains("全年数据工作簿"),
        "{out}"
    );
    let exported = std::fs::read(&file).unwrap();

    let edited = store.path("edited.xlsx");
    std::fs::write(
        &edited,
        edit_cell(&exported, "1.4 师资队伍", "staff.total", "2025年", 612.0),
    )
    .unwrap();
    let out = store.succeed(&["workbook", "import", edited.to_str().unwrap()], "质量办");
    assert!(out.contains("共修改 1 项数据"), "{out}");
    let (after, folder) = store.dataset("after");
    let mut expected = before.clone();
    expected.set(staff_total(), 612.0);
    assert_eq!(
        after.facts, expected.facts,
        "only staff.total of 2025 changed"
    );
    assert_ne!(original, 612.0);

    // Someone else changes the same fact through `nianbao import`.
    let year = folder.join("years/2025.toml");
    let mut text = std::fs::read_to_string(&year).unwrap();
    let table = text.find("[staff]\n").unwrap();
    let line = table + text[table..].find("\ntotal = 612\n").unwrap();
    text.replace_range(line..line + "\ntotal = 612\n".len(), "\ntotal = 640\n");
    std::fs::write(&year, text).unwrap();
    store.succeed(&["import", folder.to_str().unwrap()], "信息部李老师");

    // The same edited workbook again: refused, naming the cell and who changed the fact.
    let refused = store.run(&["workbook", "import", edited.to_str().unwrap()], "质量办");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("「1.4 师资队伍」工作表 F")
            && stderr.contains("（教职工总数，2025年）")
            && stderr.contains("已由 cli:信息部李老师 于 ")
            && stderr.contains(&format!(
                "改为 640（文件中原为 {}，上传的是 612）",
                nianbao_core::number::plain(original)
            ))
            && stderr.contains("数据库未作任何修改"),
        "{stderr}"
    );
    let (now, _) = store.dataset("now");
    assert_eq!(now.facts[&staff_total()], 640.0, "the newer value stays");

    // The workbook as exported, untouched: nothing of it overwrites the newer value.
    let out = store.succeed(&["workbook", "import", file.to_str().unwrap()], "质量办");
    assert!(
        out.contains("共修改 0 项数据") && out.contains("另有 1 项在文件生成后已被他人修改"),
        "{out}"
    );
    let (last, _) = store.dataset("last");
    assert_eq!(last.facts, now.facts);
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused_and_changes_nothing() {
    let store = Store::with_sample();
    let (before, _) = store.dataset("before");
    let junk = store.path("junk.xlsx");
    std::fs::write(&junk, "专业名称,年份\n会计事务,2025\n").unwrap();
    let out = store.run(&["workbook", "import", junk.to_str().unwrap()], "质量办");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("不是 Excel 工作簿"), "{stderr}");
    let (after, _) = store.dataset("after");
    assert_eq!(after, before);
}
