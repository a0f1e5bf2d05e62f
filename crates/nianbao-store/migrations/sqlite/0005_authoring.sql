CREATE TABLE report_text (
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    author TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (school_id, year, path, version)
);

CREATE TABLE report_image (
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    bytes BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (school_id, year, path)
);

CREATE TABLE report_part (
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    part TEXT NOT NULL,
    state TEXT NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (school_id, year, part)
);

CREATE TABLE report_comment (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    part TEXT NOT NULL,
    quote TEXT,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_by TEXT,
    resolved_at TEXT
);

CREATE INDEX report_comment_school ON report_comment (school_id, year, part);

CREATE TABLE report_snapshot (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES school(id),
    year INTEGER NOT NULL,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload BLOB NOT NULL
);
