//! The schema can be distributed by school (docs/scale.md). Every table of the store is
//! either per-school — it has a school column, `school_id` or (the bureau's tables)
//! `school_code` — or one of the reference tables named below, which would be copied to
//! every node; a new table that is neither fails here until it is classified. On
//! PostgreSQL, the backend a distributed deployment runs on, every primary key and unique
//! index of a per-school table includes its school column, as Citus requires of a table
//! distributed by it. Both backends hold the same tables.

use std::collections::{BTreeMap, BTreeSet};
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;

use nianbao_store::Store;
use sqlx::Row;

/// Tables that are not per-school: small catalogues and the accounts every node needs.
const REFERENCE: &[&str] = &[
    // The schema's own version.
    "schema_version",
    // The organisation tree and the catalogue of schools (about 8,500 rows nationally);
    // `school.id` is the value every per-school table is distributed by.
    "org_unit",
    "school",
    // Accounts and sessions: a login is looked up by name before its school is known.
    "app_user",
    "web_session",
    // What a points-only account may reach (its classes, its student), found by user.
    "user_class",
    "user_student",
    // The points ledger's settings.
    "points_meta",
    // Areas, the schools' place in them, deadlines, and what a bureau owns.
    "area",
    "area_school",
    "deadline",
    "area_approval",
    "area_text",
    "user_area",
    // A bureau's batch audits of hand-written reports and the grades confirmed, by area.
    "audit_batch",
    "audit_grade",
    // An area report's finals.
    "area_final",
];

/// The columns that name a school.
const SCHOOL_COLUMNS: &[&str] = &["school_id", "school_code"];

/// Each table's columns.
type Tables = BTreeMap<String, BTreeSet<String>>;

fn school_column(columns: &BTreeSet<String>) -> Option<&'static str> {
    SCHOOL_COLUMNS
        .iter()
        .copied()
        .find(|c| columns.contains(*c))
}

/// What is wrong with the classification of the tables: each is per-school or reference.
fn unclassified(tables: &Tables) -> Vec<String> {
    let mut problems = Vec::new();
    for (table, columns) in tables {
        if !REFERENCE.contains(&table.as_str()) && school_column(columns).is_none() {
            problems.push(format!(
                "{table}: no school column ({}) and not listed as a reference table",
                SCHOOL_COLUMNS.join(" or ")
            ));
        }
    }
    for reference in REFERENCE {
        if !tables.contains_key(*reference) {
            problems.push(format!(
                "{reference}: listed as reference but not in the schema"
            ));
        }
    }
    problems
}

async fn sqlite_tables(store: &Store) -> Tables {
    let pool = store.database().reader();
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get(0).unwrap())
    .collect();
    let mut tables = Tables::new();
    for name in names {
        let columns = sqlx::query("SELECT name FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get(0).unwrap())
            .collect();
        tables.insert(name, columns);
    }
    tables
}

/// The tables of the current schema (partitions left out: they follow their parent).
async fn postgres_tables(store: &Store) -> Tables {
    let rows = sqlx::query(
        "SELECT CAST(c.relname AS TEXT), CAST(a.attname AS TEXT) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
    )
    .fetch_all(store.database().reader())
    .await
    .unwrap();
    let mut tables = Tables::new();
    for r in &rows {
        tables
            .entry(r.try_get(0).unwrap())
            .or_default()
            .insert(r.try_get(1).unwrap());
    }
    tables
}

/// Every unique index (primary keys and unique constraints included) of the current
/// schema's tables: (table, index, is primary, columns).
async fn postgres_unique_keys(store: &Store) -> Vec<(String, String, bool, BTreeSet<String>)> {
    let rows = sqlx::query(
        "SELECT CAST(t.relname AS TEXT), CAST(i.relname AS TEXT), \
                CAST(CASE WHEN x.indisprimary THEN 1 ELSE 0 END AS BIGINT), \
                CAST(COALESCE(a.attname, '(expression)') AS TEXT) \
         FROM pg_index x \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) \
         WHERE x.indisunique AND n.nspname = current_schema() AND NOT t.relispartition",
    )
    .fetch_all(store.database().reader())
    .await
    .unwrap();
    let mut keys: BTreeMap<(String, String), (bool, BTreeSet<String>)> = BTreeMap::new();
    for r in &rows {
        let entry = keys
            .entry((r.try_get(0).unwrap(), r.try_get(1).unwrap()))
            .or_default();
        entry.0 = r.try_get::<i64, _>(2).unwrap() == 1;
        entry.1.insert(r.try_get(3).unwrap());
    }
    keys.into_iter()
        .map(|((table, index), (primary, columns))| (table, index, primary, columns))
        .collect()
}

/// The keys of per-school tables that leave their school column out.
fn keys_without_school(
    tables: &Tables,
    keys: &[(String, String, bool, BTreeSet<String>)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (table, index, primary, columns) in keys {
        if REFERENCE.contains(&table.as_str()) {
            continue;
        }
        let Some(school) = tables.get(table).and_then(school_column) else {
            continue;
        };
        if !columns.contains(school) {
            let kind = if *primary {
                "primary key"
            } else {
                "unique index"
            };
            problems.push(format!(
                "{table}: {kind} {index} ({}) leaves out {school}",
                columns.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    problems
}

#[test]
fn the_checks_see_a_key_without_the_school_and_an_unclassified_table() {
    let mut tables = Tables::new();
    tables.insert(
        "ledger".into(),
        ["id", "school_id", "amount"].map(String::from).into(),
    );
    tables.insert("stray".into(), ["id", "text"].map(String::from).into());
    let keys = vec![
        (
            "ledger".to_string(),
            "ledger_pkey".to_string(),
            true,
            ["id".to_string()].into(),
        ),
        (
            "ledger".to_string(),
            "ledger_once".to_string(),
            false,
            ["school_id".to_string(), "id".to_string()].into(),
        ),
    ];
    let problems = keys_without_school(&tables, &keys);
    assert_eq!(
        problems,
        vec!["ledger: primary key ledger_pkey (id) leaves out school_id"]
    );
    let problems = unclassified(&tables);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("stray: no school column"))
    );
    assert!(!problems.iter().any(|p| p.starts_with("ledger")));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("area: listed as reference"))
    );
}

#[tokio::test]
async fn every_table_is_per_school_or_reference_and_per_school_keys_include_the_school() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(&dir.path().join("schema.db"))
        .await
        .unwrap();
    let sqlite_tables = sqlite_tables(&sqlite).await;
    assert!(sqlite_tables.contains_key("fact"), "{sqlite_tables:?}");
    let problems = unclassified(&sqlite_tables);
    assert!(problems.is_empty(), "SQLite:\n{}", problems.join("\n"));

    let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the keys are checked on PostgreSQL; set NIANBAO_TEST_DATABASE_URL to run that part"
        );
        return;
    };
    let postgres = Store::open(&url).await.unwrap();
    let tables = postgres_tables(&postgres).await;
    let problems = unclassified(&tables);
    assert!(problems.is_empty(), "PostgreSQL:\n{}", problems.join("\n"));
    // Both backends hold the same tables with the same school columns.
    let names = |t: &Tables| t.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&sqlite_tables), names(&tables));
    for (table, columns) in &tables {
        assert_eq!(
            school_column(columns),
            school_column(&sqlite_tables[table]),
            "{table}"
        );
    }
    let keys = postgres_unique_keys(&postgres).await;
    assert!(
        keys.iter()
            .any(|(t, _, primary, c)| t == "fact" && *primary && c.contains("school_id")),
        "{keys:?}"
    );
    let problems = keys_without_school(&tables, &keys);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
