//! The auditor: reads a report written by hand, extracts its numeric claims and tables,
//! and finds every place where its numbers disagree.
