//! The pure heart of Nianbao: what a school's yearly facts are, which facts may exist
//! (the element catalogue), the small expression language that rules and indicators are
//! written in, the checks and indicators themselves, and the findings they produce.
//!
//! Nothing here touches a file, a database or the network: the store and the importers
//! turn outside input into these types, the renderers read them.

pub mod account;
#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
pub mod catalogue;
pub mod check;
pub mod clock;
pub mod dataset;
pub mod definitions;
pub mod deletion;
pub mod expr;
pub mod finding;
pub mod indicator;
pub mod number;
pub mod plan;
pub mod writing;

pub use account::Role;
pub use catalogue::{
    Category, Dimension, Edition, Element, ElementCatalogue, MajorCatalogue, ValueKind,
};
pub use check::{Evaluation, Rule, RuleSet, check_and_compute, run_checks};
pub use dataset::{Dataset, FactKey, Major, OrgPath, School, Year, YearError};
pub use definitions::{DefinitionError, Definitions};
pub use expr::{EvalError, Expr, ParseError};
pub use finding::{Acceptance, Finding, Location, Severity};
pub use indicator::{
    Indicator, IndicatorResult, IndicatorValue, Standard, StandardVerdict, Threshold,
    evaluate_indicator, evaluate_indicators, indicator_values,
};
pub use plan::{FindingKey, Plan, Summary, Table};
pub use writing::WritingState;
