//! Joining the lines of a paragraph that PDF extraction broke apart, while keeping a map
//! from each byte of the joined text back to the line it came from.

use std::ops::Range;

/// A paragraph's text joined from its lines, with the line of every byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joined {
    pub text: String,
    /// (byte offset in `text` where the line's content starts, 1-based line number).
    segments: Vec<(usize, usize)>,
}

impl Joined {
    /// Appends a line (trimmed); words of Latin letters or digits broken at the line end
    /// are kept apart by a space, Chinese text is joined directly.
    pub fn push_line(&mut self, line_number: usize, line: &str) {
        let line = line.trim_matches(is_blank);
        if line.is_empty() {
            return;
        }
        let needs_space = self
            .text
            .chars()
            .next_back()
            .zip(line.chars().next())
            .is_some_and(|(a, b)| a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
        if needs_space {
            self.text.push(' ');
        }
        self.segments.push((self.text.len(), line_number));
        self.text.push_str(line);
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The line of the byte at `offset`.
    pub fn line_at(&self, offset: usize) -> usize {
        let index = self.segments.partition_point(|&(start, _)| start <= offset);
        self.segments
            .get(index.saturating_sub(1))
            .map(|&(_, line)| line)
            .unwrap_or(0)
    }

    /// Every line that the bytes of `range` come from, in order.
    pub fn lines_of(&self, range: Range<usize>) -> Vec<usize> {
        let end = range.end.saturating_sub(1).max(range.start);
        let first = self
            .segments
            .partition_point(|&(start, _)| start <= range.start)
            .saturating_sub(1);
        let last = self
            .segments
            .partition_point(|&(start, _)| start <= end)
            .saturating_sub(1);
        let mut lines: Vec<usize> = self
            .segments
            .get(first..=last.max(first))
            .unwrap_or(&[])
            .iter()
            .map(|&(_, line)| line)
            .collect();
        lines.dedup();
        lines
    }

    /// The first line of the paragraph.
    pub fn first_line(&self) -> usize {
        self.segments.first().map(|&(_, line)| line).unwrap_or(0)
    }
}

/// Whitespace that surrounds text in extracted lines (including the ideographic space).
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}'
}

/// Whether a line ends a sentence, so that the next line starts a new paragraph.
pub fn ends_sentence(line: &str) -> bool {
    let trimmed = line
        .trim_end_matches(is_blank)
        .trim_end_matches(['”', '’', '」', '』', '）', ')', '*']);
    trimmed
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '。' | '！' | '？' | '!' | '?' | '；' | ';' | '：' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_back_to_lines() {
        let mut joined = Joined::default();
        joined.push_line(3, "高级双师型教师21");
        joined.push_line(7, "人、中级双师型教师69人");
        assert_eq!(joined.text, "高级双师型教师21人、中级双师型教师69人");
        let at = joined.text.find("21").unwrap_or(0);
        assert_eq!(joined.line_at(at), 3);
        assert_eq!(joined.lines_of(at..at + 5), vec![3, 7]);
        assert_eq!(joined.line_at(joined.text.len() - 1), 7);
    }

    #[test]
    fn latin_words_keep_a_space() {
        let mut joined = Joined::default();
        joined.push_line(1, "SGAVE");
        joined.push_line(2, "project");
        assert_eq!(joined.text, "SGAVE project");
    }
}
