//! The report's CJK faces cut to common characters (GB 2312, Latin, punctuation and symbols;
//! see [`common`]) and kept as font files under the user's cache folder, so that a process
//! making a PDF hashes and reads a few MB per face instead of a 20–27 MB collection.
//!
//! A cut face is made once per source file: its name carries a key of the source's path,
//! size and modification time, so a changed or replaced font file gets a new cut, and the
//! previous one is removed. A cached file is mapped, not read, and used only if it is whole
//! (every table inside the file, the file's checksum agreeing with its head's adjustment)
//! and typst can read it; otherwise it is made again. When
//! the folder cannot be made or written, there is no cut face and the whole collection is
//! used, as before. The whole faces stay in the font book behind the cut ones, so that a
//! character outside the common set is still found in the same typeface.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use typst::foundations::Bytes;
use typst::text::FontInfo;

use super::cut;

/// Raised whenever the way faces are cut changes, so that older cuts are made again.
const CUT_VERSION: u32 = 1;

/// The folder cut faces are kept in: `NIANBAO_FONT_CACHE` if set (empty: none), else
/// `$XDG_CACHE_HOME/nianbao/fonts`, else `~/.cache/nianbao/fonts`.
pub fn folder() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NIANBAO_FONT_CACHE") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("nianbao").join("fonts"))
}

/// Face `index` of the font file at `source` (whose bytes are `data`) cut to the common
/// characters: read from `folder` if a whole cut of this very file is there, else cut and
/// written there. `None` when the face cannot be cut or the folder cannot be written.
pub fn cut_face(
    folder: &Path,
    source: &Path,
    data: &[u8],
    index: u32,
) -> Option<(Bytes, FontInfo)> {
    cut_face_keeping(folder, source, data, index, common)
}

/// [`cut_face`] with the kept characters chosen by `keep`.
fn cut_face_keeping(
    folder: &Path,
    source: &Path,
    data: &[u8],
    index: u32,
    keep: fn(u32) -> bool,
) -> Option<(Bytes, FontInfo)> {
    let (prefix, name) = file_name(source, index)?;
    let path = folder.join(&name);
    if let Some(cached) = map(&path)
        && let Some(info) = usable(&cached)
    {
        return Some((Bytes::new(cached), info));
    }
    std::fs::create_dir_all(folder).ok()?;
    // Made before cutting, so that an unwritable folder costs nothing.
    let mut file = tempfile::NamedTempFile::new_in(folder).ok()?;
    let face = cut::cut(data, index, keep).ok()?;
    let info = usable(&face)?;
    std::io::Write::write_all(&mut file, &face).ok()?;
    if file.persist(&path).is_ok() {
        remove_older(folder, &prefix, &name);
    }
    Some((Bytes::new(face), info))
}

/// The cut at `path` mapped into memory (read only as typst touches it).
fn map(path: &Path) -> Option<memmap2::Mmap> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: a cut file is never written in place: cuts are written to a temporary file
    // that is renamed over the old one, and removed ones are unlinked, so the mapped bytes
    // do not change while the process uses them.
    unsafe { memmap2::Mmap::map(&file) }.ok()
}

/// A cut face's properties, if it can be used: whole, and a face typst can read.
fn usable(data: &[u8]) -> Option<FontInfo> {
    if !cut::intact(data) {
        return None;
    }
    FontInfo::new(data, 0)
}

/// The cut's file name (`NotoSerifCJK-Regular-2-<path>-<key>.otf`: the face, a hash of the
/// source's path, and a key of its path, size and modification time) and the prefix every
/// cut of the same face of the same file starts with.
fn file_name(source: &Path, index: u32) -> Option<(String, String)> {
    let meta = std::fs::metadata(source).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let path = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    let hex = |digest: &[u8]| -> String { digest.iter().map(|b| format!("{b:02x}")).collect() };
    let place = hex(&Sha256::digest(path.as_os_str().as_encoded_bytes())[..4]);
    let mut key = Sha256::new();
    key.update(CUT_VERSION.to_be_bytes());
    key.update(path.as_os_str().as_encoded_bytes());
    key.update([0]);
    key.update(meta.len().to_be_bytes());
    key.update(modified.as_nanos().to_be_bytes());
    key.update(index.to_be_bytes());
    let key = hex(&key.finalize()[..8]);
    let stem: String = source
        .file_stem()?
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let prefix = format!("{stem}-{index}-{place}-");
    Some((prefix.clone(), format!("{prefix}{key}.otf")))
}

