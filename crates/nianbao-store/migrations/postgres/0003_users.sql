CREATE TABLE app_user (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    school_code TEXT,
    department TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
