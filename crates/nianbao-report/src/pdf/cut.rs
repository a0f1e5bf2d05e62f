//! One face of a CFF-flavoured OpenType font (such as a face of a Noto CJK collection) cut
//! down to the characters a caller keeps, as a standalone font file a fraction of the size.
//!
//! Glyph ids stay as they are: the cut font has the same number of glyphs, the same metrics,
//! layout tables (GSUB, GPOS, BASE, VORG) and names, and every kept glyph's outline byte for
//! byte. Only the outlines of glyphs that no kept character can reach (through the character
//! map, or a substitution that Chinese text may run: see [`UNUSED_FEATURES`]) become empty,
//! and the character map lists the kept characters alone, so a layout engine looking for any
//! other character finds it missing and falls back to another font instead of drawing
//! nothing. Only CID-keyed CFF faces are cut (as the Noto CJK faces are).

use std::collections::BTreeMap;

use ttf_parser::GlyphId;
use ttf_parser::gsub::SubstitutionSubtable;

/// Why a face could not be cut.
#[derive(Debug, thiserror::Error)]
pub enum CutError {
    #[error("字体文件无法解析：{0}")]
    Malformed(&'static str),
    #[error("字体不是 CID 编排的 CFF 字形（不支持裁剪）：{0}")]
    Unsupported(&'static str),
}

type Result<T> = std::result::Result<T, CutError>;

/// The face `index` of the font file `data` keeping only the characters `keep` accepts
/// (and the glyphs substitutions may turn them into).
pub fn cut(data: &[u8], index: u32, keep: impl Fn(u32) -> bool) -> Result<Vec<u8>> {
    let tables = table_directory(data, index)?;
    let face = ttf_parser::Face::parse(data, index).map_err(|_| CutError::Malformed("face"))?;
    if tables
        .iter()
        .any(|(tag, _)| tag == b"glyf" || tag == b"CFF2")
    {
        return Err(CutError::Unsupported("glyf/CFF2"));
    }
    let cff = table(data, &tables, b"CFF ").ok_or(CutError::Unsupported("无 CFF 表"))?;

    // The kept characters and their glyphs, from every Unicode subtable of the cmap.
    let mut chars = BTreeMap::new();
    let cmap = face.tables().cmap.ok_or(CutError::Malformed("cmap"))?;
    for subtable in cmap.subtables {
        if !subtable.is_unicode() {
            continue;
        }
        subtable.codepoints(|c| {
            if keep(c)
                && let Some(glyph) = subtable.glyph_index(c)
                && glyph.0 != 0
            {
                chars.entry(c).or_insert(glyph.0);
            }
        });
    }
    let glyphs = face.number_of_glyphs();
    let mut kept = vec![false; usize::from(glyphs)];
    kept[0] = true;
    for &glyph in chars.values() {
        if let Some(slot) = kept.get_mut(usize::from(glyph)) {
            *slot = true;
        }
    }
    close_over_substitutions(&face, &mut kept);

    let cff = cut_cff(cff, &kept)?;
    let cmap = cmap_table(&chars);
    let mut out: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for (tag, range) in &tables {
        let body = match tag {
            b"CFF " => cff.clone(),
            b"cmap" => cmap.clone(),
            b"DSIG" => continue,
            _ => data[range.clone()].to_vec(),
        };
        out.push((*tag, body));
    }
    Ok(sfnt(out))
}

/// Features whose substitutions the report never asks for: alternates offered to a user
/// (aalt), other widths and vertical forms, ruby, historical and discretionary forms and
/// Korean jamo. Their glyphs are left out unless a kept character reaches them otherwise.
const UNUSED_FEATURES: [&[u8; 4]; 21] = [
    b"aalt", b"dlig", b"fwid", b"hwid", b"pwid", b"qwid", b"twid", b"halt", b"palt", b"hist",
    b"ruby", b"vert", b"vrt2", b"vkna", b"vhal", b"vpal", b"vjmo", b"ljmo", b"tjmo", b"nalt",
    b"hkna",
];

/// The language system the report's text is set in (Chinese, simplified).
const REPORT_LANGUAGE: &[u8; 4] = b"ZHS ";

/// Adds to `kept` every glyph that a substitution may make of kept glyphs, through the
/// lookups that text in the report's language may run: those of every feature not in
/// [`UNUSED_FEATURES`] in each script's default language system and in Chinese (simplified),
/// and the lookups those call from a context. Contexts are not checked (more glyphs are kept
/// than needed, never fewer).
fn close_over_substitutions(face: &ttf_parser::Face, kept: &mut [bool]) {
    let Some(gsub) = face.tables().gsub else {
        return;
    };
    let mut reached = vec![false; usize::from(gsub.lookups.len())];
    let mut work = Vec::new();
    for script in gsub.scripts {
        let languages = script.default_language.into_iter().chain(
            script
                .languages
                .into_iter()
                .filter(|language| language.tag.to_bytes() == *REPORT_LANGUAGE),
        );
        for language in languages {
            for index in language
                .required_feature
                .into_iter()
                .chain(language.feature_indices)
            {
                let Some(feature) = gsub.features.get(index) else {
                    continue;
                };
                if UNUSED_FEATURES.contains(&&feature.tag.to_bytes()) {
                    continue;
                }
                work.extend(feature.lookup_indices);
            }
        }
    }
    let mut subtables = Vec::new();
    while let Some(index) = work.pop() {
        let Some(slot) = reached.get_mut(usize::from(index)) else {
            continue;
        };
        if std::mem::replace(slot, true) {
            continue;
        }
        let Some(lookup) = gsub.lookups.get(index) else {
            continue;
        };
        for subtable in lookup.subtables.into_iter::<SubstitutionSubtable>() {
            work.extend(called(&subtable));
            subtables.push(subtable);
        }
    }

    // Until no substitution adds a glyph.
    let mut made = Vec::new();
    loop {
        for glyph in (0..kept.len()).filter(|&g| kept[g]) {
            let glyph = GlyphId(glyph as u16);
            for subtable in &subtables {
                let Some(at) = subtable.coverage().get(glyph) else {
                    continue;
                };
                substitutes(subtable, glyph, at, kept, &mut made);
            }
        }
        let mut added = false;
        for glyph in made.drain(..) {
            if let Some(slot) = kept.get_mut(usize::from(glyph.0))
                && !*slot
            {
                *slot = true;
                added = true;
            }
        }
        if !added {
            break;
        }
    }
}

/// The glyphs a subtable may put in place of `glyph` (at `at` in its coverage).
fn substitutes(
    subtable: &SubstitutionSubtable,
    glyph: GlyphId,
    at: u16,
    kept: &[bool],
    made: &mut Vec<GlyphId>,
) {
    use ttf_parser::gsub::SingleSubstitution;
    match subtable {
        SubstitutionSubtable::Single(SingleSubstitution::Format1 { delta, .. }) => {
            made.push(GlyphId(glyph.0.wrapping_add(*delta as u16)));
        }
        SubstitutionSubtable::Single(SingleSubstitution::Format2 { substitutes, .. }) => {
            made.extend(substitutes.get(at));
        }
        SubstitutionSubtable::Multiple(multiple) => {
            if let Some(sequence) = multiple.sequences.get(at) {
                made.extend(sequence.substitutes);
            }
        }
        SubstitutionSubtable::Alternate(alternate) => {
            if let Some(set) = alternate.alternate_sets.get(at) {
                made.extend(set.alternates);
            }
        }
        SubstitutionSubtable::Ligature(ligature) => {
            if let Some(set) = ligature.ligature_sets.get(at) {
                let all_kept = |components: ttf_parser::LazyArray16<GlyphId>| {
                    components
                        .into_iter()
                        .all(|c| kept.get(usize::from(c.0)).copied().unwrap_or(false))
                };
                made.extend(
                    set.into_iter()
                        .filter(|ligature| all_kept(ligature.components))
                        .map(|ligature| ligature.glyph),
                );
            }
        }
        SubstitutionSubtable::ReverseChainSingle(reverse) => {
            made.extend(reverse.substitutes.get(at));
        }
        // Their substitutions are the lookups they call, reached separately.
        SubstitutionSubtable::Context(_) | SubstitutionSubtable::ChainContext(_) => {}
    }
}

/// The lookups a contextual subtable calls.
fn called(subtable: &SubstitutionSubtable) -> Vec<u16> {
    use ttf_parser::opentype_layout::{ChainedContextLookup, ContextLookup};
    let mut records = Vec::new();
    match subtable {
        SubstitutionSubtable::Context(
            ContextLookup::Format1 { sets, .. } | ContextLookup::Format2 { sets, .. },
        ) => {
            for set in sets.into_iter() {
                for rule in set {
                    records.extend(rule.lookups);
                }
            }
        }
        SubstitutionSubtable::Context(ContextLookup::Format3 { lookups, .. }) => {
            records.extend(*lookups);
        }
        SubstitutionSubtable::ChainContext(
            ChainedContextLookup::Format1 { sets, .. } | ChainedContextLookup::Format2 { sets, .. },
        ) => {
            for set in sets.into_iter() {
                for rule in set {
                    records.extend(rule.lookups);
                }
            }
        }
        SubstitutionSubtable::ChainContext(ChainedContextLookup::Format3 { lookups, .. }) => {
            records.extend(*lookups);
        }
        _ => {}
    }
    records.into_iter().map(|r| r.lookup_list_index).collect()
}

/// The tables of face `index` (tag and byte range), in the file's order.
fn table_directory(data: &[u8], index: u32) -> Result<Vec<([u8; 4], std::ops::Range<usize>)>> {
    let start = if data.get(0..4) == Some(b"ttcf") {
        let count = read_u32(data, 8)?;
        if index >= count {
            return Err(CutError::Malformed("collection index"));
        }
        read_u32(data, 12 + 4 * index as usize)? as usize
    } else if index == 0 {
        0
    } else {
        return Err(CutError::Malformed("collection index"));
    };
    if read_u32(data, start)? != u32::from_be_bytes(*b"OTTO") {
        return Err(CutError::Unsupported("不是 OpenType CFF 字体"));
    }
    let count = usize::from(read_u16(data, start + 4)?);
    let mut tables = Vec::with_capacity(count);
    for i in 0..count {
        let record = start + 12 + 16 * i;
        let tag: [u8; 4] = data
            .get(record..record + 4)
            .and_then(|t| t.try_into().ok())
            .ok_or(CutError::Malformed("table record"))?;
        let offset = read_u32(data, record + 8)? as usize;
        let length = read_u32(data, record + 12)? as usize;
        if offset
            .checked_add(length)
            .is_none_or(|end| end > data.len())
        {
            return Err(CutError::Malformed("table range"));
        }
        tables.push((tag, offset..offset + length));
    }
    Ok(tables)
}

fn table<'a>(
    data: &'a [u8],
    tables: &[([u8; 4], std::ops::Range<usize>)],
    tag: &[u8; 4],
) -> Option<&'a [u8]> {
    let (_, range) = tables.iter().find(|(t, _)| t == tag)?;
    data.get(range.clone())
}

