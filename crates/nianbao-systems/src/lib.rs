//! The school's registers whose figures the annual report quotes, beside the yearly facts:
//!
//! - [`bases`] — 实训基地与设备台账: bases, the equipment register, usage and utilisation;
//! - [`training`] — 社会培训登记: classes by audience, trainees, skill certification;
//! - [`psych`] — 心理健康档案（一人一档）: screenings, counselling, follow-ups, sealed
//!   with a key kept outside the store; only suppressed aggregate counts leave it;
//! - [`courses`] — 课程质量闭环: courses, enrolment, monitoring, evaluations, feedback and
//!   improvement actions, shown as each course's timeline.
//!
//! Each register reads its lists from CSV or Excel ([`table`]), merges an import into what
//! is stored and checks the whole ([`register`]), and computes the figures of the report's
//! sections as facts of elements marked `register = …` in data/elements.toml; [`facts`]
//! lays those figures into a school's dataset, so checks, indicators and the report's
//! bindings read them like any other fact. Vocabularies are data ([`vocab`]).
//!
//! Nothing here touches the database: the store persists the registers.

pub mod bases;
pub mod courses;
pub mod date;
pub mod facts;
pub mod psych;
pub mod register;
pub mod table;
pub mod training;
pub mod vocab;

pub use date::Day;
pub use register::{ImportSummary, Mode, RegisterFact, System};
pub use table::{ImportError, ImportErrors};
pub use vocab::Vocabulary;
