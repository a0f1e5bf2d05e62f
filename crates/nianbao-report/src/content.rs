//! The report's content files: the outline, narrative templates, cases and pictures.
//!
//! The generic part (outline, front matter, the narrative that binds each data section) is
//! compiled in from `data/report/`. A school's own content (its narrative for each
//! section, front pages, cases, pictures) comes from the store, or from a folder given
//! with `--content`; a school file replaces a generic file of the same relative path.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ReportError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/content_files.rs"));
}

/// The most files a content folder may hold, and the most bytes one file and all of
/// them may take: a report has a few dozen texts and pictures.
pub const MAX_FOLDER_FILES: usize = 2_000;
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
pub const MAX_FOLDER_BYTES: u64 = 200 * 1024 * 1024;

/// One content file: its bytes and the name errors call it by.
#[derive(Debug, Clone)]
pub struct ContentFile {
    pub display: String,
    pub bytes: Arc<Vec<u8>>,
}

impl ContentFile {
    /// The file as UTF-8 text, or an error naming it.
    pub fn text(&self) -> Result<&str, ReportError> {
        std::str::from_utf8(&self.bytes).map_err(|_| ReportError::Content {
            file: self.display.clone(),
            message: "不是 UTF-8 编码的文本文件".into(),
        })
    }
}

/// The merged set of content files, keyed by their path relative to the content root
/// ("outline.toml", "sections/1.4.md", "cases/red-craftsman.md", "images/gate.png").
#[derive(Debug, Clone, Default)]
pub struct Content {
    files: BTreeMap<String, ContentFile>,
}

impl Content {
    /// The generic content compiled in from `data/report/`.
    pub fn generic() -> Content {
        let mut content = Content::default();
        for (path, bytes) in embedded::FILES {
            content.insert(*path, format!("data/report/{path}"), bytes.to_vec());
        }
        content
    }

    /// The generic content with a school's files laid over it.
    pub fn with_school(files: impl IntoIterator<Item = (String, String, Vec<u8>)>) -> Content {
        let mut content = Content::generic();
        for (path, display, bytes) in files {
            content.insert(path, display, bytes);
        }
        content
    }

    /// The generic content with a content folder laid over it.
    pub fn with_folder(dir: &Path) -> Result<Content, ReportError> {
        let mut content = Content::generic();
        content.overlay(Content::read_folder(dir)?);
        Ok(content)
    }

    /// Lays another content's files over this one.
    pub fn overlay(&mut self, other: Content) {
        self.files.extend(other.files);
    }

    /// The files of a content folder alone (`sections/`, `front/`, `cases/`, `images/`),
    /// bounded in count and size; hidden files are skipped, and anything that is not a
    /// regular file or folder is refused.
    pub fn read_folder(dir: &Path) -> Result<Content, ReportError> {
        let mut folder = Content::default();
        let mut budget = MAX_FOLDER_BYTES;
        read_folder(dir, dir, &mut folder, &mut budget)?;
        Ok(folder)
    }

    /// Every file, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &ContentFile)> {
        self.files.iter().map(|(path, file)| (path.as_str(), file))
    }

    /// The files that differ from (or are absent in) the generic content: a school's own.
    pub fn own_files(&self) -> impl Iterator<Item = (&str, &ContentFile)> {
        let generic = Content::generic();
        self.files
            .iter()
            .filter(move |(path, file)| {
                generic
                    .files
                    .get(*path)
                    .is_none_or(|g| g.bytes.as_slice() != file.bytes.as_slice())
            })
            .map(|(path, file)| (path.as_str(), file))
            .collect::<Vec<_>>()
            .into_iter()
    }

    pub fn get(&self, path: &str) -> Option<&ContentFile> {
        self.files.get(path)
    }

    /// The file at `path`, or an error naming the file that asked for it.
    pub fn require(&self, path: &str, asked_by: &str) -> Result<&ContentFile, ReportError> {
        self.files.get(path).ok_or_else(|| ReportError::Content {
            file: asked_by.to_string(),
            message: format!("找不到内容文件 {path}"),
        })
    }

    /// The files under a folder ("cases/"), in path order.
    pub fn under<'a>(
        &'a self,
        folder: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a ContentFile)> {
        self.files
            .iter()
            .filter(move |(path, _)| path.starts_with(folder))
            .map(|(path, file)| (path.as_str(), file))
    }

    /// Adds or replaces a file (for tests and callers that build content in memory).
    pub fn insert(&mut self, path: impl Into<String>, display: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(
            path.into(),
            ContentFile {
                display: display.into(),
                bytes: Arc::new(bytes),
            },
        );
    }

    pub fn remove(&mut self, path: &str) {
        self.files.remove(path);
    }
}

fn read_folder(
    root: &Path,
    dir: &Path,
    out: &mut Content,
    budget: &mut u64,
) -> Result<(), ReportError> {
    let io = |path: &Path, source: std::io::Error| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    let refuse = |path: &Path, message: String| ReportError::Content {
        file: path.display().to_string(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| io(dir, e))?.path());
    }
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        // Not following links: a link to a device or a fifo is refused like one.
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let meta = if meta.file_type().is_symlink() {
            std::fs::metadata(&path).map_err(|e| io(&path, e))?
        } else {
            meta
        };
        if meta.is_dir() {
            read_folder(root, &path, out, budget)?;
            continue;
        }
        if !meta.is_file() {
            return Err(refuse(
                &path,
                "不是普通文件（设备、管道或套接字），已拒绝读取".into(),
            ));
        }
        if out.files.len() >= MAX_FOLDER_FILES {
            return Err(refuse(
                root,
                format!("文件夹中的文件超过 {MAX_FOLDER_FILES} 个，已拒绝读取"),
            ));
        }
        if meta.len() > MAX_FILE_BYTES || meta.len() > *budget {
            return Err(refuse(
                &path,
                format!(
                    "文件过大（{} 字节）：单个文件不得超过 {} MB，全部文件合计不得超过 {} MB",
                    meta.len(),
                    MAX_FILE_BYTES / 1024 / 1024,
                    MAX_FOLDER_BYTES / 1024 / 1024
                ),
            ));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .map_err(|e| io(&path, e))?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io(&path, e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(refuse(&path, "文件在读取时变大，超过了上限".into()));
        }
        *budget = budget.saturating_sub(bytes.len() as u64);
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        out.insert(relative, path.display().to_string(), bytes);
    }
    Ok(())
}
