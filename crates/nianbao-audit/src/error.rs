//! Errors of reading a report: each names the file and what went wrong, in Chinese.

use std::path::PathBuf;

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("无法读取文件 {path}：{source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("文件 {path} 不是 UTF-8 编码的文本（第 {offset} 字节处编码无效）")]
    Encoding { path: PathBuf, offset: usize },
    #[error("不支持的文件类型 {path}：只能读取 .txt、.md、.docx、.html 和 .pdf")]
    Unsupported { path: PathBuf },
    #[error("无法解析 Word 文档 {path}：{reason}")]
    Docx { path: PathBuf, reason: String },
    #[error(
        "无法读取 PDF {path}：未找到 pdftotext 命令，请安装 poppler-utils（例如 apt-get install poppler-utils）"
    )]
    PdfToolMissing { path: PathBuf },
    #[error("无法读取 PDF {path}：pdftotext 失败：{reason}")]
    Pdf { path: PathBuf, reason: String },
    #[error("文件 {path} 过大：{size} 字节，只能审核不超过 {limit} 字节（50 MB）的报告")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("无法读取网页 {path}：{reason}")]
    Html { path: PathBuf, reason: String },
}
