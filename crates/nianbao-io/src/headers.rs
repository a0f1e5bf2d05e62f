//! The file names and column headers of the dataset folder, in one place.

pub const SCHOOL_FILE: &str = "school.toml";
pub const MAJORS_FILE: &str = "majors.csv";
pub const STUDENTS_FILE: &str = "students.csv";
pub const YEARS_DIR: &str = "years";
pub const NOTES_TABLE: &str = "notes";

pub const MAJOR_NAME: &str = "专业名称";
pub const MAJOR_CATEGORY: &str = "专业大类";
pub const MAJOR_DEPARTMENT: &str = "所属专业部";
pub const YEAR: &str = "年份";

/// The per-major columns of students.csv and the element each one fills.
pub const STUDENT_COLUMNS: [(&str, &str); 3] = [
    ("招生人数", "major.intake"),
    ("在校生人数", "major.enrolled"),
    ("毕业生人数", "major.graduates"),
];
