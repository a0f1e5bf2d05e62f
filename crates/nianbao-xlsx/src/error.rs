//! Errors of writing a template and of reading an upload, with Chinese messages.

use std::fmt;

/// A scope that names no template: the section is unknown or has nothing to fill in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("没有编号为「{0}」的部分")]
    UnknownSection(String),
    #[error("「{0}」没有可以填报的数据项")]
    NothingToFill(String),
    #[error("模板至少要包含一个年份")]
    NoYears,
    #[error("没有您可以填报的部分")]
    EmptyWorkbook,
}

/// Why a template could not be written.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error("{0}")]
    Scope(#[from] ScopeError),
    #[error("无法生成 Excel 模板：{0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}

/// One cell of an upload that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The worksheet's name, as shown on its tab.
    pub sheet: String,
    /// The row number as Excel shows it (1-based).
    pub row: u32,
    /// The column letter(s) as Excel shows them, e.g. "D".
    pub column: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "「{}」工作表 {}{} 单元格：{}",
            self.sheet, self.column, self.row, self.message
        )
    }
}

impl std::error::Error for CellError {}

/// Why an upload was refused. Nothing of it is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("上传的文件是空的，请选择填写好的 Excel 模板（.xlsx）")]
    Empty,
    #[error("上传的文件过大（{}）：Excel 模板不应超过 {}", megabytes(*.size as u64), megabytes(*.max as u64))]
    TooLarge { size: usize, max: usize },
    #[error("上传的文件不是 Excel 工作簿（.xlsx）：请上传从本系统下载并填写的模板")]
    NotXlsx,
    #[error(
        "上传的文件是旧版 Excel（.xls）或设置了打开密码的工作簿：请在 Excel 或 WPS 中取消密码并另存为 .xlsx 格式后上传"
    )]
    LegacyOrEncrypted,
    #[error("上传的压缩包包含 {count} 个文件，超过了 Excel 模板允许的 {max} 个，已拒绝")]
    TooManyEntries { count: usize, max: usize },
    #[error("上传的文件解压后超过 {}，不像是 Excel 模板，已拒绝", megabytes(*.max))]
    TooLargeUncompressed { max: u64 },
    #[error(
        "上传的文件中「{entry}」的压缩比异常（超过 {max_ratio} 倍），可能是恶意构造的压缩包，已拒绝"
    )]
    SuspiciousRatio { entry: String, max_ratio: u64 },
    #[error("上传的文件是 {kind}，不是 Excel 工作簿：请上传 .xlsx 格式的模板")]
    OtherOffice { kind: &'static str },
    #[error("上传的压缩包中没有 Excel 工作簿的内容：请上传 .xlsx 格式的模板")]
    NotWorkbook,
    #[error("上传的文件已损坏，无法读取：{0}。请在 Excel 或 WPS 中重新保存为 .xlsx 格式后上传")]
    Damaged(String),
    #[error("工作簿中没有「{expected}」工作表：请使用从本部分下载的模板，不要修改工作表名称")]
    MissingSheet { expected: String },
    #[error("工作簿中有多个以「{prefix}」开头的工作表（{names}）：请只保留模板中的一个")]
    AmbiguousSheet { prefix: String, names: String },
    #[error("「{sheet}」工作表中的单元格过多（超过 {max} 个），不像是本系统的模板")]
    TooManyCells { sheet: String, max: usize },
    #[error("{0}")]
    Scope(#[from] ScopeError),
    #[error(
        "工作簿中记录原值的隐藏工作表「基准值」已损坏（{0}），无法判断哪些单元格被修改过：请重新下载模板或工作簿，填入修改后再上传"
    )]
    DamagedBase(String),
    #[error("这个文件是为「{made_for}」生成的，不能导入「{school}」的数据")]
    OtherSchool { made_for: String, school: String },
    #[error(
        "这个文件是按 {made} 年的数据生成的，当前填报的是 {expected} 年：请重新下载模板或工作簿"
    )]
    OtherYears { made: String, expected: String },
    #[error(
        "工作表「{sheet}」不在您可以填报的范围内：请删除这个工作表，或使用本系统为您生成的工作簿"
    )]
    OutOfScope { sheet: String },
    #[error("工作簿中没有任何可以导入的工作表（工作表名称应以部分编号开头，如「1.4 师资队伍」）")]
    NoSheets,
    #[error("{}", cells_summary(.0))]
    Cells(Vec<CellError>),
}

/// A byte count as people read it: "5 MB", "6.2 MB", "800 KB".
fn megabytes(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        let mb = bytes as f64 / MB;
        if mb.fract() == 0.0 {
            format!("{mb} MB")
        } else {
            format!("{mb:.1} MB")
        }
    }
}

fn cells_summary(cells: &[CellError]) -> String {
    match cells {
        [] => "上传的模板有错误".to_string(),
        [only] => format!("上传的模板有 1 处错误：{only}"),
        [first, ..] => format!("上传的模板有 {} 处错误，第一处：{first}", cells.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_error_reads_as_excel_shows_it() {
        let error = CellError {
            sheet: "1.4 师资队伍".into(),
            row: 7,
            column: "D".into(),
            message: "应为不小于 0 的整数，实际为「12.5」".into(),
        };
        assert_eq!(
            error.to_string(),
            "「1.4 师资队伍」工作表 D7 单元格：应为不小于 0 的整数，实际为「12.5」"
        );
        let all = UploadError::Cells(vec![error.clone(), error]).to_string();
        assert!(all.starts_with("上传的模板有 2 处错误"), "{all}");
    }
}
