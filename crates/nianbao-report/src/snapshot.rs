//! The snapshot of a final report: everything it was made from — the data, the accepted
//! warnings, the definitions' files, every text and picture of its content, and the moment
//! it was made — packed as one deterministic zip. The SHA-256 of the pack is printed on the
//! report's seal page, and rendering a snapshot again gives the same files byte for byte.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use nianbao_core::definitions::Sources;
use nianbao_core::{Acceptance, Dataset, FactKey, Major, School, Year};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::content::Content;
use crate::error::ReportError;

/// The version of the pack's layout.
const FORMAT: u32 = 1;
/// Bounds on reading a pack back: entries, bytes per entry, bytes in all.
const MAX_ENTRIES: usize = 10_000;
const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;

/// What a final report is made from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub year: Year,
    /// When the final was made (RFC 3339, UTC): the documents' creation time.
    pub created_at: String,
    pub data: Dataset,
    pub acceptances: Vec<Acceptance>,
    /// The definition files (elements, rules, indicators, standards, sections).
    pub sources: Sources,
    /// The whole content: generic templates and the school's texts and pictures.
    pub content: Content,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    school: String,
    year: Year,
    created_at: String,
    generator: String,
    definitions: DefinitionNames,
}

#[derive(Serialize, Deserialize)]
struct DefinitionNames {
    elements: String,
    majors: String,
    rules: String,
    indicators: String,
    sections: String,
    standards: Vec<String>,
}

