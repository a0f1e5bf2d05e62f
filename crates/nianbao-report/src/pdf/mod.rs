//! The report as PDF, laid out by typst from markup generated out of the document model:
//! A4, page numbers (Roman in the front matter, Arabic from chapter 1), a 目录 and the
//! other lists with page numbers, fonts embedded. Body text is set in Noto Serif CJK SC,
//! headings in Noto Sans CJK SC (Debian: fonts-noto-cjk).

pub mod markup;
pub mod world;

use crate::error::ReportError;
use crate::model::Document;

pub use world::Fonts;

/// The Debian package that provides the fonts the PDF is set in.
pub const FONT_PACKAGE: &str = "fonts-noto-cjk";

/// The system fonts, if both CJK families are installed; otherwise an error that names
/// the package to install (instead of a PDF full of empty boxes).
pub fn fonts() -> Result<&'static Fonts, ReportError> {
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

/// Renders the document as PDF; returns the bytes and the number of pages.
pub fn render(doc: &Document) -> Result<(Vec<u8>, usize), ReportError> {
    let fonts = fonts()?;
    let (source, files) = markup::generate(doc);
    world::ReportWorld::new(source, files, fonts)
        .pdf()
        .map_err(ReportError::Pdf)
}
