//! Check and indicator results kept per school and report year, so the pages that show
//! them (dashboard, findings, report) do not load the whole dataset and run every check and
//! indicator on each request. With them are kept the other school-wide reads of those
//! pages: acceptances, section owners, the writing parts' states and the open comments.
//!
//! An entry is valid for one revision of its school ([`nianbao_store::Store::revision`]):
//! the store raises the revision in the same transaction as every write to the school's
//! data, its registers or its points ledger, whichever process writes. Each request reads
//! the revision (one indexed row) and recomputes when it differs from the entry's, so a save
//! in this app, an import on the command line or another server's write is seen on the next
//! request. A revision is read before the data, so an entry's data is never older than its
//! revision.
//!
//! Requests that miss at the same time for one school compute once: the others wait for
//! that computation instead of repeating it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::collections::BTreeMap;

use nianbao_authoring::{Authoring, PartView};
use nianbao_core::{Acceptance, Dataset, Definitions, Finding, IndicatorResult, Year};
use nianbao_store::{Comment, Store};

use crate::WebError;

/// A school's dataset (registers and points laid in) at one revision, with its findings,
/// its indicators for the report year and what else the school's pages read of it.
#[derive(Debug)]
pub(crate) struct Computed {
    pub revision: i64,
    pub data: Dataset,
    pub findings: Vec<Finding>,
    pub indicators: Vec<IndicatorResult>,
    /// Accepted warnings, by finding key.
    pub accepted: BTreeMap<String, Acceptance>,
    /// Section or part → the department that fills it in.
    pub owners: BTreeMap<String, String>,
    /// The report's parts for the report year, with their states, in print order.
    pub parts: Vec<PartView>,
    /// The report year's comments.
    pub comments: Vec<Comment>,
}

impl Computed {
    pub fn year(&self) -> Year {
        self.data.school.report_year
    }
}

/// One school's slot: the newest entry, and a lock held while it is recomputed.
#[derive(Default)]
struct Slot {
    entry: Mutex<Option<Arc<Computed>>>,
    computing: tokio::sync::Mutex<()>,
}

impl Slot {
    fn current(&self, revision: i64) -> Option<Arc<Computed>> {
        let entry = self.entry.lock().unwrap_or_else(|e| e.into_inner());
        entry.as_ref().filter(|c| c.revision == revision).cloned()
    }
}

/// The results of every school this process has served, by school code.
#[derive(Default)]
pub(crate) struct Results {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    computations: AtomicU64,
}

impl Results {
    /// How many times results were computed since the app started.
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }

    fn slot(&self, code: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(code.to_string()).or_default().clone()
    }

    /// The school's results at the store's current revision: kept ones if the revision is
    /// unchanged, otherwise loaded and computed (once, however many requests ask at once).
    pub async fn get(
        &self,
        store: &Store,
        definitions: &Definitions,
        code: &str,
    ) -> Result<Arc<Computed>, WebError> {
        let revision = store.revision(code).await?;
        let slot = self.slot(code);
        if let Some(hit) = slot.current(revision) {
            return Ok(hit);
        }
        let _computing = slot.computing.lock().await;
        if let Some(hit) = slot.current(revision) {
            return Ok(hit);
        }
        let data = store.load_dataset_with_registers(code, definitions).await?;
        let year = data.school.report_year;
        let findings = nianbao_core::run_checks(definitions, &data);
        let indicators = nianbao_core::evaluate_indicators(definitions, &data, year);
        let accepted = store
            .acceptances(code)
            .await?
            .into_iter()
            .map(|a| (a.key.clone(), a))
            .collect();
        let owners = store.section_owners(code).await?;
        let authoring = Authoring::new(store, definitions);
        let texts = authoring
            .texts(code, year)
            .await
            .map_err(crate::pages::writing::refused)?;
        let parts = authoring
            .part_views(code, year, &texts)
            .await
            .map_err(crate::pages::writing::refused)?;
        let comments = store.comments(code, year).await?;
        self.computations.fetch_add(1, Ordering::Relaxed);
        let computed = Arc::new(Computed {
            revision,
            data,
            findings,
            indicators,
            accepted,
            owners,
            parts,
            comments,
        });
        *slot.entry.lock().unwrap_or_else(|e| e.into_inner()) = Some(computed.clone());
        Ok(computed)
    }
}