/// A fact with its value written exactly (Rust's shortest round-trip form).
#[derive(Serialize, Deserialize)]
struct Fact {
    key: FactKey,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct Note {
    key: FactKey,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct PackedData {
    school: School,
    majors: Vec<Major>,
    facts: Vec<Fact>,
    notes: Vec<Note>,
}

fn corrupt(message: impl Into<String>) -> ReportError {
    ReportError::Snapshot(message.into())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ReportError> {
    serde_json::to_vec_pretty(value).map_err(|e| corrupt(e.to_string()))
}

/// The SHA-256 of a pack, in lower-case hex.
pub fn hash(payload: &[u8]) -> String {
    Sha256::digest(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Snapshot {
    /// Packs the snapshot: the same snapshot always gives the same bytes.
    pub fn pack(&self) -> Result<Vec<u8>, ReportError> {
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let sources = &self.sources;
        let manifest = Manifest {
            format: FORMAT,
            school: self.data.school.code.clone(),
            year: self.year,
            created_at: self.created_at.clone(),
            generator: format!("nianbao {}", env!("CARGO_PKG_VERSION")),
            definitions: DefinitionNames {
                elements: sources.elements.0.clone(),
                majors: sources.majors.0.clone(),
                rules: sources.rules.0.clone(),
                indicators: sources.indicators.0.clone(),
                sections: sources.sections.0.clone(),
                standards: sources.standards.iter().map(|s| s.0.clone()).collect(),
            },
        };
        entries.insert("snapshot.json".into(), to_json(&manifest)?);
        let data = PackedData {
            school: self.data.school.clone(),
            majors: self.data.majors.clone(),
            facts: self
                .data
                .facts
                .iter()
                .map(|(key, value)| Fact {
                    key: key.clone(),
                    value: value.to_string(),
                })
                .collect(),
            notes: self
                .data
                .notes
                .iter()
                .map(|(key, text)| Note {
                    key: key.clone(),
                    text: text.clone(),
                })
                .collect(),
        };
        entries.insert("dataset.json".into(), to_json(&data)?);
        entries.insert("acceptances.json".into(), to_json(&self.acceptances)?);
        let files = [
            &sources.elements,
            &sources.majors,
            &sources.rules,
            &sources.indicators,
            &sources.sections,
        ];
        for (name, text) in files.into_iter().chain(&sources.standards) {
            entries.insert(format!("definitions/{name}"), text.as_bytes().to_vec());
        }
        for (path, file) in self.content.files() {
            entries.insert(format!("content/{path}"), file.bytes.to_vec());
        }

        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644);
        for (name, bytes) in &entries {
            writer
                .start_file(name.as_str(), options)
                .map_err(|e| corrupt(e.to_string()))?;
            writer
                .write_all(bytes)
                .map_err(|e| corrupt(e.to_string()))?;
        }
        let cursor = writer.finish().map_err(|e| corrupt(e.to_string()))?;
        Ok(cursor.into_inner())
    }

    /// Reads a pack back, within bounds on its entries and sizes.
    pub fn unpack(payload: &[u8]) -> Result<Snapshot, ReportError> {
        let mut archive =
            ZipArchive::new(Cursor::new(payload)).map_err(|e| corrupt(e.to_string()))?;
        if archive.len() > MAX_ENTRIES {
            return Err(corrupt(format!("条目超过 {MAX_ENTRIES} 个")));
        }
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut total = 0u64;
        for index in 0..archive.len() {
            let entry = archive
                .by_index(index)
                .map_err(|e| corrupt(e.to_string()))?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().to_string();
            if entry.size() > MAX_ENTRY_BYTES {
                return Err(corrupt(format!("条目 {name} 过大")));
            }
            let mut bytes = Vec::new();
            entry
                .take(MAX_ENTRY_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| corrupt(e.to_string()))?;
            total += bytes.len() as u64;
            if bytes.len() as u64 > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES {
                return Err(corrupt(format!("条目 {name} 解压后过大")));
            }
            entries.insert(name, bytes);
        }
        let read = |name: &str| -> Result<&Vec<u8>, ReportError> {
            entries
                .get(name)
                .ok_or_else(|| corrupt(format!("缺少 {name}")))
        };
        let manifest: Manifest =
            serde_json::from_slice(read("snapshot.json")?).map_err(|e| corrupt(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(corrupt(format!("不支持的格式版本 {}", manifest.format)));
        }
        let packed: PackedData =
            serde_json::from_slice(read("dataset.json")?).map_err(|e| corrupt(e.to_string()))?;
        let mut data = Dataset::new(packed.school);
        data.majors = packed.majors;
        for fact in packed.facts {
            let value: f64 = fact
                .value
                .parse()
                .map_err(|_| corrupt(format!("数值「{}」无法解读", fact.value)))?;
            data.facts.insert(fact.key, value);
        }
        for note in packed.notes {
            data.notes.insert(note.key, note.text);
        }
        let acceptances: Vec<Acceptance> = serde_json::from_slice(read("acceptances.json")?)
            .map_err(|e| corrupt(e.to_string()))?;
        let text = |name: &str| -> Result<(String, String), ReportError> {
            let bytes = read(&format!("definitions/{name}"))?;
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| corrupt(format!("{name} 不是 UTF-8 文本")))?;
            Ok((name.to_string(), text))
        };
        let names = &manifest.definitions;
        let sources = Sources {
            elements: text(&names.elements)?,
            majors: text(&names.majors)?,
            rules: text(&names.rules)?,
            indicators: text(&names.indicators)?,
            sections: text(&names.sections)?,
            standards: names
                .standards
                .iter()
                .map(|n| text(n))
                .collect::<Result<_, _>>()?,
        };
        let mut content = Content::default();
        for (name, bytes) in &entries {
            if let Some(path) = name.strip_prefix("content/") {
                content.insert(path, format!("定稿快照/{path}"), bytes.clone());
            }
        }
        Ok(Snapshot {
            year: manifest.year,
            created_at: manifest.created_at,
            data,
            acceptances,
            sources,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let year = Year::new(2025).unwrap();
        let mut data = Dataset::new(School {
            code: "s".into(),
            name: "测试学校".into(),
            report_year: year,
            ..School::default()
        });
        data.set(FactKey::school(year, "staff.total"), 0.1 + 0.2);
        data.set(FactKey::major(year, "major.intake", "会计事务"), 12.0);
        data.notes
            .insert(FactKey::school(year, "staff.total"), "说明".into());
        let mut content = Content::generic();
        content.insert(
            "sections/2.1.md",
            "sections/2.1.md",
            "正文".as_bytes().to_vec(),
        );
        Snapshot {
            year,
            created_at: "2026-01-05T08:00:00Z".into(),
            data,
            acceptances: vec![Acceptance {
                key: "k".into(),
                explanation: "e".into(),
                actor: "a".into(),
                accepted_at: "t".into(),
            }],
            sources: Sources::builtin(),
            content,
        }
    }

    #[test]
    fn a_pack_reads_back_exactly_and_packs_to_the_same_bytes() {
        let snapshot = sample();
        let payload = snapshot.pack().unwrap();
        assert_eq!(
            payload,
            snapshot.pack().unwrap(),
            "packing is deterministic"
        );
        let back = Snapshot::unpack(&payload).unwrap();
        assert_eq!(back.data, snapshot.data, "facts keep every bit");
        assert_eq!(back.acceptances, snapshot.acceptances);
        assert_eq!(back.sources.rules, snapshot.sources.rules);
        assert_eq!(
            back.content
                .get("sections/2.1.md")
                .unwrap()
                .bytes
                .as_slice(),
            "正文".as_bytes()
        );
        assert_eq!(
            back.pack().unwrap(),
            payload,
            "a read-back pack packs the same"
        );
        assert_eq!(hash(&payload).len(), 64);
    }

    #[test]
    fn garbage_is_refused_with_a_message() {
        let err = Snapshot::unpack(b"not a zip").unwrap_err().to_string();
        assert!(err.contains("定稿快照"), "{err}");
    }
}
