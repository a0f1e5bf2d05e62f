//! The education bureau's side of Nianbao: the areas (province → city → district) and
//! their schools, the submission and approval of each school's year, the comparison of
//! many schools against standards and against their peers, and synthetic schools for
//! tests and benchmarks.
//!
//! Pure: nothing here touches a file, a database or the network. The store keeps the
//! states and the binary and the web app drive the transitions.

pub mod approval;
pub mod areas;
pub mod compare;
pub mod peers;
pub mod synth;

pub use approval::{Action, Actor, ActorRole, Refusal, ReturnItem, ReturnTarget, SubmissionState};
pub use areas::{Area, AreaError, AreaSchool, AreaTree, Deadline, Level, SchoolType};
pub use peers::{Outlier, PeerRule, SizeBand};
