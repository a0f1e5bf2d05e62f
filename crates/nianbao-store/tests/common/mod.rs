//! What the store's tests share: a PostgreSQL database of a test's own on the server named
//! by NIANBAO_TEST_DATABASE_URL, for tests that replace or dump a whole database and so may
//! not run in the database other tests share.

use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database made for one test and dropped (with its connections) when this is dropped.
pub struct OwnDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl OwnDatabase {
    /// Creates `nianbao_{purpose}_{pid}_{n}` on the server of `admin_url`.
    pub fn create(admin_url: &str, purpose: &str) -> OwnDatabase {
        let name = format!(
            "nianbao_{purpose}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        psql(admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .expect("a database URL ends in /name");
        OwnDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .arg(&self.admin_url)
            .arg("-qc")
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// Runs one SQL command with `psql`, failing the test if it fails.
pub fn psql(url: &str, command: &str) {
    let out = std::process::Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-qc")
        .arg(command)
        .output()
        .expect("psql runs when NIANBAO_TEST_DATABASE_URL is set: install postgresql-client");
    assert!(
        out.status.success(),
        "psql {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
