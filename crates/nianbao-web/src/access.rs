//! Who may do what, decided on the server for every request from the user's role,
//! school and department. Pages only hide what a user cannot do; these functions decide.

use nianbao_core::Role;
use nianbao_core::catalogue::{Dimension, Element};
use nianbao_store::User;

/// Whether the user may see a school's data, findings, history and report. A user bound to
/// a school sees only that school; a user bound to none (a commission's reviewer) sees all.
/// Teachers' and students' accounts see none of it: they work in the points ledger only.
pub fn can_read_school(user: &User, school: &str) -> bool {
    !user.role.points_only() && user.school_code.as_deref().is_none_or(|own| own == school)
}

/// Whether the user works in this school's points ledger (积分制) at all: its own school's
/// quality office, 班主任, 任课教师 and students. What each may reach within it is decided
/// by [`can_record`], [`can_read_student`] and [`can_run_points`].
pub fn in_points(user: &User, school: &str) -> bool {
    user.school_code.as_deref() == Some(school)
        && (user.role == Role::Quality || user.role.points_only())
}

/// Recording points for a student of `class`: a 班主任 or 任课教师 of that class.
pub fn can_record(user: &User, classes: &[String], class: &str) -> bool {
    user.role.needs_classes() && classes.iter().any(|c| c == class)
}

/// Reading one student's profile and history: the student's own account; the 班主任 of
/// the student's class; the quality office of the school.
pub fn can_read_student(
    user: &User,
    classes: &[String],
    own_number: Option<&str>,
    student_number: &str,
    student_class: &str,
) -> bool {
    match user.role {
        Role::Student => own_number == Some(student_number),
        Role::HeadTeacher => classes.iter().any(|c| c == student_class),
        Role::Quality => true,
        _ => false,
    }
}

/// Reading a class's ranking: the 班主任 of the class; the quality office.
pub fn can_read_class(user: &User, classes: &[String], class: &str) -> bool {
    match user.role {
        Role::HeadTeacher => classes.iter().any(|c| c == class),
        Role::Quality => true,
        _ => false,
    }
}

/// Running the ledger: rankings of the whole school, award lists, the roster.
pub fn can_run_points(user: &User) -> bool {
    user.role == Role::Quality
}

/// Whether the user may change one fact of an element: the quality office any; a department
/// editor the per-major facts of its own department's majors, and the school-wide facts of
/// the sections assigned to its department.
pub fn can_edit_fact(
    user: &User,
    element: &Element,
    major_department: Option<&str>,
    section_owner: Option<&str>,
) -> bool {
    match user.role {
        Role::Quality => true,
        Role::Department => {
            let department = user.department.as_deref();
            match element.dimension {
                Dimension::Major => department.is_some() && major_department == department,
                Dimension::School => department.is_some() && section_owner == department,
            }
        }
        Role::Admin
        | Role::Reviewer
        | Role::Counsellor
        | Role::HeadTeacher
        | Role::Teacher
        | Role::Student => false,
    }
}

/// Accepting warnings, reverting changes and assigning sections to departments.
pub fn can_approve(user: &User) -> bool {
    user.role == Role::Quality
}

/// Writing one part of the report (a section's text, its cases, a front page): the quality
/// office any; a department editor the parts assigned to its department.
pub fn can_write_part(user: &User, owner: Option<&str>) -> bool {
    match user.role {
        Role::Quality => true,
        Role::Department => user.department.is_some() && user.department.as_deref() == owner,
        Role::Admin
        | Role::Reviewer
        | Role::Counsellor
        | Role::HeadTeacher
        | Role::Teacher
        | Role::Student => false,
    }
}

/// Returning a part with a reason or approving it (已定稿): the school's own reviewer and
/// the quality office. A commission's reviewer (bound to no school) only reads.
pub fn can_review(user: &User) -> bool {
    match user.role {
        Role::Quality => true,
        Role::Reviewer => user.school_code.is_some(),
        Role::Admin
        | Role::Department
        | Role::Counsellor
        | Role::HeadTeacher
        | Role::Teacher
        | Role::Student => false,
    }
}

