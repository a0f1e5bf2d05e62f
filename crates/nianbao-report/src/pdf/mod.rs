//! The report as PDF, laid out by typst from markup generated out of the document model:
//! A4, page numbers (Roman in the front matter, Arabic from chapter 1), a 目录 and the
//! other lists with page numbers, fonts embedded. Body text is set in Noto Serif CJK SC,
//! headings in Noto Sans CJK SC (Debian: fonts-noto-cjk).

mod cut;
mod face_cache;
pub mod markup;
pub mod world;

use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::error::ReportError;
use crate::model::Document;

pub use world::Fonts;

/// The Debian package that provides the fonts the PDF is set in.
pub const FONT_PACKAGE: &str = "fonts-noto-cjk";

/// The system fonts, if both CJK families are installed; otherwise an error that names
/// the package to install (instead of a PDF full of empty boxes).
pub fn fonts() -> Result<&'static Fonts, ReportError> {
    let started = PREPARING.lock().ok().and_then(|mut slot| slot.take());
    if let Some(handle) = started {
        // A panic there leaves nothing half-made that typst would not make again itself.
        let _ = handle.join();
    }
    let fonts = Fonts::shared();
    for family in [markup::BODY_FONT, markup::HEADING_FONT] {
        if !fonts.has_family(family) {
            return Err(ReportError::FontMissing {
                family: family.to_string(),
                package: FONT_PACKAGE.to_string(),
            });
        }
    }
    Ok(fonts)
}

/// The font preparation [`prepare_fonts`] started, if it is still to be waited for.
static PREPARING: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

/// Starts building the font book and preparing the report's faces ([`Fonts::prepare`]) on
/// other threads, for a process that is about to make a PDF and has other work to do first.
/// [`fonts`] waits for it, so that no part of it is done twice.
pub fn prepare_fonts() {
    let handle = std::thread::spawn(|| Fonts::shared().prepare());
    if let Ok(mut slot) = PREPARING.lock() {
        *slot = Some(handle);
    }
}

/// Renders the document as PDF; returns the bytes and the number of pages.
pub fn render(doc: &Document) -> Result<(Vec<u8>, usize), ReportError> {
    let fonts = fonts()?;
    let (source, files) = markup::generate(doc);
    world::ReportWorld::new(source, files, fonts)
        .pdf()
        .map_err(ReportError::Pdf)
}
