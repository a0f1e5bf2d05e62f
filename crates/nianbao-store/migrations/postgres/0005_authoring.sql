CREATE TABLE report_text (
    school_id BIGINT NOT NULL REFERENCES school(id),
    year BIGINT NOT NULL,
    path TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    deleted BIGINT NOT NULL,
    author TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (school_id, year, path, version)
);

CREATE TABLE report_image (
    school_id BIGINT NOT NULL REFERENCES school(id),
    year BIGINT NOT NULL,
    path TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (school_id, year, path)
);

CREATE TABLE report_part (
    school_id BIGINT NOT NULL REFERENCES school(id),
    year BIGINT NOT NULL,
    part TEXT NOT NULL,
    state TEXT NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (school_id, year, part)
);

CREATE TABLE report_comment (
    id BIGSERIAL PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES school(id),
    year BIGINT NOT NULL,
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
    id BIGSERIAL PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES school(id),
    year BIGINT NOT NULL,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload BYTEA NOT NULL
);
