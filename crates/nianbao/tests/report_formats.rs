//! The report in all three formats, read back: the Word document (zip + XML) and the PDF
//! (pdftotext) hold every number of Tables 1–3 and every heading of the outline; LibreOffice
//! converts the Word document; bad report content fails with an error naming the file and
//! leaves the output folder untouched.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use nianbao_core::{Dataset, Definitions, Year};
use nianbao_report::tables;

/// One demo run shared by every test of this file (the PDF takes a while in debug builds).
fn demo() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = run(
            dir.path(),
            &["demo", "--out", dir.path().join("out").to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(dir.join("store.db"))
        .args(args)
        .output()
        .unwrap()
}

/// Whether an external program is installed; in CI (`NIANBAO_REQUIRE_BROWSER=1`, set with
/// the document tools) a missing one fails the test instead of skipping it.
fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("NIANBAO_REQUIRE_BROWSER").is_err(),
        "{name} is required here (CI installs poppler-utils and LibreOffice)"
    );
    found
}

fn sample() -> Dataset {
    nianbao_io::read_dataset(&demo().join("out/sample"), &Definitions::builtin().unwrap()).unwrap()
}

/// Every cell text of Tables 1–3 as the report prints them.
fn table_cells(data: &Dataset) -> BTreeSet<String> {
    let years = nianbao_report::table_years(data, Year::new(2025).unwrap());
    let kinds = nianbao_report::Kinds::new(&Definitions::builtin().unwrap());
    let mut cells = BTreeSet::new();
    for table in [
        tables::staff_table(data, &kinds, &years, 1),
        tables::students_table(data, &kinds, &years, 2),
        tables::further_table(data, &kinds, &years, 3),
    ] {
        for row in &table.rows {
            for cell in row {
                if !cell.text.is_empty() {
                    cells.insert(cell.text.clone());
                }
            }
        }
    }
    assert!(
        cells.contains("9,313") && cells.contains("2,887"),
        "{cells:?}"
    );
    cells
}

/// The outline's headings as printed: front pages, lists, chapters and sections.
fn headings() -> Vec<String> {
    let definitions = Definitions::builtin().unwrap();
    let mut out: Vec<String> = [
        "年报公开形式及网址",
        "内容真实性责任声明",
        "前言",
        "图目录",
        "案例目录",
        "表目录",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for section in definitions.sections.iter().filter(|s| s.number != "0") {
        if section.number.contains('.') {
            out.push(format!("{} {}", section.number, section.title));
        } else {
            out.push(format!("{}. {}", section.number, section.title));
        }
    }
    out
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The texts of the `<w:t>` elements of the document part, one per run.
fn docx_runs(path: &Path) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let mut runs = Vec::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find("<w:t") {
        rest = &rest[start + 4..];
        if !(rest.starts_with('>') || rest.starts_with(' ')) {
            continue;
        }
        let Some(open_end) = rest.find('>') else {
            break;
        };
        if rest[..open_end].ends_with('/') {
            rest = &rest[open_end + 1..];
            continue;
        }
        rest = &rest[open_end + 1..];
        let Some(close) = rest.find("</w:t>") else {
            break;
        };
        runs.push(
            rest[..close]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&"),
        );
        rest = &rest[close..];
    }
    runs
}

#[test]
fn docx_holds_every_table_number_and_heading() {
    let path = demo().join("out/report.docx");
    let runs = docx_runs(&path);
    let texts: BTreeSet<&str> = runs.iter().map(String::as_str).collect();
    for cell in table_cells(&sample()) {
        assert!(texts.contains(cell.as_str()), "DOCX 缺少表格数字 {cell}");
    }
    let all = squeeze(&runs.concat());
    for heading in headings() {
        assert!(all.contains(&squeeze(&heading)), "DOCX 缺少标题 {heading}");
    }
    // Word styles: headings named 标题 1–3, captions numbered by SEQ fields, page numbers.
    let mut archive = zip::ZipArchive::new(fs::File::open(&path).unwrap()).unwrap();
    let mut styles = String::new();
    archive
        .by_name("word/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    for name in ["标题 1", "标题 2", "标题 3", "宋体", "黑体"] {
        assert!(styles.contains(name), "styles.xml 缺少 {name}");
    }
    let mut document = String::new();
    archive
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut document)
        .unwrap();
    assert!(document.contains("SEQ 表"), "表题应有 SEQ 域");
    assert!(document.contains("TOC \\o"), "目录应是可更新的域");
    assert!(
        document.contains("w:gridSpan w:val=\"3\""),
        "表 1 的合并表头"
    );
    assert!(
        document.contains("w:vMerge w:val=\"restart\""),
        "纵向合并单元格"
    );
    assert!(
        archive.file_names().any(|n| n.starts_with("word/media/")),
        "图表应嵌入文档"
    );
}

