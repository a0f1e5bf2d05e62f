//! Writing finished files into the output folder all or nothing: every file is written in
//! full to a temporary file beside its target first, and only then renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// Writes `(file name, bytes)` pairs into `dir`, creating it; returns the paths written.
pub fn write_files(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>, ReportError> {
    let io = |path: &Path, source: std::io::Error| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| io(dir, e))?;
        temp.write_all(bytes).map_err(|e| io(temp.path(), e))?;
        temp.as_file().sync_all().map_err(|e| io(temp.path(), e))?;
        staged.push((temp, dir.join(name)));
    }
    let mut written = Vec::new();
    for (temp, target) in staged {
        temp.persist(&target).map_err(|e| io(&target, e.error))?;
        written.push(target);
    }
    Ok(written)
}
