//! A SQLite connection driven through SQLite's own C interface (the `libsqlite3-sys` that
//! sqlx itself links), for reading many rows: sqlx's SQLite driver steps its statements on a
//! worker thread and copies every value of every row through a channel, which over millions
//! of facts costs more than SQLite's reading them. Here a statement is stepped on the thread
//! that reads its values, which are borrowed from SQLite until the next step.
//!
//! Only what the bulk reads need: open an existing file, run a statement without rows,
//! prepare, bind integers, step, and read integers, doubles and texts by column.

use std::ffi::{CStr, CString, c_int};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::time::Duration;

use libsqlite3_sys as ffi;

use crate::StoreError;

/// An open connection to a SQLite file. It is used by one thread at a time (it may move
/// between threads), and closed when dropped.
pub(crate) struct RawSqlite {
    db: NonNull<ffi::sqlite3>,
}

// SAFETY: the connection is opened in SQLite's multi-thread mode (NOMUTEX), in which one
// connection may be used from any thread as long as no two threads use it at once; `&mut`
// and ownership rules guarantee that, as statements borrow the connection.
unsafe impl Send for RawSqlite {}

/// The error SQLite reports for `code` on `db` (its message names what went wrong).
fn error(db: *mut ffi::sqlite3, code: c_int, what: &str) -> StoreError {
    let message = if db.is_null() {
        // SAFETY: sqlite3_errstr returns a static string for any code.
        unsafe { CStr::from_ptr(ffi::sqlite3_errstr(code)) }
            .to_string_lossy()
            .into_owned()
    } else {
        // SAFETY: db is an open connection; the message stays valid until its next call.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
            .to_string_lossy()
            .into_owned()
    };
    if matches!(code & 0xff, ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED) {
        return StoreError::Busy;
    }
    StoreError::Sqlite(format!("{what}：{message}（代码 {code}）"))
}

impl RawSqlite {
    /// Opens the existing file at `path` for reading and writing (it is never created),
    /// waiting up to `busy` for locks held by others.
    pub(crate) fn open(path: &Path, busy: Duration) -> Result<RawSqlite, StoreError> {
        let text = path.to_str().ok_or_else(|| {
            StoreError::BadPath(format!("{}：路径不是有效的 UTF-8", path.display()))
        })?;
        let name = CString::new(text)
            .map_err(|_| StoreError::BadPath(format!("{}：路径含有空字符", path.display())))?;
        let mut db: *mut ffi::sqlite3 = ptr::null_mut();
        // SAFETY: name is a valid C string and db a place for the handle.
        let code = unsafe {
            ffi::sqlite3_open_v2(
                name.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                ptr::null(),
            )
        };
        if code != ffi::SQLITE_OK {
            let err = error(db, code, &format!("无法打开 {}", path.display()));
            // SAFETY: a handle returned with an error must still be closed (null is allowed).
            unsafe { ffi::sqlite3_close(db) };
            return Err(err);
        }
        let db = NonNull::new(db).ok_or_else(|| StoreError::Sqlite("无法打开数据库".into()))?;
        let conn = RawSqlite { db };
        let ms = c_int::try_from(busy.as_millis()).unwrap_or(c_int::MAX);
        // SAFETY: db is open.
        unsafe {
            ffi::sqlite3_extended_result_codes(conn.db.as_ptr(), 1);
            ffi::sqlite3_busy_timeout(conn.db.as_ptr(), ms);
        }
        Ok(conn)
    }

    /// Runs statements that return no rows (`BEGIN`, `COMMIT`).
    pub(crate) fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        let text =
            CString::new(sql).map_err(|_| StoreError::Sqlite(format!("语句含有空字符：{sql}")))?;
        // SAFETY: db is open and text a valid C string; no callback, no error message kept.
        let code = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                text.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(error(self.db.as_ptr(), code, sql));
        }
        Ok(())
    }

    /// Prepares one statement, to be run many times (bound, stepped, reset).
    pub(crate) fn prepare(&self, sql: &str) -> Result<Statement<'_>, StoreError> {
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let length =
            c_int::try_from(sql.len()).map_err(|_| StoreError::Sqlite("语句过长".into()))?;
        // SAFETY: db is open; sql is valid for `length` bytes (no terminator needed).
        let code = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                length,
                ffi::SQLITE_PREPARE_PERSISTENT as std::ffi::c_uint,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(error(self.db.as_ptr(), code, sql));
        }
        let stmt =
            NonNull::new(stmt).ok_or_else(|| StoreError::Sqlite(format!("空语句：{sql}")))?;
        Ok(Statement {
            stmt,
            conn: self,
            sql_text: sql.to_string(),
        })
    }
}

