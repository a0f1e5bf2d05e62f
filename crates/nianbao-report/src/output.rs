//! Writing finished files into the output folder all or nothing: every file is written in
//! full to a temporary file beside its target first, and only then renamed into place. The
//! temporary file is created with the mode any new file gets (0666 less the umask, as
//! `File::create` gives), not the owner-only mode temporary files have by default, so the
//! report is as readable as the other files written beside it.

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
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Passed to open(2), which takes the umask off as for any new file.
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut temp = builder.tempfile_in(dir).map_err(|e| io(dir, e))?;
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The permission bits, in octal as `ls` and `chmod` write them.
    fn mode(path: &Path) -> String {
        format!(
            "{:o}",
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777
        )
    }

    #[test]
    fn written_files_get_the_mode_a_created_file_gets() {
        let dir = tempfile::tempdir().unwrap();
        let created = dir.path().join("created.txt");
        std::fs::File::create(&created).unwrap();
        let out = dir.path().join("out");
        let written = write_files(
            &out,
            &[
                ("report.html", b"<p>1</p>".to_vec()),
                ("report.docx", vec![1]),
            ],
        )
        .unwrap();
        assert_eq!(written.len(), 2);
        for path in &written {
            assert_eq!(mode(path), mode(&created), "{}", path.display());
        }
    }
}
