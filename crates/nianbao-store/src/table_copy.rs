//! Copies rows between a PostgreSQL store and a SQLite store file, table by table, without
//! holding a table in memory: rows stream from the source and are inserted into the target
//! in batches of bounded size. Every value keeps its exact type (whole numbers as 64-bit
//! integers, money and areas as 64-bit floats, text, bytes, NULL); the tables' columns and
//! types are read from PostgreSQL's catalogue, the stricter of the two schemas.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::StoreError;

/// At most this many bound values in one INSERT (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_VALUES_PER_INSERT: usize = 30_000;
/// At most this many rows in one INSERT.
const MAX_ROWS_PER_INSERT: usize = 1_000;
/// A batch is written once the text and bytes it holds reach this size, so a table of large
/// images or snapshots is copied a few rows at a time.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// How a column's values are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Integer,
    Real,
    Text,
    Blob,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A column that refers to another column of its own table (a tree, such as the
/// organisation units' parents): its rows are copied parents first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelfReference {
    pub column: String,
    pub referenced: String,
}

/// A table of the store as PostgreSQL defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub self_reference: Option<SelfReference>,
}

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quoted(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query that reads every row of the table, parents before children in a tree.
    /// Rows of a tree that no root leads to are left out (and the copy then fails its
    /// count).
    pub fn select_all(&self) -> String {
        let table = quoted(&self.name);
        match &self.self_reference {
            None => format!("SELECT {} FROM {table}", self.column_list()),
            Some(link) => {
                let child = quoted(&link.column);
                let parent = quoted(&link.referenced);
                let columns = self
                    .columns
                    .iter()
                    .map(|c| format!("t.{}", quoted(&c.name)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "WITH RECURSIVE walk(node, depth) AS ( \
                       SELECT {parent}, 0 FROM {table} WHERE {child} IS NULL \
                       UNION ALL \
                       SELECT t.{parent}, walk.depth + 1 FROM {table} t JOIN walk ON t.{child} = walk.node) \
                     SELECT {columns} FROM {table} t JOIN walk ON t.{parent} = walk.node ORDER BY walk.depth"
                )
            }
        }
    }

    fn insert(&self, rows: usize) -> String {
        let width = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            quoted(&self.name),
            self.column_list()
        );
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * width + column + 1));
            }
            sql.push(')');
        }
        sql
    }

    fn rows_per_insert(&self) -> usize {
        (MAX_VALUES_PER_INSERT / self.columns.len().max(1)).clamp(1, MAX_ROWS_PER_INSERT)
    }
}

/// An identifier in double quotes (the store's names are plain, but a name is never pasted
/// into SQL bare).
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One value read from the source.
enum Cell {
    Integer(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Cell {
    fn read(row: &AnyRow, index: usize, column: &Column, table: &str) -> Result<Cell, StoreError> {
        let cell = match column.kind {
            Kind::Integer => row.try_get(index).map(Cell::Integer),
            Kind::Real => row.try_get(index).map(Cell::Real),
            Kind::Text => row.try_get(index).map(Cell::Text),
            Kind::Blob => row.try_get(index).map(Cell::Blob),
        };
        cell.map_err(|e| {
            StoreError::Refused(format!(
                "表 {table} 的列 {} 中有一个值的类型不对（{e}），没有恢复任何内容",
                column.name
            ))
        })
    }

    fn size(&self) -> usize {
        match self {
            Cell::Text(Some(text)) => text.len(),
            Cell::Blob(Some(bytes)) => bytes.len(),
            _ => 8,
        }
    }
}

/// Reads every row of `table` from `source` and inserts it into the same table on
/// `target`, which must hold no rows of it yet. Returns the number of rows copied, after
/// checking it against the source's count of the table (read in the same transaction).
pub(crate) async fn copy_table(
    source: &mut AnyConnection,
    target: &mut AnyConnection,
    table: &Table,
) -> Result<u64, StoreError> {
    let expected: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM {}",
        quoted(&table.name)
    ))
    .fetch_one(&mut *source)
    .await?;
    let select = table.select_all();
    let mut rows = sqlx::query(&select).fetch(&mut *source);
    let per_insert = table.rows_per_insert();
    let mut batch: Vec<Cell> = Vec::with_capacity(per_insert * table.columns.len());
    let mut batch_rows = 0;
    let mut batch_bytes = 0;
    let mut copied: u64 = 0;
    while let Some(row) = rows.try_next().await? {
        for (index, column) in table.columns.iter().enumerate() {
            let cell = Cell::read(&row, index, column, &table.name)?;
            batch_bytes += cell.size();
            batch.push(cell);
        }
        batch_rows += 1;
        if batch_rows == per_insert || batch_bytes >= MAX_BATCH_BYTES {
            insert(target, table, batch_rows, &mut batch).await?;
            copied += batch_rows as u64;
            batch_rows = 0;
            batch_bytes = 0;
        }
    }
    drop(rows);
    if batch_rows > 0 {
        insert(target, table, batch_rows, &mut batch).await?;
        copied += batch_rows as u64;
    }
    if copied != expected as u64 {
        return Err(StoreError::Refused(format!(
            "表 {} 有 {expected} 行，只读出 {copied} 行（树形数据中有找不到上级的行？），没有恢复任何内容",
            table.name
        )));
    }
    Ok(copied)
}

