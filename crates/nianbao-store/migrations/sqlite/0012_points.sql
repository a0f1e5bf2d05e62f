-- The points ledger (积分制): tree versions, roster, terms, import batches and the
-- append-only event table, for the schools of the `school` table.

CREATE TABLE points_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE points_tree (
    school_id INTEGER NOT NULL REFERENCES school(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    effective TEXT,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    PRIMARY KEY (school_id, version)
);

CREATE TABLE points_observation (
    school_id INTEGER NOT NULL,
    tree_version INTEGER NOT NULL,
    observation INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    point_code TEXT NOT NULL,
    competency_code TEXT NOT NULL,
    value INTEGER NOT NULL,
    min_value INTEGER NOT NULL,
    max_value INTEGER NOT NULL,
    PRIMARY KEY (school_id, tree_version, observation)
);

CREATE TABLE points_observation_dimension (
    school_id INTEGER NOT NULL,
    tree_version INTEGER NOT NULL,
    observation INTEGER NOT NULL,
    dimension INTEGER NOT NULL,
    PRIMARY KEY (school_id, tree_version, observation, dimension)
);

CREATE TABLE points_student (
    school_id INTEGER NOT NULL REFERENCES school(id),
    id INTEGER NOT NULL,
    number TEXT NOT NULL,
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    major TEXT NOT NULL,
    department TEXT NOT NULL,
    entry_year INTEGER NOT NULL,
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, number)
);

CREATE TABLE points_period (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    school_year INTEGER NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    UNIQUE (school_id, code)
);

CREATE TABLE points_batch (
    school_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (school_id, id)
);

CREATE TABLE points_event (
    school_id INTEGER NOT NULL,
    school_year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    student_id INTEGER NOT NULL,
    tree_version INTEGER NOT NULL,
    observation INTEGER NOT NULL,
    value INTEGER NOT NULL,
    at TEXT NOT NULL,
    period_id INTEGER NOT NULL,
    recorder TEXT NOT NULL,
    role TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT,
    reverses INTEGER,
    batch_id INTEGER NOT NULL,
    PRIMARY KEY (school_id, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX points_event_event_id ON points_event (school_id, event_id);

CREATE INDEX points_event_student ON points_event (school_id, student_id, seq);

CREATE TRIGGER points_event_no_update BEFORE UPDATE ON points_event
BEGIN SELECT RAISE(ABORT, '积分事件只能追加：更正请记录冲销事件'); END;

CREATE TRIGGER points_event_no_delete BEFORE DELETE ON points_event
BEGIN SELECT RAISE(ABORT, '积分事件只能追加：更正请记录冲销事件'); END;
