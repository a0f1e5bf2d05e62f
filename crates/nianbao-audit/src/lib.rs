//! The auditor: reads a finished report (text, Markdown, Word, web page or PDF), extracts its
//! numeric claims and tables,
//! and finds every place where its numbers disagree.

pub mod batch;
pub mod batch_sheet;
pub mod docx;
pub mod error;
pub mod html;
pub mod limits;
pub mod numbers;
pub mod read;

pub use error::AuditError;
pub use read::{Document, extract_text, read_document};
pub mod against;
pub mod blocks;
pub mod checks;
pub mod claims;
pub mod concepts;
pub mod facts;
pub mod lines;
pub mod model;
pub mod render;
pub mod tables;

use nianbao_core::Finding;

/// Audits a report's extracted text: every place where its numbers disagree.
pub fn audit(text: &str) -> Vec<Finding> {
    audit_document(&Document::from_text(text))
}

/// Audits a document already read.
pub fn audit_document(document: &Document) -> Vec<Finding> {
    let model = model::Model::build(document.clone());
    checks::run(&model)
}

pub use render::{FindingsReport, render_human, render_json};
