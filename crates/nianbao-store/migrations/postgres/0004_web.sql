CREATE TABLE web_session (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX web_session_expiry ON web_session (expires_at);

CREATE TABLE section_owner (
    school_id BIGINT NOT NULL REFERENCES school(id),
    section TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (school_id, section)
);
