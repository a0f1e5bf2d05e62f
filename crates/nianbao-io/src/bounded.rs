//! Reading an input file with limits: only a regular file (a named pipe, a device or a
//! folder is refused before it is opened, so nothing can block or stream forever), and
//! no more than a stated number of bytes.

use std::fs;
use std::io::Read;
use std::path::Path;

use crate::error::ImportError;

/// The largest input file read, in bytes (20 MB): far above a school's yearly data, far
/// below what would strain the machine.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// Reads the whole of a regular file of at most `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ImportError> {
    // `metadata` follows symbolic links: a link to a device or a pipe is refused too.
    let metadata = fs::metadata(path).map_err(|e| open_error(path, &e))?;
    if !metadata.is_file() {
        return Err(ImportError::new(path, not_regular(&metadata)));
    }
    if metadata.len() > limit {
        return Err(too_large(path, limit));
    }
    let file = fs::File::open(path).map_err(|e| open_error(path, &e))?;
    // The file may have been swapped or grown since it was looked at.
    let opened = file.metadata().map_err(|e| open_error(path, &e))?;
    if !opened.is_file() {
        return Err(ImportError::new(path, not_regular(&opened)));
    }
    let mut bytes = Vec::with_capacity(opened.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::new(path, format!("无法读取：{e}")))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, limit));
    }
    Ok(bytes)
}

/// Reads a regular UTF-8 text file of at most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = read_file(path, MAX_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|_| ImportError::new(path, "不是 UTF-8 编码的文本文件"))
}

fn open_error(path: &Path, e: &std::io::Error) -> ImportError {
    let problem = match e.kind() {
        std::io::ErrorKind::NotFound => "文件不存在".to_string(),
        std::io::ErrorKind::PermissionDenied => "没有读取权限".to_string(),
        _ => format!("无法读取：{e}"),
    };
    ImportError::new(path, problem)
}

fn not_regular(metadata: &fs::Metadata) -> String {
    let what = if metadata.is_dir() {
        "文件夹"
    } else {
        special_kind(metadata)
    };
    format!("不是普通文件（这是{what}），已拒绝读取：请提供普通的数据文件")
}

#[cfg(unix)]
fn special_kind(metadata: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        "命名管道"
    } else if kind.is_char_device() || kind.is_block_device() {
        "设备文件"
    } else if kind.is_socket() {
        "套接字"
    } else {
        "特殊文件"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::Metadata) -> &'static str {
    "特殊文件"
}

fn too_large(path: &Path, limit: u64) -> ImportError {
    ImportError::new(
        path,
        format!(
            "文件超过 {} MB 的上限，已拒绝读取：一所学校一年的数据远小于此，请检查是否选错了文件",
            limit / (1024 * 1024)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        fs::write(&path, vec![b'1'; 101]).unwrap();
        let error = read_file(&path, 100).unwrap_err();
        assert_eq!(error.file, path);
        assert!(error.problem.contains("上限"), "{error}");
        assert_eq!(read_file(&path, 101).unwrap().len(), 101);
    }

    #[test]
    fn a_folder_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_file(dir.path(), 100).unwrap_err();
        assert!(error.problem.contains("文件夹"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_device_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("students.csv");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let error = read_file(&path, MAX_FILE_BYTES).unwrap_err();
        assert!(error.problem.contains("设备文件"), "{error}");
    }
}