fn read_u16(data: &[u8], at: usize) -> Result<u16> {
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(CutError::Malformed("truncated"))
}

fn read_u32(data: &[u8], at: usize) -> Result<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(CutError::Malformed("truncated"))
}

/// A big-endian unsigned number of `size` bytes (1 to 4).
fn read_sized(data: &[u8], at: usize, size: usize) -> Result<usize> {
    let bytes = data
        .get(at..at + size)
        .ok_or(CutError::Malformed("truncated"))?;
    Ok(bytes.iter().fold(0, |n, &b| (n << 8) | usize::from(b)))
}

/// A CFF INDEX: where it ends and the byte range of each item.
struct Index {
    end: usize,
    items: Vec<std::ops::Range<usize>>,
}

fn read_index(cff: &[u8], at: usize) -> Result<Index> {
    let count = usize::from(read_u16(cff, at)?);
    if count == 0 {
        return Ok(Index {
            end: at + 2,
            items: Vec::new(),
        });
    }
    let size = usize::from(*cff.get(at + 2).ok_or(CutError::Malformed("index"))?);
    if !(1..=4).contains(&size) {
        return Err(CutError::Malformed("index offset size"));
    }
    let base = at + 3 + (count + 1) * size - 1;
    let mut offsets = Vec::with_capacity(count + 1);
    for i in 0..=count {
        offsets.push(base + read_sized(cff, at + 3 + i * size, size)?);
    }
    let end = offsets[count];
    if end > cff.len() || offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(CutError::Malformed("index offsets"));
    }
    let items = offsets.windows(2).map(|w| w[0]..w[1]).collect();
    Ok(Index { end, items })
}