async fn insert(
    target: &mut AnyConnection,
    table: &Table,
    rows: usize,
    batch: &mut Vec<Cell>,
) -> Result<(), StoreError> {
    let sql = table.insert(rows);
    let mut query = sqlx::query(&sql);
    for cell in batch.drain(..) {
        query = match cell {
            Cell::Integer(v) => query.bind(v),
            Cell::Real(v) => query.bind(v),
            Cell::Text(v) => query.bind(v),
            Cell::Blob(v) => query.bind(v),
        };
    }
    query.execute(&mut *target).await?;
    Ok(())
}

/// The tables of the PostgreSQL store (partitions left out: their rows are read and written
/// through their parent), with their columns in order, each table after every table it
/// refers to.
pub(crate) async fn postgres_tables(conn: &mut AnyConnection) -> Result<Vec<Table>, StoreError> {
    let rows = sqlx::query(
        "SELECT CAST(c.relname AS TEXT), CAST(a.attname AS TEXT), \
                CAST(format_type(a.atttypid, a.atttypmod) AS TEXT) \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
         ORDER BY c.relname, a.attnum",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in &rows {
        let table: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let declared: String = row.try_get(2)?;
        let kind = match declared.as_str() {
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "double precision" => Kind::Real,
            "text" => Kind::Text,
            "bytea" => Kind::Blob,
            _ => {
                return Err(StoreError::Refused(format!(
                    "表 {table} 的列 {name} 的类型 {declared} 无法写入备份"
                )));
            }
        };
        tables
            .entry(table.clone())
            .or_insert_with(|| Table {
                name: table,
                columns: Vec::new(),
                self_reference: None,
            })
            .columns
            .push(Column { name, kind });
    }

    let references = sqlx::query(
        "SELECT CAST(t.relname AS TEXT), CAST(r.relname AS TEXT), \
                CAST((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(x.conkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = x.conrelid AND a.attnum = k.n) AS TEXT), \
                CAST((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(x.confkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = x.confrelid AND a.attnum = k.n) AS TEXT) \
         FROM pg_constraint x \
         JOIN pg_class t ON t.oid = x.conrelid \
         JOIN pg_class r ON r.oid = x.confrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE x.contype = 'f' AND n.nspname = current_schema() AND NOT t.relispartition",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &references {
        let table: String = row.try_get(0)?;
        let referenced: String = row.try_get(1)?;
        if table == referenced {
            let column: String = row.try_get(2)?;
            let target: String = row.try_get(3)?;
            if column.contains(',') {
                return Err(StoreError::Refused(format!(
                    "表 {table} 的多列自引用（{column}）无法按上下级顺序复制"
                )));
            }
            if let Some(t) = tables.get_mut(&table) {
                t.self_reference = Some(SelfReference {
                    column,
                    referenced: target,
                });
            }
        } else {
            depends.entry(table).or_default().insert(referenced);
        }
    }
    in_reference_order(tables, &depends)
}

/// The tables ordered so that each comes after the tables it refers to.
fn in_reference_order(
    mut tables: BTreeMap<String, Table>,
    depends: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<Table>, StoreError> {
    let mut ordered = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|name| {
                depends
                    .get(*name)
                    .is_none_or(|needs| needs.iter().all(|n| !tables.contains_key(n)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Refused(format!(
                "表之间的外键引用成环（{}），无法确定复制顺序",
                tables.keys().cloned().collect::<Vec<_>>().join("、")
            )));
        }
        for name in ready {
            if let Some(table) = tables.remove(&name) {
                ordered.push(table);
            }
        }
    }
    Ok(ordered)
}

/// The columns of each table of a SQLite store, by table.
pub(crate) async fn sqlite_columns(
    conn: &mut AnyConnection,
) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        tables.insert(name, columns.into_iter().collect());
    }
    Ok(tables)
}

