CREATE TABLE pt_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE pt_school (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE pt_tree (
    school_id INTEGER NOT NULL REFERENCES pt_school(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    effective TEXT,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    PRIMARY KEY (school_id, version)
);

CREATE TABLE pt_observation (
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

CREATE TABLE pt_observation_dimension (
    school_id INTEGER NOT NULL,
    tree_version INTEGER NOT NULL,
    observation INTEGER NOT NULL,
    dimension INTEGER NOT NULL,
    PRIMARY KEY (school_id, tree_version, observation, dimension)
);

CREATE TABLE pt_student (
    school_id INTEGER NOT NULL REFERENCES pt_school(id),
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

CREATE TABLE pt_period (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES pt_school(id),
    code TEXT NOT NULL,
    school_year INTEGER NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    UNIQUE (school_id, code)
);

CREATE TABLE pt_batch (
    school_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (school_id, id)
);

CREATE TABLE pt_event (
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

CREATE UNIQUE INDEX pt_event_event_id ON pt_event (school_id, event_id);

CREATE INDEX pt_event_student ON pt_event (school_id, student_id, seq);

CREATE TRIGGER pt_event_no_update BEFORE UPDATE ON pt_event
BEGIN SELECT RAISE(ABORT, '积分事件只能追加：更正请记录冲销事件'); END;

CREATE TRIGGER pt_event_no_delete BEFORE DELETE ON pt_event
BEGIN SELECT RAISE(ABORT, '积分事件只能追加：更正请记录冲销事件'); END;
