//! Content folders in and out: a school that wrote its report as files (the layout
//! `nianbao report --content` reads: `front/*.md`, `sections/<number>.md`, `cases/*.md`,
//! `images/*`) imports them into the store once, every text checked as the editor checks
//! it, and can export the stored content back to the same layout.

use std::path::{Path, PathBuf};

use nianbao_core::Year;
use nianbao_report::Content;
use nianbao_report::cases::{MAX_CASE_IMAGES, read_case};
use nianbao_report::photo::picture_size;
use nianbao_report::preview::{Problem, validate};
use nianbao_store::{ContentSummary, StoredImage};

use crate::cases::valid_slug;
use crate::{Authoring, AuthoringError};

/// The folders a content folder may hold.
const FOLDERS: [&str; 4] = ["front/", "sections/", "cases/", "images/"];

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub summary: ContentSummary,
}

impl Authoring<'_> {
    /// Checks every file of a content folder, then stores the texts that differ from the
    /// stored ones and every picture, in one transaction; nothing is stored if any file
    /// has a problem, and the error lists them all.
    pub async fn import_folder(
        &self,
        code: &str,
        year: Year,
        folder: &Content,
        actor: &str,
    ) -> Result<Imported, AuthoringError> {
        let parts = self.parts()?;
        let outline = self.outline()?;
        let mut merged = self.content(code, year).await?;
        merged.overlay(folder.clone());
        let mut problems: Vec<(String, Problem)> = Vec::new();
        let mut refuse = |file: &str, line: usize, message: String| {
            problems.push((file.to_string(), Problem { line, message }));
        };
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut images: Vec<StoredImage> = Vec::new();
        for (path, file) in folder.files() {
            if !FOLDERS.iter().any(|f| path.starts_with(f)) {
                refuse(
                    &file.display,
                    0,
                    format!("不属于报告内容：只能有 {} 这几个文件夹", FOLDERS.join("、")),
                );
                continue;
            }
            if path.starts_with("images/") {
                match picture_size(path, &file.bytes) {
                    Ok((width, height)) => images.push(StoredImage {
                        path: path.to_string(),
                        bytes: file.bytes.to_vec(),
                        width,
                        height,
                        uploaded_by: actor.to_string(),
                        uploaded_at: String::new(),
                    }),
                    Err(message) => refuse(&file.display, 0, message),
                }
                continue;
            }
            if !path.ends_with(".md") {
                refuse(&file.display, 0, "只接受 Markdown（.md）文本".into());
                continue;
            }
            let text = match file.text() {
                Ok(text) => text.to_string(),
                Err(e) => {
                    refuse(&file.display, 0, e.to_string());
                    continue;
                }
            };
            let body = if let Some(name) = path.strip_prefix("cases/") {
                if !valid_slug(name.trim_end_matches(".md")) {
                    refuse(
                        &file.display,
                        0,
                        "案例文件名只能用英文字母、数字、- 和 _".into(),
                    );
                    continue;
                }
                match read_case(&text) {
                    Ok((meta, body)) => {
                        if meta.section == "0"
                            || self.definitions().section_title(&meta.section).is_none()
                        {
                            refuse(
                                &file.display,
                                0,
                                format!("案例归属的章节「{}」不在报告提纲中", meta.section),
                            );
                        }
                        if meta.images.len() > MAX_CASE_IMAGES {
                            refuse(
                                &file.display,
                                0,
                                format!("每个案例最多 {MAX_CASE_IMAGES} 张照片"),
                            );
                        }
                        for image in &meta.images {
                            if merged.get(&image.file).is_none() {
                                refuse(&file.display, 0, format!("图片「{}」不存在", image.file));
                            }
                        }
                        body
                    }
                    Err(message) => {
                        refuse(&file.display, 1, message);
                        continue;
                    }
                }
            } else if parts.iter().any(|p| p.path == path) {
                text.clone()
            } else {
                refuse(
                    &file.display,
                    0,
                    "报告提纲中没有这一部分（章节文件应命名为 sections/<章节号>.md）".into(),
                );
                continue;
            };
            for problem in validate(self.definitions(), &merged, &file.display, &body) {
                refuse(&file.display, problem.line, problem.message);
            }
            texts.push((path.to_string(), text));
        }
        if !problems.is_empty() {
            let listed = problems
                .into_iter()
                .map(|(file, p)| Problem {
                    line: 0,
                    message: if p.line > 0 {
                        format!("{file} 第 {} 行：{}", p.line, p.message)
                    } else {
                        format!("{file}：{}", p.message)
                    },
                })
                .collect();
            return Err(AuthoringError::Invalid {
                file: "内容文件夹".to_string(),
                problems: listed,
            });
        }
        let part_of = |path: &str| -> String {
            let text = texts
                .iter()
                .find(|(p, _)| p == path)
                .map_or("", |(_, t)| t.as_str());
            nianbao_report::parts::part_of(&parts, &outline, path, text)
                .map(|p| p.key.clone())
                .unwrap_or_default()
        };
        let summary = self
            .store()
            .import_content(code, year, &texts, &images, &part_of, actor)
            .await?;
        Ok(Imported { summary })
    }

    /// Writes the school's stored texts and pictures for a year into `dir`, in the layout
    /// `import_folder` reads; returns the files written.
    pub async fn export_folder(
        &self,
        code: &str,
        year: Year,
        dir: &Path,
    ) -> Result<Vec<PathBuf>, AuthoringError> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for text in self.store().report_texts(code, year).await? {
            files.push((text.path, text.body.into_bytes()));
        }
        for image in self.store().report_images(code, year).await? {
            files.push((image.path, image.bytes));
        }
        let mut written = Vec::new();
        for (path, bytes) in files {
            let target = dir.join(&path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            std::fs::write(&target, bytes).map_err(|e| io_error(&target, e))?;
            written.push(target);
        }
        Ok(written)
    }
}

fn io_error(path: &Path, source: std::io::Error) -> AuthoringError {
    AuthoringError::Report(nianbao_report::ReportError::Io {
        path: path.display().to_string(),
        source,
    })
}