impl Drop for RawSqlite {
    fn drop(&mut self) {
        // SAFETY: db is open; every statement borrowed it and so is finalized by now.
        unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
    }
}

/// A prepared statement of a [`RawSqlite`] connection.
pub(crate) struct Statement<'c> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    conn: &'c RawSqlite,
    /// Its text, for error messages.
    sql_text: String,
}

impl Statement<'_> {
    fn check(&self, code: c_int) -> Result<(), StoreError> {
        if code == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.conn.db.as_ptr(), code, &self.sql_text))
        }
    }

    /// Resets the statement, to be run again from its start, and binds `value` to its
    /// parameter `index` (1-based).
    pub(crate) fn restart_with(&mut self, index: c_int, value: i64) -> Result<(), StoreError> {
        // SAFETY: stmt is a live statement of an open connection. Reset's code repeats the
        // last step's error, already reported then.
        unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
        // SAFETY: as above.
        let code = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), index, value) };
        self.check(code)
    }

    /// Resets the statement and binds `text` to its parameter `index` (1-based); SQLite
    /// copies the text.
    pub(crate) fn restart_with_text(&mut self, index: c_int, text: &str) -> Result<(), StoreError> {
        // SAFETY: see `restart_with`.
        unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
        let length =
            c_int::try_from(text.len()).map_err(|_| StoreError::Sqlite("参数过长".into()))?;
        // SAFETY: text is valid for `length` bytes; SQLITE_TRANSIENT makes SQLite copy it.
        let code = unsafe {
            ffi::sqlite3_bind_text(
                self.stmt.as_ptr(),
                index,
                text.as_ptr().cast(),
                length,
                ffi::SQLITE_TRANSIENT(),
            )
        };
        self.check(code)
    }

    /// Steps to the next row: `true` when there is one, `false` when the statement is done.
    pub(crate) fn step(&mut self) -> Result<bool, StoreError> {
        // SAFETY: stmt is a live statement.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            code => Err(error(self.conn.db.as_ptr(), code, &self.sql_text)),
        }
    }

    /// Column `col` (0-based) of the current row as an integer.
    pub(crate) fn int(&self, col: c_int) -> i64 {
        // SAFETY: stmt has a current row; SQLite converts any value (out-of-range columns
        // read as NULL, that is 0).
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), col) }
    }

    /// Column `col` of the current row as a double, as SQLite holds it.
    pub(crate) fn double(&self, col: c_int) -> f64 {
        // SAFETY: as for `int`.
        unsafe { ffi::sqlite3_column_double(self.stmt.as_ptr(), col) }
    }

    /// Column `col` of the current row as text, borrowed until the next step or reset; an
    /// error when it is not UTF-8.
    pub(crate) fn text(&self, col: c_int) -> Result<&str, StoreError> {
        // SAFETY: stmt has a current row. sqlite3_column_text first, then _bytes, as SQLite
        // asks; the pointer stays valid until the statement is stepped, reset or finalized,
        // which needs `&mut self` while the returned borrow lives.
        let bytes = unsafe {
            let data = ffi::sqlite3_column_text(self.stmt.as_ptr(), col);
            let length = ffi::sqlite3_column_bytes(self.stmt.as_ptr(), col);
            if data.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(data, usize::try_from(length).unwrap_or(0))
            }
        };
        std::str::from_utf8(bytes).map_err(|e| {
            StoreError::Corrupt(format!(
                "「{}」第 {} 列不是 UTF-8 文本：{e}",
                self.sql_text,
                col + 1
            ))
        })
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: stmt is live and finalized once.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}
