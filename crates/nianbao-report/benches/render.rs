//! Rendering the sample school's report: HTML + DOCX and PDF from one document, and the
//! Word document against pandoc converting the same content from Markdown (pictures and
//! charts handed to pandoc as ready PNG files), measured side by side in one run.
//!
//! `cargo bench -p nianbao-report --bench render`

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao_core::{Definitions, evaluate_indicators, run_checks};
use nianbao_report::model::{Block, Document, Image, Inline};
use nianbao_report::{Content, ReportInput, Status};

fn inline(runs: &[Inline]) -> String {
    runs.iter()
        .map(|r| {
            let text = r.text.replace('\n', " ");
            match (r.bold, r.italic) {
                (true, _) => format!("**{text}**"),
                (_, true) => format!("*{text}*"),
                _ => text,
            }
        })
        .collect()
}

/// The document as Markdown for pandoc; pictures are written into `dir` as PNG.
fn to_markdown(doc: &Document, blocks: &[Block], dir: &Path, out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading(h) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(h.level as usize), h.display());
            }
            Block::Paragraph(p) => {
                let _ = writeln!(out, "{}\n", inline(&p.runs));
            }
            Block::Gap(message) => {
                let _ = writeln!(out, "**{message}**\n");
            }
            Block::List { ordered, items } => {
                for (i, item) in items.iter().enumerate() {
                    let bullet = if *ordered {
                        format!("{}.", i + 1)
                    } else {
                        "-".into()
                    };
                    let _ = writeln!(out, "{bullet} {}", inline(item));
                }
                out.push('\n');
            }
            Block::Table(t) => {
                let columns = t.rows.first().map_or(1, Vec::len);
                let header: Vec<String> = (0..columns)
                    .map(|i| {
                        t.header
                            .last()
                            .and_then(|r| r.get(i))
                            .map_or(String::new(), |h| h.text.clone())
                    })
                    .collect();
                let _ = writeln!(out, "表 {}：{}\n", t.number, t.caption);
                let _ = writeln!(out, "| {} |", header.join(" | "));
                let _ = writeln!(out, "|{}|", vec!["---"; columns].join("|"));
                for row in &t.rows {
                    let cells: Vec<&str> = row.iter().map(|c| c.text.as_str()).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Figure(f) => {
                let png = match &f.image {
                    Image::Chart { svg, .. } => svg_png(svg.as_bytes()),
                    Image::File { bytes, name, .. } if name.ends_with(".svg") => svg_png(bytes),
                    Image::File { bytes, .. } => (**bytes).clone(),
                };
                let file = dir.join(format!("figure-{}.png", f.number));
                std::fs::write(&file, png).expect("write picture");
                let _ = writeln!(
                    out,
                    "![图 {}：{}]({})\n",
                    f.number,
                    f.caption,
                    file.display()
                );
            }
            Block::Case(c) => {
                let _ = writeln!(out, "**典型案例 {}：{}**\n", c.number, c.title);
                to_markdown(doc, &c.blocks, dir, out);
            }
            Block::ListOf(kind) => {
                let _ = writeln!(out, "## {}\n", kind.title());
                for entry in doc.entries(*kind) {
                    let _ = writeln!(out, "- {}", entry.text);
                }
                out.push('\n');
            }
            Block::PageBreak => {}
        }
    }
}

fn svg_png(svg: &[u8]) -> Vec<u8> {
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_data(svg, &options).expect("svg");
    let size = tree.size().to_int_size().scale_by(2.0).expect("size");
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("pixmap");
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().expect("png")
}

fn render(c: &mut Criterion) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    let definitions = Definitions::builtin().expect("definitions");
    let data = nianbao_io::read_dataset(&sample, &definitions).expect("sample reads");
    let year = data.school.report_year;
    let findings = run_checks(&definitions, &data);
    let indicators = evaluate_indicators(&definitions, &data, year);
    let input = ReportInput {
        definitions: &definitions,
        data: &data,
        year,
        findings: &findings,
        indicators: &indicators,
        acceptances: &[],
        status: Status::Draft,
    };
    let content = Content::with_folder(&sample.join("content")).expect("content");
    let document = nianbao_report::build_document(&input, &content).expect("document");

    let mut group = c.benchmark_group("report");
    group.sample_size(20);
    group.bench_function("build + HTML + DOCX", |b| {
        b.iter(|| {
            let document = nianbao_report::build_document(&input, &content).expect("document");
            let html = nianbao_report::html::render(&document);
            let docx = nianbao_report::docx::render(&document).expect("docx");
            assert!(html.len() > 10_000 && docx.len() > 10_000);
        })
    });
    if nianbao_report::pdf::fonts().is_ok() {
        group.sample_size(10);
        group.bench_function("PDF (typst)", |b| {
            b.iter(|| {
                // Drop typst's memoised layout so every iteration lays the report out anew.
                typst::comemo::evict(0);
                nianbao_report::pdf::render(&document).expect("pdf")
            })
        });
    } else {
        eprintln!("跳过 PDF：未安装 fonts-noto-cjk");
    }
    group.sample_size(20);
    group.bench_function("DOCX (nianbao)", |b| {
        b.iter(|| nianbao_report::docx::render(&document).expect("docx"))
    });
    let mut text_only = document.clone();
    text_only.blocks.retain(|b| !matches!(b, Block::Figure(_)));
    group.bench_function("DOCX without figures", |b| {
        b.iter(|| nianbao_report::docx::render(&text_only).expect("docx"))
    });
    let pandoc = Command::new("pandoc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if pandoc {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut markdown = String::new();
        to_markdown(&document, &document.blocks, dir.path(), &mut markdown);
        let source = dir.path().join("report.md");
        std::fs::write(&source, markdown).expect("write markdown");
        let target = dir.path().join("report.docx");
        group.sample_size(10);
        group.bench_function("DOCX (pandoc, same content from Markdown)", |b| {
            b.iter(|| {
                let status = Command::new("pandoc")
                    .arg(&source)
                    .arg("-o")
                    .arg(&target)
                    .status()
                    .expect("pandoc runs");
                assert!(status.success());
            })
        });
    } else {
        eprintln!("跳过 pandoc 对比：未安装 pandoc");
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