/// Refuses unless the SQLite store holds exactly the PostgreSQL store's tables, each with
/// the same columns.
pub(crate) fn same_tables(
    postgres: &[Table],
    sqlite: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(), StoreError> {
    let theirs: BTreeMap<String, BTreeSet<String>> = postgres
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.columns.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .collect();
    if &theirs == sqlite {
        return Ok(());
    }
    let mut differences = Vec::new();
    for (table, columns) in &theirs {
        match sqlite.get(table) {
            None => differences.push(format!("{table} 只在 PostgreSQL 中")),
            Some(other) if other != columns => differences.push(format!(
                "{table} 的列不同（PostgreSQL：{}；SQLite：{}）",
                columns.iter().cloned().collect::<Vec<_>>().join(","),
                other.iter().cloned().collect::<Vec<_>>().join(",")
            )),
            Some(_) => {}
        }
    }
    for table in sqlite.keys() {
        if !theirs.contains_key(table) {
            differences.push(format!("{table} 只在 SQLite 中"));
        }
    }
    Err(StoreError::Refused(format!(
        "PostgreSQL 数据库与 SQLite 备份的表结构不一致：{}",
        differences.join("；")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, columns: usize) -> Table {
        Table {
            name: name.into(),
            columns: (0..columns)
                .map(|i| Column {
                    name: format!("c{i}"),
                    kind: Kind::Integer,
                })
                .collect(),
            self_reference: None,
        }
    }

    #[test]
    fn tables_come_after_the_tables_they_refer_to() {
        let tables: BTreeMap<String, Table> = ["a_child", "b_parent", "c_root"]
            .into_iter()
            .map(|n| (n.to_string(), table(n, 1)))
            .collect();
        let mut depends = BTreeMap::new();
        depends.insert(
            "a_child".to_string(),
            BTreeSet::from(["b_parent".to_string()]),
        );
        depends.insert(
            "b_parent".to_string(),
            BTreeSet::from(["c_root".to_string()]),
        );
        let order: Vec<String> = in_reference_order(tables.clone(), &depends)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(order, ["c_root", "b_parent", "a_child"]);

        depends.insert(
            "c_root".to_string(),
            BTreeSet::from(["a_child".to_string()]),
        );
        let cycle = in_reference_order(tables, &depends).unwrap_err();
        assert!(cycle.to_string().contains("成环"), "{cycle}");
    }

    #[test]
    fn an_insert_numbers_its_values_and_stays_within_the_bounds() {
        let t = table("t", 2);
        assert_eq!(
            t.insert(2),
            "INSERT INTO \"t\" (\"c0\", \"c1\") VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(t.rows_per_insert(), MAX_ROWS_PER_INSERT);
        let wide = table("w", 100);
        assert_eq!(wide.rows_per_insert(), 300);
        assert!(wide.rows_per_insert() * 100 <= MAX_VALUES_PER_INSERT);
    }
}