/// Removes earlier cuts of the same face (of a font file since changed).
fn remove_older(folder: &Path, prefix: &str, keep: &str) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".otf") && name != keep {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a character is kept in the cut faces: the characters of GB 2312 (its 6,763
/// hanzi and its symbols), Latin, general punctuation and the common symbol blocks, CJK
/// punctuation and full-width forms.
pub fn common(c: u32) -> bool {
    matches!(c,
        0x20..=0x7e
        | 0xa0..=0x24f
        | 0x2000..=0x2bff
        | 0x3000..=0x303f
        | 0x3200..=0x33ff
        | 0xfe10..=0xfe1f
        | 0xfe30..=0xfe4f
        | 0xff00..=0xffef)
        || gb2312()
            .get(c as usize / 64)
            .is_some_and(|word| word >> (c % 64) & 1 == 1)
}

/// The characters of GB 2312 as a bit set over the Basic Multilingual Plane.
fn gb2312() -> &'static [u64] {
    static SET: OnceLock<Vec<u64>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = vec![0u64; 0x10000 / 64];
        for lead in 0xa1u8..=0xf7 {
            for trail in 0xa1u8..=0xfe {
                let pair = [lead, trail];
                let (text, malformed) = encoding_rs::GBK.decode_without_bom_handling(&pair);
                let mut chars = text.chars();
                if let (false, Some(c), None) = (malformed, chars.next(), chars.next()) {
                    let c = c as u32;
                    // GBK's user-defined rows land in the private use area: not characters.
                    if c < 0x10000 && !(0xe000..=0xf8ff).contains(&c) && c != 0xfffd {
                        set[c as usize / 64] |= 1 << (c % 64);
                    }
                }
            }
        }
        set
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system's Noto Serif CJK SC regular face: its file and index in it.
    fn serif() -> (PathBuf, u32) {
        let db = crate::fonts::system();
        db.faces()
            .find(|face| {
                face.families
                    .iter()
                    .any(|(name, _)| name == "Noto Serif CJK SC")
                    && face.weight == fontdb::Weight::NORMAL
            })
            .and_then(|face| match &face.source {
                fontdb::Source::File(path) | fontdb::Source::SharedFile(path, _) => {
                    Some((path.clone(), face.index))
                }
                fontdb::Source::Binary(_) => None,
            })
            .expect("Noto Serif CJK SC (fonts-noto-cjk) is installed")
    }

    use resvg::usvg::fontdb;

    const FEW: &str = "质量年度报告学校ABC123，。（）";

    fn few(c: u32) -> bool {
        char::from_u32(c).is_some_and(|c| FEW.contains(c))
    }

    fn fewer(c: u32) -> bool {
        char::from_u32(c).is_some_and(|c| "质量".contains(c))
    }

    /// An outline as a list of drawing commands.
    #[derive(Default)]
    struct Drawn(String);

    impl ttf_parser::OutlineBuilder for Drawn {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0 += &format!("M{x} {y}");
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0 += &format!("L{x} {y}");
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0 += &format!("Q{x1} {y1} {x} {y}");
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0 += &format!("C{x1} {y1} {x2} {y2} {x} {y}");
        }
        fn close(&mut self) {
            self.0 += "Z";
        }
    }

    fn outline(face: &ttf_parser::Face, glyph: ttf_parser::GlyphId) -> String {
        let mut path = Drawn::default();
        face.outline_glyph(glyph, &mut path);
        path.0
    }

    #[test]
    fn a_cut_face_draws_its_characters_as_the_collection_does_and_lacks_the_rest() {
        let (source, index) = serif();
        let data = std::fs::read(&source).unwrap();
        let cut = cut::cut(&data, index, few).unwrap();
        assert!(cut::intact(&cut));
        assert!(
            cut.len() * 5 < data.len(),
            "{} of {} bytes",
            cut.len(),
            data.len()
        );
        let whole = ttf_parser::Face::parse(&data, index).unwrap();
        let part = ttf_parser::Face::parse(&cut, 0).unwrap();
        assert_eq!(part.number_of_glyphs(), whole.number_of_glyphs());
        for c in FEW.chars() {
            let glyph = whole.glyph_index(c).unwrap();
            assert_eq!(part.glyph_index(c), Some(glyph), "{c}");
            let drawn = outline(&whole, glyph);
            assert!(!drawn.is_empty(), "{c}");
            assert_eq!(outline(&part, glyph), drawn, "{c}");
            assert_eq!(
                part.glyph_hor_advance(glyph),
                whole.glyph_hor_advance(glyph)
            );
        }
        // Outside the kept characters: in the collection, not in the cut face's map, and its
        // outline gone.
        let glyph = whole.glyph_index('龘').unwrap();
        assert_eq!(part.glyph_index('龘'), None);
        assert_eq!(outline(&part, glyph), "");
        let info = FontInfo::new(&cut, 0).unwrap();
        let full = FontInfo::new(&data, index).unwrap();
        assert_eq!((info.family, info.variant), (full.family, full.variant));
        assert!(info.coverage.contains('质' as u32) && !info.coverage.contains('龘' as u32));
    }

    #[test]
    fn a_changed_byte_or_a_short_file_is_not_intact() {
        let (source, index) = serif();
        let data = std::fs::read(&source).unwrap();
        let cut = cut::cut(&data, index, fewer).unwrap();
        assert!(cut::intact(&cut));
        let mut changed = cut.clone();
        let middle = changed.len() / 2;
        changed[middle] ^= 0x20;
        assert!(!cut::intact(&changed));
        assert!(!cut::intact(&cut[..cut.len() - 4]));
        assert!(!cut::intact(&cut[..cut.len() / 3]));
        assert!(!cut::intact(b"not a font"));
    }

    /// A copy of the serif collection in its own folder, whose modification time tests change.
    fn copied() -> (tempfile::TempDir, PathBuf, Vec<u8>, u32) {
        let (source, index) = serif();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("NotoSerifCJK-Regular.ttc");
        std::fs::copy(&source, &copy).unwrap();
        let data = std::fs::read(&copy).unwrap();
        (dir, copy, data, index)
    }

    fn cuts_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_cache_folder_is_made_and_a_whole_cut_is_read_back_not_made_again() {
        let (dir, source, data, index) = copied();
        let folder = dir.path().join("cache").join("nianbao").join("fonts");
        let (made, info) = cut_face_keeping(&folder, &source, &data, index, few).unwrap();
        assert!(info.coverage.contains('报' as u32));
        let names = cuts_in(&folder);
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with(&format!("NotoSerifCJK-Regular-{index}-")));
        assert_eq!(
            std::fs::read(folder.join(&names[0])).unwrap(),
            made.as_slice()
        );
        // Asked again with another character set, the cached cut is what comes back.
        let (again, info) = cut_face_keeping(&folder, &source, &data, index, fewer).unwrap();
        assert_eq!(again.as_slice(), made.as_slice());
        assert!(info.coverage.contains('报' as u32));
    }

    #[test]
    fn a_corrupt_cut_is_made_again() {
        let (dir, source, data, index) = copied();
        let folder = dir.path().join("fonts");
        let (made, _) = cut_face_keeping(&folder, &source, &data, index, few).unwrap();
        let name = cuts_in(&folder).remove(0);
        // Cut short, as by a crash or a full disk.
        std::fs::write(folder.join(&name), &made[..made.len() / 2]).unwrap();
        let (again, info) = cut_face_keeping(&folder, &source, &data, index, fewer).unwrap();
        assert!(info.coverage.contains('质' as u32) && !info.coverage.contains('报' as u32));
        assert!(cut::intact(&again));
        assert_eq!(std::fs::read(folder.join(&name)).unwrap(), again.as_slice());
        // One byte changed.
        let mut changed = again.to_vec();
        let last = changed.len() - 40;
        changed[last] ^= 1;
        std::fs::write(folder.join(&name), &changed).unwrap();
        let (third, _) = cut_face_keeping(&folder, &source, &data, index, fewer).unwrap();
        assert_eq!(third.as_slice(), again.as_slice());
        assert_eq!(cuts_in(&folder), vec![name]);
    }

    #[test]
    fn a_cut_of_a_font_file_since_changed_is_made_again_and_the_old_one_removed() {
        let (dir, source, data, index) = copied();
        let folder = dir.path().join("fonts");
        cut_face_keeping(&folder, &source, &data, index, few).unwrap();
        let before = cuts_in(&folder);
        let file = std::fs::File::options().write(true).open(&source).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
        drop(file);
        let (made, info) = cut_face_keeping(&folder, &source, &data, index, fewer).unwrap();
        assert!(
            !info.coverage.contains('报' as u32),
            "made again from the changed file"
        );
        let after = cuts_in(&folder);
        assert_eq!(after.len(), 1, "{after:?}");
        assert_ne!(after, before);
        assert_eq!(
            std::fs::read(folder.join(&after[0])).unwrap(),
            made.as_slice()
        );
    }

    #[test]
    fn an_unwritable_cache_folder_gives_no_cut_and_no_error() {
        let (dir, source, data, index) = copied();
        // A folder below a plain file cannot be made, not even by root.
        let blocker = dir.path().join("plain-file");
        std::fs::write(&blocker, b"x").unwrap();
        let folder = blocker.join("fonts");
        assert!(cut_face_keeping(&folder, &source, &data, index, few).is_none());
        assert_eq!(std::fs::read(&blocker).unwrap(), b"x");
    }

    #[test]
    fn common_characters_are_gb2312_with_latin_and_punctuation() {
        for c in "质量年度报告职业教育学校龄鑫ABCxyz0129，。、：；“”（）《》—…·％①".chars()
        {
            assert!(common(c as u32), "{c}");
        }
        for c in "龘𠀀한".chars() {
            assert!(!common(c as u32), "{c}");
        }
        let hanzi = (0x4e00..=0x9fff).filter(|&c| common(c)).count();
        assert_eq!(hanzi, 6763);
    }
}
