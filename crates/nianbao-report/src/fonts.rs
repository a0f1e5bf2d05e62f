//! The system's fonts, found once per process and shared by the PDF (typst) and the charts
//! rasterised for the Word document (resvg): each font file is mapped into memory once,
//! never read whole, and the folder in `NIANBAO_FONT_DIR` (if set) comes first.

use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;

/// The font database of this process, every face's file mapped.
pub(crate) fn system() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            if let Some(dir) = std::env::var_os("NIANBAO_FONT_DIR") {
                db.load_fonts_dir(dir);
            }
            db.load_system_fonts();
            // Map every font file once for the process, rather than on every glyph lookup.
            let ids: Vec<_> = db.faces().map(|face| face.id).collect();
            for id in ids {
                // SAFETY: the mapped font files are system fonts that are not modified while
                // the program runs.
                unsafe {
                    db.make_shared_face_data(id);
                }
            }
            db.set_sans_serif_family("Noto Sans CJK SC");
            db.set_serif_family("Noto Serif CJK SC");
            Arc::new(db)
        })
        .clone()
}
