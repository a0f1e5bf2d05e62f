//! The typst `World` the PDF is compiled in: the generated markup as the main file,
//! charts and pictures as in-memory files, and the system's fonts (scanned once per
//! process). Everything version-specific about typst's API is kept in this module.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::FontStore;

/// The system fonts, plus those in `NIANBAO_FONT_DIR` if set.
pub struct Fonts {
    store: FontStore,
}

impl Fonts {
    /// Scans the fonts once per process.
    pub fn shared() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| {
            let mut store = FontStore::new();
            if let Some(dir) = std::env::var_os("NIANBAO_FONT_DIR") {
                store.extend(typst_kit::fonts::scan(&PathBuf::from(dir)));
            }
            store.extend(typst_kit::fonts::system());
            Fonts { store }
        })
    }

    /// Whether a font family is available (case-insensitive).
    pub fn has_family(&self, family: &str) -> bool {
        let wanted = family.to_lowercase();
        self.store
            .book()
            .families()
            .any(|(name, _)| name.to_lowercase() == wanted)
    }
}

/// A typst world over one generated document.
pub struct ReportWorld {
    library: LazyHash<Library>,
    fonts: &'static Fonts,
    main: Source,
    files: HashMap<FileId, Bytes>,
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| {
        VirtualPath::new("invalid").unwrap_or_else(|_| unreachable!("a plain name is a valid path"))
    });
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

impl ReportWorld {
    /// A world whose main file is `markup` and whose other files are `files` by path.
    pub fn new(
        markup: String,
        files: Vec<(String, Vec<u8>)>,
        fonts: &'static Fonts,
    ) -> ReportWorld {
        let main = Source::new(file_id("report.typ"), markup);
        let files = files
            .into_iter()
            .map(|(path, bytes)| (file_id(&path), Bytes::new(bytes)))
            .collect();
        ReportWorld {
            library: LazyHash::new(Library::default()),
            fonts,
            main,
            files,
        }
    }

    /// Compiles and exports the PDF; errors carry typst's messages.
    pub fn pdf(&self) -> Result<(Vec<u8>, usize), String> {
        let document = typst::compile::<typst_layout::PagedDocument>(self)
            .output
            .map_err(|errors| describe(&errors))?;
        let pages = document.pages().len();
        let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
            .map_err(|errors| describe(&errors))?;
        Ok((pdf, pages))
    }
}

fn describe(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("；")
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.store.book()
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(id.vpath().get_without_slash().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.store.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
