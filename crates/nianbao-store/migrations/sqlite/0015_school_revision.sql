CREATE TABLE school_revision (
    school_id BIGINT PRIMARY KEY REFERENCES school(id),
    revision BIGINT NOT NULL
);
