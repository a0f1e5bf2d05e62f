CREATE TABLE org_unit (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES org_unit(id),
    level TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE
);

CREATE TABLE school (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_unit(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    profile TEXT NOT NULL
);

CREATE TABLE major (
    school_id INTEGER NOT NULL REFERENCES school(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (school_id, name)
);

CREATE TABLE fact (
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    element TEXT NOT NULL,
    major TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (school_id, year, element, major)
);

CREATE TABLE note (
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    element TEXT NOT NULL,
    major TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (school_id, year, element, major)
);

CREATE TABLE change_log (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES school(id),
    changed_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    record TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);

CREATE INDEX change_log_school ON change_log (school_id, id);
