//! The typst `World` the PDF is compiled in: the generated markup as the main file,
//! charts and pictures as in-memory files, and the fonts of the process's font database
//! (found once per process, each file mapped, not read). Everything version-specific about
//! typst's API is kept in this module.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::{FontPath, FontSource, FontStore};

use super::markup::{BODY_FONT, HEADING_FONT};

/// The fonts the PDF may be set in: the system's (and `NIANBAO_FONT_DIR`'s) faces, except
/// the CJK faces of other regions and widths (JP, KR, TC, HK, Mono). Reading the character
/// coverage of each of those tens of thousands of characters was most of the time of a
/// report's PDF, and none is used while the two SC families the report names are there;
/// Latin and symbol fonts stay, for characters those two lack.
pub struct Fonts {
    store: FontStore,
}

impl Fonts {
    /// Builds the font book once per process. Each face's properties (its character
    /// coverage above all) are read on two threads, in the font database's order.
    pub fn shared() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| {
            let db = crate::fonts::system();
            let faces: Vec<_> = db
                .faces()
                .filter(|face| wanted(&face.families))
                .map(|face| face.id)
                .collect();
            let read = |ids: &[fontdb::ID]| -> Vec<Option<(Face, FontInfo)>> {
                ids.iter().map(|&id| read_face(&db, id)).collect()
            };
            let (first, second) = faces.split_at(faces.len() / 2);
            let entries = std::thread::scope(|scope| {
                let later = scope.spawn(|| read(second));
                let mut entries = read(first);
                match later.join() {
                    Ok(rest) => entries.extend(rest),
                    Err(_) => entries.extend(read(second)),
                }
                entries
            });
            let mut store = FontStore::new();
            for entry in entries.into_iter().flatten() {
                store.push(entry);
            }
            Fonts { store }
        })
    }

    /// Loads every face of the report's two families and computes the hashes typst keeps
    /// for them and for the font book, on two threads. typst identifies a font by a hash of
    /// its whole file (20–27 MB for each Noto CJK collection), computed once per process
    /// on first use; done beforehand, a PDF compiled afterwards finds them ready.
    pub fn prepare(&self) {
        let book = self.store.book();
        let mut faces = Vec::new();
        for family in [BODY_FONT, HEADING_FONT] {
            faces.extend(book.select_family(&family.to_lowercase()));
        }
        let ready = |indices: Vec<usize>| {
            for index in indices {
                if let Some(font) = self.store.font(index) {
                    typst::utils::hash128(&font);
                }
            }
        };
        // Every other face to each thread: a body face and a heading face each.
        let (even, odd): (Vec<_>, Vec<_>) = faces.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let pick =
            |half: Vec<(usize, &usize)>| half.into_iter().map(|(_, &f)| f).collect::<Vec<_>>();
        let (even, odd) = (pick(even), pick(odd));
        std::thread::scope(|scope| {
            scope.spawn(|| ready(odd));
            typst::utils::hash128(book);
            ready(even);
        });
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

/// A face's source and properties, or `None` when typst cannot read it.
fn read_face(db: &fontdb::Database, id: fontdb::ID) -> Option<(Face, FontInfo)> {
    match db.face_source(id)? {
        (fontdb::Source::SharedFile(_, data) | fontdb::Source::Binary(data), index) => {
            let info = FontInfo::new((*data).as_ref(), index)?;
            Some((Face::Mapped(MappedFace { data, index }), info))
        }
        // A file that could not be mapped is read when typst first needs it.
        (fontdb::Source::File(path), index) => {
            let info = db.with_face_data(id, FontInfo::new).flatten()?;
            Some((Face::File(FontPath { path, index }), info))
        }
    }
}

/// Where typst loads a face from.
enum Face {
    Mapped(MappedFace),
    File(FontPath),
}

impl FontSource for Face {
    fn load(&self) -> Option<Font> {
        match self {
            Face::Mapped(face) => face.load(),
            Face::File(path) => path.load(),
        }
    }
}

/// Whether a face goes into the book: one of the report's two families, or not CJK at all.
fn wanted(families: &[(String, fontdb::Language)]) -> bool {
    let named = |name: &str| {
        [BODY_FONT, HEADING_FONT]
            .iter()
            .any(|family| family.eq_ignore_ascii_case(name))
    };
    families.iter().any(|(name, _)| named(name))
        || !families.iter().any(|(name, _)| name.contains("CJK"))
}

/// One face of a font file the font database has mapped into memory.
struct MappedFace {
    data: Arc<dyn AsRef<[u8]> + Send + Sync>,
    index: u32,
}

impl FontSource for MappedFace {
    fn load(&self) -> Option<Font> {
        Font::new(Bytes::new(Mapped(self.data.clone())), self.index)
    }
}

/// The mapped bytes, as typst's `Bytes` takes them.
struct Mapped(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
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
