//! Who may do what: the roles of the people who keep a school's data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role. A department editor is also bound to one department; a 班主任 or a
/// 任课教师 to the classes they teach (in the store's `user_class`), a student to one 学号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 管理员: manages accounts.
    Admin,
    /// 质量办: edits every section and approves.
    Quality,
    /// 部门填报: edits only its own department's sections and majors.
    Department,
    /// 只读审阅: reads everything, changes nothing (an education commission's reviewer).
    Reviewer,
    /// 心理辅导员: the only role that reads and keeps the psychological archive.
    Counsellor,
    /// 班主任: records points for the students of its classes and reads their profiles.
    #[serde(rename = "head_teacher")]
    HeadTeacher,
    /// 任课教师: records points for the students of the classes it teaches.
    Teacher,
    /// 学生: reads its own points profile, nothing else.
    Student,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Quality,
        Role::Department,
        Role::Reviewer,
        Role::Counsellor,
        Role::HeadTeacher,
        Role::Teacher,
        Role::Student,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Quality => "quality",
            Role::Department => "department",
            Role::Reviewer => "reviewer",
            Role::Counsellor => "counsellor",
            Role::HeadTeacher => "head_teacher",
            Role::Teacher => "teacher",
            Role::Student => "student",
        }
    }

    /// The Chinese name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Quality => "质量办",
            Role::Department => "部门填报",
            Role::Reviewer => "只读审阅",
            Role::Counsellor => "心理辅导员",
            Role::HeadTeacher => "班主任",
            Role::Teacher => "任课教师",
            Role::Student => "学生",
        }
    }

    /// Whether the role must name the department it edits for.
    pub fn needs_department(self) -> bool {
        self == Role::Department
    }

    /// Whether the role must name the classes it records points for.
    pub fn needs_classes(self) -> bool {
        matches!(self, Role::HeadTeacher | Role::Teacher)
    }

    /// Whether the role is a student's own account, bound to one 学号.
    pub fn needs_student(self) -> bool {
        self == Role::Student
    }

    /// Whether the role works only in the points ledger (积分制) of its classes or its own
    /// record, and sees none of the school's report data.
    pub fn points_only(self) -> bool {
        self.needs_classes() || self.needs_student()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A role name that is neither a code nor a Chinese label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知的角色「{0}」，应为 admin（管理员）、quality（质量办）、department（部门填报）、reviewer（只读审阅）、counsellor（心理辅导员）、head_teacher（班主任）、teacher（任课教师）或 student（学生）"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Accepts the code ("quality") or the Chinese label ("质量办").
    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        let text = text.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code() == text || r.label() == text)
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_code_or_label() {
        assert_eq!("quality".parse::<Role>(), Ok(Role::Quality));
        assert_eq!("部门填报".parse::<Role>(), Ok(Role::Department));
        assert!("校长".parse::<Role>().is_err());
        assert_eq!("班主任".parse::<Role>(), Ok(Role::HeadTeacher));
        assert_eq!("student".parse::<Role>(), Ok(Role::Student));
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
    }
}
