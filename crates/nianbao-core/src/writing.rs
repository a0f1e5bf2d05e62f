//! Where a part of the report's text stands in its review: 待写 → 草稿 → 待审 → 已定稿.
//! The store keeps each part's state; the web app and the command line move it along.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The review state of one part of the report (a section, a front page, the back page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WritingState {
    /// 待写: nothing written yet.
    Empty,
    /// 草稿: written, not yet handed in for review (or returned by the reviewer, or
    /// changed after approval).
    Draft,
    /// 待审: handed in, waiting for the reviewer.
    Review,
    /// 已定稿: approved by the reviewer.
    Approved,
}

impl WritingState {
    pub const ALL: [WritingState; 4] = [
        WritingState::Empty,
        WritingState::Draft,
        WritingState::Review,
        WritingState::Approved,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            WritingState::Empty => "empty",
            WritingState::Draft => "draft",
            WritingState::Review => "review",
            WritingState::Approved => "approved",
        }
    }

    /// The Chinese name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            WritingState::Empty => "待写",
            WritingState::Draft => "草稿",
            WritingState::Review => "待审",
            WritingState::Approved => "已定稿",
        }
    }
}

impl fmt::Display for WritingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A state code that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的撰写状态「{0}」（应为 待写、草稿、待审 或 已定稿）")]
pub struct UnknownState(pub String);

impl FromStr for WritingState {
    type Err = UnknownState;

    fn from_str(text: &str) -> Result<WritingState, UnknownState> {
        WritingState::ALL
            .into_iter()
            .find(|s| s.code() == text || s.label() == text)
            .ok_or_else(|| UnknownState(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_parse_back() {
        for state in WritingState::ALL {
            assert_eq!(state.code().parse::<WritingState>(), Ok(state));
            assert_eq!(state.label().parse::<WritingState>(), Ok(state));
        }
        assert!("done".parse::<WritingState>().is_err());
    }
}
