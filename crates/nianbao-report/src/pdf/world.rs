//! The typst `World` the PDF is compiled in: the generated markup as the main file,
//! charts and pictures as in-memory files, and the fonts of the process's font database
//! (found once per process, each file mapped, not read). Everything version-specific about
//! typst's API is kept in this module.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontInfo, FontStretch, FontStyle, FontVariant, FontWeight};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::{FontPath, FontSource, FontStore};

use super::face_cache;
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
            let cache = face_cache::folder();
            // The report's faces cut to common characters come first, so that selecting
            // the family finds them; the whole faces follow for every other character.
            let mut jobs: Vec<Job> = Vec::new();
            if let Some(folder) = &cache {
                jobs.extend(
                    db.faces()
                        .filter(|face| report_family(&face.families))
                        .map(|face| Job::Cut(face.id, folder)),
                );
            }
            jobs.extend(
                db.faces()
                    .filter(|face| wanted(&face.families))
                    .map(|face| Job::Whole(face.id)),
            );
            let read = |jobs: &[Job]| -> Vec<Option<(Face, FontInfo)>> {
                jobs.iter().map(|job| job.run(&db)).collect()
            };
            let (first, second) = jobs.split_at(jobs.len() / 2);
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

    /// Loads the faces the report's text is set in (the body and heading families, regular
    /// and bold, as the book selects them) and computes the hashes typst keeps for them and
    /// for the font book, on two threads. typst identifies a font by a hash of its whole
    /// file, computed once per process on first use; done beforehand, a PDF compiled
    /// afterwards finds them ready.
    pub fn prepare(&self) {
        let book = self.store.book();
        let mut faces = Vec::new();
        for family in [BODY_FONT, HEADING_FONT] {
            for weight in [FontWeight::REGULAR, FontWeight::BOLD] {
                let variant = FontVariant::new(FontStyle::Normal, weight, FontStretch::NORMAL);
                faces.extend(book.select(&family.to_lowercase(), variant));
            }
        }
        faces.dedup();
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
    Cut(Bytes),
}

impl FontSource for Face {
    fn load(&self) -> Option<Font> {
        match self {
            Face::Mapped(face) => face.load(),
            Face::File(path) => path.load(),
            Face::Cut(data) => Font::new(data.clone(), 0),
        }
    }
}

/// A face to read into the book: a system face as it is, or one cut to common characters
/// (kept in the given folder).
enum Job<'a> {
    Whole(fontdb::ID),
    Cut(fontdb::ID, &'a PathBuf),
}

impl Job<'_> {
    fn run(&self, db: &fontdb::Database) -> Option<(Face, FontInfo)> {
        match *self {
            Job::Whole(id) => read_face(db, id),
            Job::Cut(id, folder) => {
                let (fontdb::Source::SharedFile(path, data), index) = db.face_source(id)? else {
                    return None;
                };
                let (data, info) = face_cache::cut_face(folder, &path, (*data).as_ref(), index)?;
                Some((Face::Cut(data), info))
            }
        }
    }
}

/// Whether a face is one of the report's two families.
fn report_family(families: &[(String, fontdb::Language)]) -> bool {
    families.iter().any(|(name, _)| {
        [BODY_FONT, HEADING_FONT]
            .iter()
            .any(|family| family.eq_ignore_ascii_case(name))
    })
}

/// Whether a face goes into the book: one of the report's two families, or not CJK at all.
fn wanted(families: &[(String, fontdb::Language)]) -> bool {
    report_family(families) || !families.iter().any(|(name, _)| name.contains("CJK"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use typst::layout::{Frame, FrameItem};

    /// Every text run of a frame: its text, its font and its glyph ids.
    fn runs(frame: &Frame, out: &mut Vec<(String, Font, Vec<u16>)>) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(group) => runs(&group.frame, out),
                FrameItem::Text(text) => out.push((
                    text.text.to_string(),
                    text.font.font().clone(),
                    text.glyphs.iter().map(|g| g.id).collect(),
                )),
                _ => {}
            }
        }
    }

    #[test]
    fn common_characters_come_from_the_cut_face_and_a_rare_one_from_the_whole_face() {
        let fonts = super::super::fonts().expect("fonts-noto-cjk is installed");
        let markup = format!(
            "#set text(font: (\"{BODY_FONT}\", \"{HEADING_FONT}\"), lang: \"zh\", region: \"cn\")\n\
             质量年报龘龘\n\n#text(font: (\"{HEADING_FONT}\", \"{BODY_FONT}\"), weight: \"bold\")[学校]\n"
        );
        let world = ReportWorld::new(markup, Vec::new(), fonts);
        let document = typst::compile::<typst_layout::PagedDocument>(&world)
            .output
            .expect("compiles");
        let mut found = Vec::new();
        for page in document.pages() {
            runs(&page.frame, &mut found);
        }
        let run = |text: &str| {
            found
                .iter()
                .find(|(t, ..)| t == text)
                .unwrap_or_else(|| panic!("{text} in {found:?}"))
        };
        let whole = |font: &Font| font.data().len() > 15_000_000;
        let (_, common, glyphs) = run("质量年报");
        assert_eq!(common.info().family, BODY_FONT);
        assert!(
            !whole(common),
            "a cut face of {} bytes",
            common.data().len()
        );
        assert!(glyphs.iter().all(|&g| g != 0));
        let (_, rare, glyphs) = run("龘龘");
        assert_eq!(rare.info().family, BODY_FONT);
        assert!(whole(rare), "the whole face, {} bytes", rare.data().len());
        assert!(glyphs.iter().all(|&g| g != 0));
        let (_, bold, _) = run("学校");
        assert_eq!(bold.info().family, HEADING_FONT);
        assert!(!whole(bold));
        assert_eq!(bold.info().variant.weight, FontWeight::BOLD);
    }
}