/// Commenting on the report's text: everyone who works on the school's report.
pub fn can_comment(user: &User) -> bool {
    match user.role {
        Role::Quality | Role::Department => true,
        Role::Reviewer => user.school_code.is_some(),
        Role::Admin | Role::Counsellor | Role::HeadTeacher | Role::Teacher | Role::Student => false,
    }
}

/// Making the report final (定稿).
pub fn can_finalize(user: &User) -> bool {
    user.role == Role::Quality
}

/// Creating accounts.
pub fn can_manage_users(user: &User) -> bool {
    user.role == Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;
    use nianbao_core::catalogue::ValueKind;

    fn user(role: Role, school: Option<&str>, department: Option<&str>) -> User {
        User {
            id: 1,
            name: "u".into(),
            role,
            school_code: school.map(str::to_string),
            department: department.map(str::to_string),
        }
    }

    fn element(dimension: Dimension) -> Element {
        Element {
            code: "x".into(),
            name: "x".into(),
            unit: "人".into(),
            kind: ValueKind::Count,
            dimension,
            section: "1.5".into(),
            register: None,
            max: None,
        }
    }

    #[test]
    fn a_department_edits_only_its_own_majors_and_sections() {
        let editor = user(Role::Department, Some("s"), Some("信息技术部"));
        let per_major = element(Dimension::Major);
        let school_wide = element(Dimension::School);
        assert!(can_edit_fact(&editor, &per_major, Some("信息技术部"), None));
        assert!(!can_edit_fact(
            &editor,
            &per_major,
            Some("现代服务部"),
            None
        ));
        assert!(!can_edit_fact(&editor, &school_wide, None, None));
        assert!(!can_edit_fact(
            &editor,
            &school_wide,
            None,
            Some("现代服务部")
        ));
        assert!(can_edit_fact(
            &editor,
            &school_wide,
            None,
            Some("信息技术部")
        ));
        let reviewer = user(Role::Reviewer, None, None);
        assert!(!can_edit_fact(&reviewer, &school_wide, None, None));
        assert!(can_write_part(&editor, Some("信息技术部")));
        assert!(!can_write_part(&editor, Some("现代服务部")));
        assert!(!can_write_part(&editor, None));
        assert!(!can_review(&reviewer), "a commission's reviewer only reads");
        assert!(can_review(&user(Role::Reviewer, Some("s"), None)));
        assert!(!can_review(&editor));
        assert!(!can_write_part(
            &user(Role::Reviewer, Some("s"), None),
            None
        ));
        assert!(can_read_school(&reviewer, "any"));
        assert!(!can_read_school(&editor, "other"));
    }

    #[test]
    fn teachers_and_students_reach_only_their_classes_and_themselves() {
        let classes = vec!["汽修2301".to_string()];
        let head = user(Role::HeadTeacher, Some("s"), None);
        let teacher = user(Role::Teacher, Some("s"), None);
        let student = user(Role::Student, Some("s"), None);
        for u in [&head, &teacher, &student] {
            assert!(!can_read_school(u, "s"), "{:?} sees no report data", u.role);
            assert!(in_points(u, "s"));
            assert!(!in_points(u, "other"));
            assert!(!can_run_points(u));
        }
        assert!(can_record(&head, &classes, "汽修2301"));
        assert!(can_record(&teacher, &classes, "汽修2301"));
        assert!(!can_record(&head, &classes, "数控2302"));
        assert!(!can_record(&student, &classes, "汽修2301"));
        assert!(!can_record(
            &user(Role::Quality, Some("s"), None),
            &classes,
            "汽修2301"
        ));
        assert!(can_read_student(&head, &classes, None, "S1", "汽修2301"));
        assert!(!can_read_student(&head, &classes, None, "S2", "数控2302"));
        assert!(!can_read_student(
            &teacher,
            &classes,
            None,
            "S1",
            "汽修2301"
        ));
        assert!(can_read_student(
            &student,
            &[],
            Some("S1"),
            "S1",
            "汽修2301"
        ));
        assert!(!can_read_student(
            &student,
            &[],
            Some("S1"),
            "S2",
            "汽修2301"
        ));
        assert!(can_read_class(&head, &classes, "汽修2301"));
        assert!(!can_read_class(&teacher, &classes, "汽修2301"));
        assert!(!in_points(&user(Role::Counsellor, Some("s"), None), "s"));
    }
}
