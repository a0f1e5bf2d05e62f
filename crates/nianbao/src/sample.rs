//! The sample school (examples/qianjiang: its dataset and its report content), compiled
//! into the binary so `demo` works from any folder. It is written out as an ordinary
//! dataset folder and imported like any other.

use std::path::Path;

use anyhow::{Context, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sample_files.rs"));
}

/// Writes the sample dataset folder to `dir`, replacing the files it contains.
pub fn write_sample(dir: &Path) -> Result<()> {
    for (name, bytes) in embedded::FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("无法创建文件夹 {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("无法写入 {}", path.display()))?;
    }
    Ok(())
}
