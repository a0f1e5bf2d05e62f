//! Everything that can stop a report from being generated, each naming the file at fault.

use nianbao_core::Year;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{template}:{line}: {message}")]
    Template {
        template: String,
        line: usize,
        message: String,
    },
    #[error("{year} 年度没有任何数据，无法生成报告")]
    NoData { year: Year },
    #[error("{file}: {message}")]
    Content { file: String, message: String },
    #[error("{file}: 图片文件 {image} 不存在")]
    MissingImage { file: String, image: String },
    #[error("{file}: 案例归属的章节 {section} 不在报告提纲中")]
    UnknownSection { file: String, section: String },
    #[error(
        "未找到中文字体「{family}」，无法生成 PDF：请安装 Debian 软件包 {package}（apt-get install {package}）"
    )]
    FontMissing { family: String, package: String },
    #[error("生成 PDF 失败：{0}")]
    Pdf(String),
    #[error("生成 Word 文档失败：{0}")]
    Docx(String),
    #[error("图表转换失败：{0}")]
    Chart(String),
    #[error("定稿快照无法读取：{0}")]
    Snapshot(String),
    #[error("{0}")]
    Photo(#[from] crate::photo::PhotoError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl ReportError {
    /// Wraps a template error, naming the template (or `fallback`) and line.
    pub fn template(error: minijinja::Error, fallback: &str) -> ReportError {
        let mut message = match error.detail() {
            Some(detail) => detail.to_string(),
            None => error.kind().to_string(),
        };
        // An error raised inside a function or filter keeps its own text as the cause.
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message = format!("{message}：{text}");
            }
            source = cause.source();
        }
        ReportError::Template {
            template: error.name().unwrap_or(fallback).to_string(),
            line: error.line().unwrap_or(0),
            message,
        }
    }
}

impl From<minijinja::Error> for ReportError {
    fn from(error: minijinja::Error) -> ReportError {
        ReportError::template(error, "data/report")
    }
}