fn write_index(items: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend((items.len() as u16).to_be_bytes());
    if items.is_empty() {
        return out;
    }
    let total: usize = items.iter().map(|i| i.len()).sum::<usize>() + 1;
    let size = match total {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    out.push(size as u8);
    let mut offset = 1usize;
    let put = |out: &mut Vec<u8>, n: usize| out.extend(&n.to_be_bytes()[8 - size..]);
    put(&mut out, offset);
    for item in items {
        offset += item.len();
        put(&mut out, offset);
    }
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// One DICT entry: its operator (escaped ones as 1200 + second byte), its operands' raw
/// bytes, and the operands read as integers (`None` for a real number).
struct Entry<'a> {
    op: u16,
    raw: &'a [u8],
    numbers: Vec<Option<i64>>,
}

fn read_dict(dict: &[u8]) -> Result<Vec<Entry<'_>>> {
    let mut entries = Vec::new();
    let mut numbers = Vec::new();
    let (mut i, mut start) = (0, 0);
    let byte = |at: usize| dict.get(at).copied().ok_or(CutError::Malformed("dict"));
    while i < dict.len() {
        let b = dict[i];
        match b {
            0..=21 => {
                let (op, len) = if b == 12 {
                    (1200 + u16::from(byte(i + 1)?), 2)
                } else {
                    (u16::from(b), 1)
                };
                entries.push(Entry {
                    op,
                    raw: &dict[start..i],
                    numbers: std::mem::take(&mut numbers),
                });
                i += len;
                start = i;
            }
            28 => {
                numbers.push(Some(i64::from(i16::from_be_bytes([
                    byte(i + 1)?,
                    byte(i + 2)?,
                ]))));
                i += 3;
            }
            29 => {
                numbers.push(Some(i64::from(i32::from_be_bytes([
                    byte(i + 1)?,
                    byte(i + 2)?,
                    byte(i + 3)?,
                    byte(i + 4)?,
                ]))));
                i += 5;
            }
            30 => {
                i += 1;
                loop {
                    let nibbles = byte(i)?;
                    i += 1;
                    if nibbles & 0x0f == 0x0f || nibbles >> 4 == 0x0f {
                        break;
                    }
                }
                numbers.push(None);
            }
            32..=246 => {
                numbers.push(Some(i64::from(b) - 139));
                i += 1;
            }
            247..=250 => {
                numbers.push(Some(
                    (i64::from(b) - 247) * 256 + i64::from(byte(i + 1)?) + 108,
                ));
                i += 2;
            }
            251..=254 => {
                numbers.push(Some(
                    -(i64::from(b) - 251) * 256 - i64::from(byte(i + 1)?) - 108,
                ));
                i += 2;
            }
            _ => return Err(CutError::Malformed("dict operand")),
        }
    }
    Ok(entries)
}

