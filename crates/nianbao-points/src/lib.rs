//! 积分制 student development ledger: a versioned competency tree (competency → basic
//! point → quantified observation point), a roster, an append-only ledger of point events
//! with reversals and term closes, aggregates and 八维 profiles, award and recommendation
//! rules, the figures the annual report cites, and a synthetic generator for scale tests.
//!
//! The library is used by the `nianbao points` command ([`cli`]).

pub mod aggregate;
pub mod awards;
pub mod cli;
pub mod columns;
pub mod ledger;
pub mod roster;
pub mod store;
pub mod synth;
pub mod tree;

pub use aggregate::{Group, Measure, Profile, Span};
pub use ledger::{Event, Ledger, NewEvent, Period, Rejected, RowError, Timestamp};
pub use roster::{Roster, Student};
pub use store::{PointsStore, SchoolLedger};
pub use tree::{Catalog, Dimension, Tree};

/// Everything that can go wrong in the points system, with messages for the user.
#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    #[error("数据库错误：{0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Tree(#[from] tree::TreeError),
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error("不支持的数据库地址「{0}」：应以 sqlite: 或 postgres:// 开头")]
    UnsupportedUrl(String),
    #[error("没有代码为「{0}」的学校：先运行 `nianbao points tree load 文件 --school 代码`")]
    UnknownSchool(String),
    #[error("没有「{0}」这个学期")]
    UnknownPeriod(String),
    #[error("名册中没有学号为「{0}」的学生")]
    UnknownStudent(String),
    #[error("{0}")]
    Invalid(String),
    #[error("数据库中的记录无法解读（{0}）")]
    Corrupt(String),
    #[error("无法读写 {path}：{message}")]
    Io { path: String, message: String },
}
