//! 心理健康档案（一人一档）: the most sensitive records Nianbao keeps — minors' screenings,
//! counselling and follow-ups. Only the counsellor role reads them; every field about a
//! student is sealed with a key kept outside the store ([`cipher`]); every read, export and
//! import is logged with who and why (by the store); the report and dashboards receive only
//! counts ([`tally`]), with small ones withheld; archives are deleted a fixed number of
//! years after their last record.

pub mod cipher;
pub mod records;
pub mod tally;

pub use cipher::{Key, SealError, Sealer};
pub use records::{
    Archive, ArchiveEvent, Counselling, FollowUp, Identity, PsychKind, PsychRecords, PsychRow,
    Screening,
};
pub use tally::{suppress, tallies};
