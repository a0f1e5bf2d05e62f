//! 积分制 student development ledger: a versioned competency tree (competency → basic
//! point → quantified observation point), a roster, an append-only ledger of point events
//! with reversals and term closes, aggregates and 八维 profiles, award and recommendation
//! rules, the figures the annual report cites, and a synthetic generator for scale tests.
//!
//! Pure domain: no database and no command line. The ledger's tables live in
//! `nianbao-store` (`nianbao_store::points`); the `nianbao points` command is in the binary.

pub mod aggregate;
pub mod awards;
pub mod columns;
pub mod ledger;
pub mod limits;
pub mod roster;
pub mod synth;
pub mod tree;

pub use aggregate::{Group, Measure, Profile, Span};
pub use ledger::{Event, Ledger, NewEvent, Period, Rejected, RowError, Timestamp};
pub use roster::{Roster, Student};
pub use tree::{Catalog, Dimension, Tree};
