//! The sample school (examples/qianjiang), compiled into the binary so `demo` works from
//! any folder. It is written out as an ordinary dataset folder and imported like any other.

use std::path::Path;

use anyhow::{Context, Result};

const FILES: &[(&str, &str)] = &[
    (
        "school.toml",
        include_str!("../../../examples/qianjiang/school.toml"),
    ),
    (
        "majors.csv",
        include_str!("../../../examples/qianjiang/majors.csv"),
    ),
    (
        "students.csv",
        include_str!("../../../examples/qianjiang/students.csv"),
    ),
    (
        "years/2023.toml",
        include_str!("../../../examples/qianjiang/years/2023.toml"),
    ),
    (
        "years/2024.toml",
        include_str!("../../../examples/qianjiang/years/2024.toml"),
    ),
    (
        "years/2025.toml",
        include_str!("../../../examples/qianjiang/years/2025.toml"),
    ),
];

/// Writes the sample dataset folder to `dir`, replacing the files it contains.
pub fn write_sample(dir: &Path) -> Result<()> {
    for (name, text) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("无法创建文件夹 {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("无法写入 {}", path.display()))?;
    }
    Ok(())
}
