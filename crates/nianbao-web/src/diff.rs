//! What one version of a text changed from the one before, as HTML a person reads: deleted
//! characters struck through, inserted ones underlined, long unchanged stretches shortened
//! to their ends. Chinese has no spaces between words, so the diff is by character.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use crate::error::escape;

/// How many unchanged characters are kept on each side of a change.
const CONTEXT: usize = 24;

/// The changes from `old` to `new` as HTML (`<del>`, `<ins>`, `…`).
pub fn html(old: &str, new: &str) -> String {
    if old == new {
        return "<span class=\"same\">（与上一版相同）</span>".to_string();
    }
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(300))
        .diff_chars(old, new);
    // Runs of one tag, in order.
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match runs.last_mut() {
            Some((tag, run)) if *tag == change.tag() => run.push_str(text),
            _ => runs.push((change.tag(), text.to_string())),
        }
    }
    let last = runs.len().saturating_sub(1);
    let mut out = String::new();
    for (index, (tag, text)) in runs.iter().enumerate() {
        let shown = escape(text).replace('\n', "↵<br>");
        match tag {
            ChangeTag::Delete => out.push_str(&format!("<del>{shown}</del>")),
            ChangeTag::Insert => out.push_str(&format!("<ins>{shown}</ins>")),
            ChangeTag::Equal => {
                let chars: Vec<char> = text.chars().collect();
                let keep_before = if index == 0 { 0 } else { CONTEXT };
                let keep_after = if index == last { 0 } else { CONTEXT };
                if chars.len() <= keep_before + keep_after + 8 {
                    out.push_str(&escape(text).replace('\n', "<br>"));
                } else {
                    let head: String = chars[..keep_before].iter().collect();
                    let tail: String = chars[chars.len() - keep_after..].iter().collect();
                    out.push_str(&escape(&head).replace('\n', "<br>"));
                    out.push_str("<span class=\"skip\">…</span>");
                    out.push_str(&escape(&tail).replace('\n', "<br>"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_marked_and_text_is_escaped() {
        let out = html("学校有教师 600 人。", "学校有专任教师 639 人。<b>");
        assert!(out.contains("<ins>专任</ins>"), "{out}");
        assert!(
            out.contains("<del>0</del>") || out.contains("<del>00</del>"),
            "{out}"
        );
        assert!(out.contains("&lt;b&gt;"), "{out}");
        assert!(html("同", "同").contains("相同"));
    }

    #[test]
    fn long_unchanged_text_is_shortened() {
        let same = "甲".repeat(500);
        let out = html(&format!("{same}乙"), &format!("{same}丙"));
        assert!(out.contains("…"), "{out}");
        assert!(out.chars().count() < 200, "{}", out.chars().count());
    }
}
