CREATE TABLE area (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES area(code)
);

CREATE TABLE area_school (
    school_code TEXT PRIMARY KEY,
    district_code TEXT NOT NULL REFERENCES area(code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE INDEX area_school_district ON area_school (district_code);

CREATE TABLE deadline (
    area_code TEXT NOT NULL REFERENCES area(code),
    year BIGINT NOT NULL,
    due TEXT NOT NULL,
    PRIMARY KEY (area_code, year)
);

CREATE TABLE submission (
    school_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    state TEXT NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    submitted_at TEXT,
    PRIMARY KEY (school_code, year)
);

CREATE TABLE submission_event (
    id BIGSERIAL PRIMARY KEY,
    school_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

CREATE INDEX submission_event_school ON submission_event (school_code, year, id);

CREATE TABLE return_item (
    school_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    event_id BIGINT NOT NULL REFERENCES submission_event(id),
    position BIGINT NOT NULL,
    target_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (school_code, year, event_id, position)
);

CREATE TABLE approval_snapshot (
    school_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    element TEXT NOT NULL,
    major TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (school_code, year, element, major)
);

CREATE TABLE area_approval (
    area_code TEXT NOT NULL REFERENCES area(code),
    year BIGINT NOT NULL,
    actor TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (area_code, year)
);

CREATE TABLE area_text (
    area_code TEXT NOT NULL REFERENCES area(code),
    year BIGINT NOT NULL,
    part TEXT NOT NULL,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (area_code, year, part)
);

CREATE TABLE user_area (
    user_id BIGINT PRIMARY KEY REFERENCES app_user(id),
    area_code TEXT NOT NULL REFERENCES area(code)
);
