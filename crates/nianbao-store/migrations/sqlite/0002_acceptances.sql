CREATE TABLE acceptance (
    school_id INTEGER NOT NULL REFERENCES school(id),
    finding_key TEXT NOT NULL,
    explanation TEXT NOT NULL,
    actor TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (school_id, finding_key)
);
