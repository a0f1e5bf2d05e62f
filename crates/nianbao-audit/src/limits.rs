//! The bounds on what a report may hold, so that no input can exhaust memory, the stack or
//! time: file size, inflated Word XML, web page nesting, PDF conversion time, paragraph
//! length, table width and the findings listed per rule.

/// The largest report file read (50 MiB).
pub const MAX_INPUT_BYTES: u64 = 50 * 1024 * 1024;

/// The largest `word/document.xml` inflated from a Word file (64 MiB): a real report's is a
/// few megabytes; a small archive that inflates past this is refused, not read.
pub const MAX_DOCX_XML_BYTES: u64 = 64 * 1024 * 1024;

/// The deepest nesting of elements read from a web page.
pub const MAX_HTML_DEPTH: usize = 256;

/// The longest `pdftotext` may run on one file, in seconds.
pub const PDF_SECONDS: u64 = 60;

/// The most text `pdftotext` may write for one file (as much as a text file may hold).
pub const MAX_PDF_TEXT_BYTES: u64 = MAX_INPUT_BYTES;

/// The longest paragraph, in bytes, read as one: a longer run of text (a whole report on one
/// line, or numbers without a sentence end) is cut at a sentence or clause end into pieces
/// of about this size, so that the work done per paragraph stays bounded.
pub const MAX_PARAGRAPH_BYTES: usize = 16 * 1024;

/// The most cells of one table row read; cells past it are ignored.
pub const MAX_COLUMNS: usize = 128;

/// The most findings of one rule listed; the rest are counted in one more finding.
pub const MAX_FINDINGS_PER_RULE: usize = 200;
