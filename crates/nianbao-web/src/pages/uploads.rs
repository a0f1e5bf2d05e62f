//! Applying an uploaded template or workbook: its changes (cells that differ from the values
//! the file was made from) are checked against the user's rights, refused as a whole when
//! someone changed one of those facts after the file was made (naming the cell, who and
//! when), and otherwise written in one compare-and-set transaction.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use nianbao_core::Dataset;
use nianbao_store::{FactEdit, StoreError, User, fact_record};
use nianbao_xlsx::{CellChange, Upload, UploadError, stale_message};

use super::sections::may_edit;
use crate::{AppState, WebError};

/// The most refused cells listed in one answer.
const MAX_LISTED: usize = 50;

/// What became of an upload.
pub(crate) enum Outcome {
    Applied {
        /// Facts changed.
        changed: usize,
        /// Untouched cells whose fact someone changed since the file was made: kept as stored.
        kept: usize,
        /// Whether the file carried the values it was made from.
        with_base: bool,
    },
    Refused {
        status: StatusCode,
        problem: String,
        cells: Vec<String>,
    },
}

impl Outcome {
    fn refused(status: StatusCode, problem: String, cells: Vec<String>) -> Outcome {
        Outcome::Refused {
            status,
            problem,
            cells,
        }
    }
}

/// Applies what was read from an upload to the school of `data` (loaded at the start of the
/// request), as `user`. `owners` maps section numbers to their assigned departments.
pub(crate) async fn apply(
    state: &AppState,
    user: &User,
    data: &Dataset,
    owners: &BTreeMap<String, String>,
    read: Result<Upload, UploadError>,
) -> Result<Outcome, WebError> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let upload = match read {
        Ok(upload) => upload,
        Err(UploadError::Cells(cells)) => {
            return Ok(Outcome::refused(
                unprocessable,
                format!("上传的文件有 {} 处错误，数据库未作任何修改：", cells.len()),
                cells.iter().map(ToString::to_string).collect(),
            ));
        }
        Err(e) => {
            return Ok(Outcome::refused(
                unprocessable,
                format!("上传的文件未能导入，数据库未作任何修改：{e}"),
                Vec::new(),
            ));
        }
    };
    let changes = match upload.changes(data) {
        Ok(changes) => changes,
        Err(e) => {
            return Ok(Outcome::refused(
                unprocessable,
                format!("上传的文件未能导入，数据库未作任何修改：{e}"),
                Vec::new(),
            ));
        }
    };
    let definitions = state.definitions();
    let mut denied = Vec::new();
    for change in &changes.edits {
        let element = definitions
            .elements
            .get(&change.key.element)
            .ok_or_else(|| WebError::Internal(format!("未知的数据项 {}", change.key.element)))?;
        let owner = owners.get(&element.section).map(String::as_str);
        if !may_edit(user, element, &change.key, data, owner) {
            denied.push(format!(
                "「{}」工作表 {} 单元格（{}）：您无权修改这一项",
                change.sheet, change.cell, element.name
            ));
        }
    }
    if !denied.is_empty() {
        return Ok(Outcome::refused(
            unprocessable,
            format!(
                "上传的文件改动了您无权修改的 {} 项，数据库未作任何修改：",
                denied.len()
            ),
            denied.into_iter().take(MAX_LISTED).collect(),
        ));
    }
    let code = &data.school.code;
    let stale: Vec<&CellChange> = changes.edits.iter().filter(|c| c.is_stale(data)).collect();
    if !stale.is_empty() {
        let mut cells = Vec::new();
        for change in stale.iter().take(MAX_LISTED) {
            cells.push(stale_line(state, data, change).await?);
        }
        return Ok(Outcome::refused(
            StatusCode::CONFLICT,
            stale_problem(stale.len()),
            cells,
        ));
    }
    let edits: Vec<FactEdit> = changes
        .edits
        .iter()
        .map(|c| FactEdit {
            key: c.key.clone(),
            expected: c.expected,
            value: c.value,
        })
        .collect();
    match state.store().edit_facts(code, &edits, &user.name).await {
        Ok(_) => Ok(Outcome::Applied {
            changed: edits.len(),
            kept: changes.kept,
            with_base: changes.with_base,
        }),
        // Someone saved between loading the data and writing: the same refusal.
        Err(StoreError::Conflict(conflict)) => {
            let Some(change) = changes.edits.iter().find(|c| c.key == conflict.key) else {
                return Err(StoreError::Conflict(conflict).into());
            };
            let line = stale_message(
                definitions,
                change,
                conflict.found,
                conflict.changed_by.as_deref(),
                conflict.changed_at.as_deref(),
            );
            Ok(Outcome::refused(
                StatusCode::CONFLICT,
                stale_problem(1),
                vec![line],
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn stale_problem(count: usize) -> String {
    format!(
        "上传的文件中有 {count} 处修改的数据在文件生成后已被他人改过，为免覆盖，数据库未作任何修改。请重新下载，填入您的修改后再上传："
    )
}

/// One stale cell with who changed its fact last and when, from the change log.
async fn stale_line(
    state: &AppState,
    data: &Dataset,
    change: &CellChange,
) -> Result<String, WebError> {
    let last = state
        .store()
        .record_history(&data.school.code, "fact", &fact_record(&change.key), 1)
        .await?;
    let last = last.first();
    Ok(stale_message(
        state.definitions(),
        change,
        data.facts.get(&change.key).copied(),
        last.map(|c| c.actor.as_str()),
        last.map(|c| c.changed_at.as_str()),
    ))
}
