//! The report's content files: the outline, narrative templates, cases and pictures.
//!
//! The generic part (outline, front matter, narrative for every section) is compiled in from
//! `data/report/`. A school's own content (narrative that replaces a section's generic
//! text, cases, pictures) comes from a folder given with `--content`, or, for the sample
//! school, from the built-in `data/report/sample/`. A school file replaces a generic file
//! of the same relative path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ReportError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/content_files.rs"));
}

/// The folder of the built-in school content inside `data/report/`.
const SAMPLE_PREFIX: &str = "sample/";

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

/// Which school content to lay over the generic content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolContent {
    /// The built-in sample, used when the report is for the sample school.
    Builtin,
    /// A folder on disk.
    Folder(PathBuf),
    /// Generic content only.
    None,
}

#[derive(serde::Deserialize)]
struct Manifest {
    /// The school code the content belongs to.
    school: String,
}

impl Content {
    /// The generic content with the school content laid over it. The built-in sample is
    /// only used for the school it was written for.
    pub fn load(school: &SchoolContent, school_code: &str) -> Result<Content, ReportError> {
        let mut content = Content::default();
        let mut sample = Content::default();
        for (path, bytes) in embedded::FILES {
            let file = ContentFile {
                display: format!("data/report/{path}"),
                bytes: Arc::new(bytes.to_vec()),
            };
            match path.strip_prefix(SAMPLE_PREFIX) {
                Some(relative) => sample.files.insert(relative.to_string(), file),
                None => content.files.insert(path.to_string(), file),
            };
        }
        match school {
            SchoolContent::None => {}
            SchoolContent::Builtin => {
                if sample.manifest_school()?.as_deref() == Some(school_code) {
                    content.files.extend(sample.files);
                }
            }
            SchoolContent::Folder(dir) => {
                let mut folder = Content::default();
                read_folder(dir, dir, &mut folder)?;
                content.files.extend(folder.files);
            }
        }
        Ok(content)
    }

    /// The school code named in `content.toml`, if the content has that file.
    fn manifest_school(&self) -> Result<Option<String>, ReportError> {
        let Some(file) = self.files.get("content.toml") else {
            return Ok(None);
        };
        let manifest: Manifest =
            toml::from_str(file.text()?).map_err(|e| ReportError::Content {
                file: file.display.clone(),
                message: e.to_string(),
            })?;
        Ok(Some(manifest.school))
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

fn read_folder(root: &Path, dir: &Path, out: &mut Content) -> Result<(), ReportError> {
    let io = |path: &Path, source: std::io::Error| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| io(dir, e))?.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            read_folder(root, &path, out)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(relative, path.display().to_string(), bytes);
        }
    }
    Ok(())
}
