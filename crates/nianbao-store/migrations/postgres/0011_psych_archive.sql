-- The psychological archive: every field about a student sealed (see nianbao-systems'
-- psych::cipher); archives found by a keyed hash of the student number; every read,
-- export, import and deletion logged.

CREATE TABLE psych_key (
    school_id BIGINT PRIMARY KEY REFERENCES school(id),
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE psych_archive (
    id BIGSERIAL PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES school(id),
    pseudonym TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    retain_until TEXT NOT NULL,
    UNIQUE (school_id, pseudonym)
);

CREATE TABLE psych_record (
    school_id BIGINT NOT NULL REFERENCES school(id),
    kind TEXT NOT NULL,
    record_no TEXT NOT NULL,
    archive_id BIGINT REFERENCES psych_archive(id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (school_id, kind, record_no)
);

CREATE TABLE psych_access (
    id BIGSERIAL PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES school(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT NOT NULL
);

CREATE INDEX psych_record_archive ON psych_record (archive_id);

CREATE INDEX psych_access_school ON psych_access (school_id, id);