#[test]
fn pdf_holds_every_table_number_and_heading() {
    if !tool("pdftotext") {
        let _ = writeln!(std::io::stderr(), "跳过：未安装 pdftotext（poppler-utils）");
        return;
    }
    let path = demo().join("out/report.pdf");
    assert!(
        path.exists(),
        "demo 应写出 report.pdf（需要 fonts-noto-cjk）"
    );
    let out = Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let tokens: BTreeSet<&str> = text.split_whitespace().collect();
    for cell in table_cells(&sample()) {
        let found = tokens.contains(cell.as_str()) || squeeze(&text).contains(&squeeze(&cell));
        assert!(found, "PDF 缺少表格数字 {cell}");
    }
    let all = squeeze(&text);
    for heading in headings() {
        assert!(all.contains(&squeeze(&heading)), "PDF 缺少标题 {heading}");
    }
    // The lists are generated from the body: every caption is listed, numbered without gaps.
    for n in 1..=9 {
        assert!(all.contains(&format!("表{n}：")), "表 {n}");
    }
    assert!(all.contains("典型案例1：") && all.contains("图1："));
}

/// Upper-case Roman numerals, as Word prints page numbers in the `upperRoman` format.
fn roman(mut n: usize) -> String {
    let mut out = String::new();
    for (value, letters) in [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")] {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// The text of each page of a PDF, by pdftotext.
fn pdf_pages(pdf: &Path) -> Vec<String> {
    let info = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let count: usize = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    (1..=count)
        .map(|page| {
            let out = Command::new("pdftotext")
                .args(["-layout", "-f", &page.to_string(), "-l", &page.to_string()])
                .arg(pdf)
                .arg("-")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect()
}

#[test]
fn libreoffice_converts_the_docx() {
    if !tool("soffice") || !tool("pdftotext") || !tool("pdfinfo") {
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未安装 soffice（libreoffice-writer-nogui）或 poppler-utils"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("report.docx");
    fs::copy(demo().join("out/report.docx"), &docx).unwrap();
    let out = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}/lo",
            dir.path().display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = dir.path().join("report.pdf");
    assert!(
        fs::metadata(&pdf)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false)
    );

    // The cover is one page; the front matter is numbered I, II, …; the body from 1 at
    // chapter 1. Each page's number is its last line.
    let pages = pdf_pages(&pdf);
    let data = sample();
    let last_line = |page: &str| {
        page.lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string()
    };
    let cover = squeeze(&pages[0]);
    assert!(
        cover.contains(&squeeze(&data.school.name)) && cover.contains("征求意见稿"),
        "{cover}"
    );
    assert!(
        cover.contains(&squeeze(&nianbao_report::chinese_date(
            &data.school.report_date
        ))),
        "the whole cover, its date included, is on page 1: {cover}"
    );
    assert!(
        squeeze(&pages[1]).contains("年报公开形式及网址"),
        "page 2 starts the front matter: {}",
        pages[1]
    );
    let chapter = pages
        .iter()
        .position(|p| squeeze(p).contains("1.学校概况1.1基本情况"))
        .expect("chapter 1 starts a page");
    assert!(chapter > 2, "front matter before chapter 1");
    for (index, page) in pages.iter().enumerate().skip(1) {
        let expected = if index < chapter {
            roman(index)
        } else {
            (index - chapter + 1).to_string()
        };
        assert_eq!(last_line(page), expected, "page {}", index + 1);
    }
}

/// The report's title, author and dates in the Word document's core properties.
#[test]
fn the_word_document_names_its_title_and_the_school() {
    let mut archive =
        zip::ZipArchive::new(fs::File::open(demo().join("out/report.docx")).unwrap()).unwrap();
    let mut core = String::new();
    archive
        .by_name("docProps/core.xml")
        .unwrap()
        .read_to_string(&mut core)
        .unwrap();
    let data = sample();
    assert!(
        core.contains(&format!(
            "<dc:title>{} 2025 年度质量年度报告</dc:title>",
            data.school.name
        )),
        "{core}"
    );
    assert!(core.contains(&format!("<dc:creator>{}</dc:creator>", data.school.name)));
    assert!(
        !core.contains("unknown") && !core.contains("1970-01-01"),
        "{core}"
    );
}

/// One number-format rule: a figure prints the same in the text and in the tables.
#[test]
fn figures_print_alike_in_text_and_tables() {
    let html = fs::read_to_string(demo().join("out/report.html")).unwrap();
    let page = scraper::Html::parse_document(&html);
    let texts = |css: &str| -> Vec<String> {
        let selector = scraper::Selector::parse(css).unwrap();
        page.select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    };
    let cells = texts("td");
    let prose = texts("p").join("\n");
    let data = sample();
    let definitions = Definitions::builtin().unwrap();
    let year = Year::new(2025).unwrap();
    for code in [
        "further.total",
        "funding.projects",
        "funding.personnel",
        "students.enrolled_total",
        "training.social",
    ] {
        let kind = definitions.elements.get(code).unwrap().kind;
        let printed = nianbao_core::number::Style::of(kind).format(data.value(year, code).unwrap());
        assert!(cells.contains(&printed), "{code}: no table cell {printed}");
        assert!(
            prose.contains(&printed),
            "{code}: the text does not print {printed}"
        );
    }
    assert!(cells.contains(&"2,887".to_string()) && prose.contains("4,181.30"));
}

#[test]
fn report_writes_only_the_format_asked_for() {
    let ws = tempfile::tempdir().unwrap();
    fs::copy(demo().join("store.db"), ws.path().join("store.db")).unwrap();
    let out = ws.path().join("docx-only");
    let result = run(
        ws.path(),
        &["report", "--format", "docx", "--out", out.to_str().unwrap()],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["report.docx".to_string()]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("报告：正在生成Word 文档"), "{stderr}");
}

/// A copy of the sample school's content with one file written over, and the report
/// command's output for it.
fn bad_content(edit: &dyn Fn(&Path)) -> (String, PathBuf) {
    let ws = tempfile::tempdir().unwrap().keep();
    fs::copy(demo().join("store.db"), ws.join("store.db")).unwrap();
    let content = ws.join("content");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang/content"),
        &content,
    );
    edit(&content);
    let out = ws.join("out");
    let result = run(
        &ws,
        &[
            "report",
            "--format",
            "all",
            "--content",
            content.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!result.status.success(), "bad content must fail");
    (String::from_utf8_lossy(&result.stderr).to_string(), out)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn bad_content_names_the_file_and_writes_nothing() {
    type Edit = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "missing image",
            Box::new(|c: &Path| {
                let case = c.join("cases/03-heritage-craft.md");
                let text = fs::read_to_string(&case).unwrap();
                fs::write(
                    &case,
                    text.replace("images/workshop.svg", "images/nowhere.svg"),
                )
                .unwrap()
            }),
            &["03-heritage-craft.md", "images/nowhere.svg", "不存在"],
        ),
        (
            "missing image in a template",
            Box::new(|c: &Path| {
                let section = c.join("sections/2.6.md");
                let text = fs::read_to_string(&section).unwrap();
                fs::write(
                    &section,
                    text.replace("images/campus.png", "images/absent.png"),
                )
                .unwrap()
            }),
            &["sections/2.6.md", "images/absent.png"],
        ),
        (
            "unknown variable",
            Box::new(|c: &Path| {
                fs::write(c.join("sections/2.2.md"), "第一行\n{{ no_such_thing }}\n").unwrap()
            }),
            &["sections/2.2.md:2"],
        ),
        (
            "unknown element",
            Box::new(|c: &Path| {
                fs::write(c.join("sections/2.3.md"), "\n{{ v(\"教职工总人数\") }}\n").unwrap()
            }),
            &[
                "sections/2.3.md:2",
                "教职工总人数",
                "相近的有",
                "教职工总数",
            ],
        ),
        (
            "broken front matter",
            Box::new(|c: &Path| {
                fs::write(
                    c.join("cases/01-growth-points.md"),
                    "---\ntitle: 没有 TOML\n---\n正文\n",
                )
                .unwrap()
            }),
            &["01-growth-points.md", "+++"],
        ),
        (
            "unparsable front matter",
            Box::new(|c: &Path| {
                fs::write(
                    c.join("cases/01-growth-points.md"),
                    "+++\ntitle = \"缺引号\nsection = \"2.1\"\n+++\n正文\n",
                )
                .unwrap()
            }),
            &["01-growth-points.md", "元数据有误"],
        ),
        (
            "unknown section",
            Box::new(|c: &Path| {
                fs::write(
                    c.join("cases/09-nowhere.md"),
                    "+++\ntitle = \"无处安放\"\nsection = \"9.9\"\n+++\n正文\n",
                )
                .unwrap()
            }),
            &["09-nowhere.md", "9.9"],
        ),
    ];
    for (name, edit, expected) in cases {
        let (stderr, out) = bad_content(&*edit);
        for text in expected {
            assert!(
                stderr.contains(text),
                "{name}: 错误信息应包含「{text}」：{stderr}"
            );
        }
        let written = fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        assert_eq!(written, 0, "{name}: 输出文件夹应保持为空");
    }
}
