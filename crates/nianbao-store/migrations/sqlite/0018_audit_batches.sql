-- A bureau's batch audits of hand-written school reports: one row per uploaded archive
-- (its table of schools × findings kept as JSON once done), and the grade a person
-- confirmed for each report of it, with who and when.

CREATE TABLE audit_batch (
    id INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES area(code),
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    reports INTEGER NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    problem TEXT
);

CREATE INDEX audit_batch_area ON audit_batch (area_code, id);

CREATE TABLE audit_grade (
    batch_id INTEGER NOT NULL REFERENCES audit_batch(id),
    position INTEGER NOT NULL,
    grade TEXT NOT NULL,
    note TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (batch_id, position)
);
