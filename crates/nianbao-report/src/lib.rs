//! The annual quality report (职业教育质量年度报告) generated from a dataset: every number in
//! its prose, tables, charts and lists is read from the data, so none can disagree.
//!
//! The report is built once as a [`Document`] (see [`model`]) from the outline
//! (`data/report/outline.toml`), the numbered sections (`data/sections.toml`), narrative
//! templates in Markdown with data bindings, typical cases and pictures, and closed by the
//! data notes ([`notes`]: the dataset's notes and the accepted warnings); then rendered as
//! HTML ([`html`]), Word ([`docx`]) and PDF ([`pdf`]) from that one value.
//!
//! A report is a draft (every page marked 草稿) until it is made final from a stored
//! [`snapshot`]; [`readiness`] lists what stands between a draft and the final, and
//! [`parts`] names the pieces a school writes. [`preview`] checks and shows one text as
//! the editor writes it; [`photo`] prepares uploaded pictures.

mod appendix;
pub mod area_report;
mod assemble;
pub mod cases;
pub mod charts;
pub mod content;
pub mod docx;
mod error;
mod fonts;
mod format;
pub mod html;
mod image;
mod markdown;
pub mod model;
mod narrative;
pub mod notes;
pub mod outline;
mod output;
pub mod parts;
pub mod pdf;
pub mod photo;
pub mod preview;
mod raster;
pub mod readiness;
pub mod snapshot;
pub mod tables;

use nianbao_core::indicator::IndicatorResult;
use nianbao_core::{Acceptance, Dataset, Definitions, Finding, Year};

pub use assemble::EMPTY_PART;
pub use content::Content;
pub use error::ReportError;
pub use format::{Kinds, chinese_date, year_change};
pub use model::{Document, FinalMark, Status};
pub use output::write_files;

/// What a report is made from.
pub struct ReportInput<'a> {
    pub definitions: &'a Definitions,
    pub data: &'a Dataset,
    pub year: Year,
    pub findings: &'a [Finding],
    pub indicators: &'a [IndicatorResult],
    /// Warnings the school accepted with a written explanation (shown in the data notes).
    pub acceptances: &'a [Acceptance],
    /// A draft, or the final made from a snapshot.
    pub status: Status,
}

/// A generated report with the findings and indicators it was built from.
pub struct Generated {
    pub document: Document,
    pub findings: Vec<Finding>,
    pub indicators: Vec<IndicatorResult>,
}

/// Checks the data, computes the indicators and builds the report: the one way every
/// caller (the command line, the web app, tests) makes a report.
pub fn generate(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
    acceptances: &[Acceptance],
    content: &Content,
    status: Status,
) -> Result<Generated, ReportError> {
    let findings = nianbao_core::run_checks(definitions, data);
    let indicators = nianbao_core::evaluate_indicators(definitions, data, year);
    generate_with(
        definitions,
        data,
        year,
        findings,
        indicators,
        acceptances,
        content,
        status,
    )
}

/// As [`generate`], with the data's findings and its indicators for `year` already computed
/// (by `run_checks` and `evaluate_indicators` on the same data and definitions).
#[allow(clippy::too_many_arguments)]
pub fn generate_with(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
    findings: Vec<Finding>,
    indicators: Vec<IndicatorResult>,
    acceptances: &[Acceptance],
    content: &Content,
    status: Status,
) -> Result<Generated, ReportError> {
    let input = ReportInput {
        definitions,
        data,
        year,
        findings: &findings,
        indicators: &indicators,
        acceptances,
        status,
    };
    let document = build_document(&input, content)?;
    Ok(Generated {
        document,
        findings,
        indicators,
    })
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Docx,
    Pdf,
}

impl Format {
    /// The file the format is written to.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Docx => "report.docx",
            Format::Pdf => "report.pdf",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Html => "网页（HTML）",
            Format::Docx => "Word 文档（DOCX）",
            Format::Pdf => "PDF",
        }
    }
}

/// The three years a report's tables cover, ending with the report year.
pub fn table_years(data: &Dataset, year: Year) -> Vec<Year> {
    let mut years: Vec<Year> = data.years().into_iter().filter(|y| *y <= year).collect();
    let skip = years.len().saturating_sub(3);
    years.drain(..skip);
    years
}

/// Builds the report document from its input and content.
pub fn build_document(input: &ReportInput<'_>, content: &Content) -> Result<Document, ReportError> {
    assemble::build(input, content)
}

/// Renders the report as one self-contained HTML page, with the generic content.
pub fn render_html(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let document = build_document(input, &Content::generic())?;
    Ok(html::render(&document))
}