fn entry<'a, 'b>(dict: &'b [Entry<'a>], op: u16) -> Option<&'b Entry<'a>> {
    dict.iter().find(|e| e.op == op)
}

/// The integer operands of `op`, as offsets or sizes.
fn offsets(dict: &[Entry], op: u16) -> Result<Vec<usize>> {
    let entry = entry(dict, op).ok_or(CutError::Malformed("dict entry"))?;
    entry
        .numbers
        .iter()
        .map(|n| n.and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or(CutError::Malformed("dict offset"))
}

/// A DICT written again, the operands of the operators in `fixed` as five-byte integers
/// (so that the DICT's size does not depend on their values).
fn write_dict(dict: &[Entry], fixed: &[(u16, Vec<usize>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in dict {
        match fixed.iter().find(|(op, _)| *op == entry.op) {
            Some((_, values)) => {
                for &value in values {
                    out.push(29);
                    out.extend((value as i32).to_be_bytes());
                }
            }
            None => out.extend_from_slice(entry.raw),
        }
        if entry.op >= 1200 {
            out.extend([12, (entry.op - 1200) as u8]);
        } else {
            out.push(entry.op as u8);
        }
    }
    out
}

const CHARSET: u16 = 15;
const ENCODING: u16 = 16;
const CHAR_STRINGS: u16 = 17;
const PRIVATE: u16 = 18;
const SUBRS: u16 = 19;
const ROS: u16 = 1230;
const FD_ARRAY: u16 = 1236;
const FD_SELECT: u16 = 1237;

/// The CFF table with the outlines of glyphs not `kept` replaced by an empty one (`endchar`).
fn cut_cff(cff: &[u8], kept: &[bool]) -> Result<Vec<u8>> {
    let header = usize::from(*cff.get(2).ok_or(CutError::Malformed("CFF header"))?);
    let names = read_index(cff, header)?;
    let tops = read_index(cff, names.end)?;
    let strings = read_index(cff, tops.end)?;
    let globals = read_index(cff, strings.end)?;
    let [top] = tops.items.as_slice() else {
        return Err(CutError::Unsupported("CFF 表含多个字体"));
    };
    let top = read_dict(&cff[top.clone()])?;
    if entry(&top, ROS).is_none() || entry(&top, PRIVATE).is_some() {
        return Err(CutError::Unsupported("不是 CID 字体"));
    }
    if entry(&top, ENCODING).is_some() {
        return Err(CutError::Unsupported("CID 字体带编码表"));
    }

    let char_strings = read_index(cff, offsets(&top, CHAR_STRINGS)?[0])?;
    let glyphs = char_strings.items.len();
    if glyphs != kept.len() {
        return Err(CutError::Malformed("glyph count"));
    }
    let charset = offsets(&top, CHARSET)?[0];
    let charset = charset..charset + charset_len(cff, charset, glyphs)?;
    let fd_select = offsets(&top, FD_SELECT)?[0];
    let fd_select = fd_select..fd_select + fd_select_len(cff, fd_select, glyphs)?;
    if charset.end > cff.len() || fd_select.end > cff.len() {
        return Err(CutError::Malformed("charset/FDSelect"));
    }
    let fd_array = read_index(cff, offsets(&top, FD_ARRAY)?[0])?;
    // Each font DICT with its Private DICT written again, its subroutines right after it.
    let mut fonts = Vec::new();
    for item in &fd_array.items {
        let dict = read_dict(&cff[item.clone()])?;
        let [size, at] = offsets(&dict, PRIVATE)?[..] else {
            return Err(CutError::Malformed("Private"));
        };
        let private = read_dict(
            cff.get(at..at + size)
                .ok_or(CutError::Malformed("Private"))?,
        )?;
        let block = if entry(&private, SUBRS).is_some() {
            let subrs = at + offsets(&private, SUBRS)?[0];
            let subrs = &cff[subrs..read_index(cff, subrs)?.end];
            let len = write_dict(&private, &[(SUBRS, vec![0])]).len();
            let mut block = write_dict(&private, &[(SUBRS, vec![len])]);
            block.extend_from_slice(subrs);
            (len, block)
        } else {
            (size, cff[at..at + size].to_vec())
        };
        fonts.push((dict, block));
    }

    let empty: &[u8] = &[14];
    let outlines: Vec<&[u8]> = char_strings
        .items
        .iter()
        .zip(kept)
        .map(|(range, &kept)| if kept { &cff[range.clone()] } else { empty })
        .collect();
    let char_strings = write_index(&outlines);

    // Layout: header, names, top DICT, strings, global subroutines, charset, FDSelect,
    // outlines, font DICTs, then each font's Private DICT and subroutines.
    let placeholder = [
        (CHARSET, vec![0]),
        (CHAR_STRINGS, vec![0]),
        (FD_ARRAY, vec![0]),
        (FD_SELECT, vec![0]),
    ];
    let top_len = write_index(&[&write_dict(&top, &placeholder)]).len();
    let mut at = names.end + top_len + (globals.end - tops.end);
    let charset_at = at;
    at += charset.len();
    let fd_select_at = at;
    at += fd_select.len();
    let char_strings_at = at;
    at += char_strings.len();
    let fd_array_at = at;
    let font_dicts_len = write_index(
        &fonts
            .iter()
            .map(|(dict, ..)| write_dict(dict, &[(PRIVATE, vec![0, 0])]))
            .collect::<Vec<_>>()
            .iter()
            .map(Vec::as_slice)
            .collect::<Vec<_>>(),
    )
    .len();
    at += font_dicts_len;
    let mut font_dicts = Vec::new();
    for (dict, (size, block)) in &fonts {
        font_dicts.push(write_dict(dict, &[(PRIVATE, vec![*size, at])]));
        at += block.len();
    }
    let top = write_dict(
        &top,
        &[
            (CHARSET, vec![charset_at]),
            (CHAR_STRINGS, vec![char_strings_at]),
            (FD_ARRAY, vec![fd_array_at]),
            (FD_SELECT, vec![fd_select_at]),
        ],
    );

    let mut out = Vec::with_capacity(at);
    out.extend_from_slice(&cff[..header]);
    out.extend_from_slice(&cff[header..names.end]);
    out.extend(write_index(&[&top]));
    out.extend_from_slice(&cff[tops.end..globals.end]);
    out.extend_from_slice(&cff[charset]);
    out.extend_from_slice(&cff[fd_select]);
    out.extend(char_strings);
    out.extend(write_index(
        &font_dicts.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    ));
    for (_, (_, block)) in &fonts {
        out.extend_from_slice(block);
    }
    debug_assert_eq!(out.len(), at);
    Ok(out)
}

fn charset_len(cff: &[u8], at: usize, glyphs: usize) -> Result<usize> {
    let format = *cff.get(at).ok_or(CutError::Malformed("charset"))?;
    match format {
        0 => Ok(1 + 2 * (glyphs - 1)),
        1 | 2 => {
            let (step, count_size) = if format == 1 { (3, 1) } else { (4, 2) };
            let (mut covered, mut p) = (1, at + 1);
            while covered < glyphs {
                covered += read_sized(cff, p + 2, count_size)? + 1;
                p += step;
            }
            Ok(p - at)
        }
        _ => Err(CutError::Malformed("charset format")),
    }
}

fn fd_select_len(cff: &[u8], at: usize, glyphs: usize) -> Result<usize> {
    match cff.get(at) {
        Some(0) => Ok(1 + glyphs),
        Some(3) => Ok(1 + 2 + 3 * usize::from(read_u16(cff, at + 1)?) + 2),
        _ => Err(CutError::Unsupported("FDSelect format")),
    }
}

/// A cmap with one format 12 subtable (Unicode full repertoire) for the kept characters.
fn cmap_table(chars: &BTreeMap<u32, u16>) -> Vec<u8> {
    // (first character, last character, glyph of the first)
    let mut groups: Vec<(u32, u32, u32)> = Vec::new();
    for (&c, &glyph) in chars {
        let glyph = u32::from(glyph);
        match groups.last_mut() {
            Some((start, end, first)) if *end + 1 == c && *first + (c - *start) == glyph => {
                *end = c;
            }
            _ => groups.push((c, c, glyph)),
        }
    }
    let mut out = Vec::new();
    out.extend(0u16.to_be_bytes());
    out.extend(2u16.to_be_bytes());
    for (platform, encoding) in [(0u16, 4u16), (3, 10)] {
        out.extend(platform.to_be_bytes());
        out.extend(encoding.to_be_bytes());
        out.extend(20u32.to_be_bytes());
    }
    out.extend(12u16.to_be_bytes());
    out.extend(0u16.to_be_bytes());
    out.extend((16 + 12 * groups.len() as u32).to_be_bytes());
    out.extend(0u32.to_be_bytes());
    out.extend((groups.len() as u32).to_be_bytes());
    for (start, end, glyph) in groups {
        out.extend(start.to_be_bytes());
        out.extend(end.to_be_bytes());
        out.extend(glyph.to_be_bytes());
    }
    out
}

/// The OpenType checksum of a table: its big-endian 32-bit words summed (zero-padded).
fn checksum(bytes: &[u8]) -> u32 {
    bytes.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// The head table's whole-file checksum adjustment sits at this offset in the table.
const HEAD_ADJUSTMENT: usize = 8;
const FILE_CHECKSUM: u32 = 0xB1B0_AFBA;

/// A CFF OpenType file of these tables, sorted by tag, each with its checksum and the
/// head table's whole-file adjustment.
fn sfnt(mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| *tag);
    let count = tables.len() as u16;
    let power = if count == 0 {
        0
    } else {
        15 - count.leading_zeros() as u16
    };
    let search_range = (1u16 << power) * 16;
    let mut out = Vec::new();
    out.extend(b"OTTO");
    out.extend(count.to_be_bytes());
    out.extend(search_range.to_be_bytes());
    out.extend(power.to_be_bytes());
    out.extend((count * 16 - search_range).to_be_bytes());
    let mut at = 12 + 16 * tables.len();
    let mut head = None;
    for (tag, body) in &mut tables {
        if tag == b"head" && body.len() >= HEAD_ADJUSTMENT + 4 {
            body[HEAD_ADJUSTMENT..HEAD_ADJUSTMENT + 4].fill(0);
            head = Some(at);
        }
        out.extend(*tag);
        out.extend(checksum(body).to_be_bytes());
        out.extend((at as u32).to_be_bytes());
        out.extend((body.len() as u32).to_be_bytes());
        at += body.len().next_multiple_of(4);
    }
    for (_, body) in &tables {
        out.extend_from_slice(body);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(head) = head {
        let adjustment = FILE_CHECKSUM.wrapping_sub(checksum(&out));
        out[head + HEAD_ADJUSTMENT..head + HEAD_ADJUSTMENT + 4]
            .copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

/// Whether `data` is a whole, unaltered file as [`cut`] writes it: every table inside the
/// file, and the whole file's checksum matching the head's adjustment.
pub fn intact(data: &[u8]) -> bool {
    // Every table inside the file (the directory read checks it), and one pass over the
    // whole: any changed word changes the sum the head's adjustment completes.
    table_directory(data, 0).is_ok()
        && data.len().is_multiple_of(4)
        && checksum(data) == FILE_CHECKSUM
}
