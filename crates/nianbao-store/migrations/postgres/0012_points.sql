-- The points ledger (积分制): tree versions, roster, terms, import batches and the
-- append-only event table, for the schools of the `school` table.

CREATE TABLE points_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE points_tree (
    school_id BIGINT NOT NULL REFERENCES school(id),
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    effective TEXT,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    PRIMARY KEY (school_id, version)
);

CREATE TABLE points_observation (
    school_id BIGINT NOT NULL,
    tree_version BIGINT NOT NULL,
    observation BIGINT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    point_code TEXT NOT NULL,
    competency_code TEXT NOT NULL,
    value BIGINT NOT NULL,
    min_value BIGINT NOT NULL,
    max_value BIGINT NOT NULL,
    PRIMARY KEY (school_id, tree_version, observation)
);

CREATE TABLE points_observation_dimension (
    school_id BIGINT NOT NULL,
    tree_version BIGINT NOT NULL,
    observation BIGINT NOT NULL,
    dimension BIGINT NOT NULL,
    PRIMARY KEY (school_id, tree_version, observation, dimension)
);

CREATE TABLE points_student (
    school_id BIGINT NOT NULL REFERENCES school(id),
    id BIGINT NOT NULL,
    number TEXT NOT NULL,
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    major TEXT NOT NULL,
    department TEXT NOT NULL,
    entry_year BIGINT NOT NULL,
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, number)
);

CREATE TABLE points_period (
    id BIGSERIAL PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    school_year BIGINT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    UNIQUE (school_id, code)
);

CREATE TABLE points_batch (
    school_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (school_id, id)
);

CREATE TABLE points_event (
    school_id BIGINT NOT NULL,
    school_year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    student_id BIGINT NOT NULL,
    tree_version BIGINT NOT NULL,
    observation BIGINT NOT NULL,
    value BIGINT NOT NULL,
    at TEXT NOT NULL,
    period_id BIGINT NOT NULL,
    recorder TEXT NOT NULL,
    role TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT,
    reverses BIGINT,
    batch_id BIGINT NOT NULL,
    PRIMARY KEY (school_id, school_year, seq)
) PARTITION BY LIST (school_id);

CREATE UNIQUE INDEX points_event_event_id ON points_event (school_id, event_id, school_year);

CREATE INDEX points_event_student ON points_event (school_id, student_id, seq);

CREATE FUNCTION points_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '积分事件只能追加：更正请记录冲销事件'; END $$;

CREATE TRIGGER points_event_no_change BEFORE UPDATE OR DELETE ON points_event
FOR EACH ROW EXECUTE FUNCTION points_event_append_only();
