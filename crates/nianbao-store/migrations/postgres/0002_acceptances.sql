CREATE TABLE acceptance (
    school_id BIGINT NOT NULL REFERENCES school(id),
    finding_key TEXT NOT NULL,
    explanation TEXT NOT NULL,
    actor TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (school_id, finding_key)
);
