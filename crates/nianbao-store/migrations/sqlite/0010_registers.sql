-- Records of the school's registers (training bases, social training, courses) and the
-- figures they compute for the report.

CREATE TABLE register_fact (
    school_id INTEGER NOT NULL REFERENCES school(id),
    system TEXT NOT NULL,
    year INTEGER NOT NULL,
    element TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (school_id, system, year, element)
);

CREATE TABLE training_base (
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    majors TEXT NOT NULL,
    area DOUBLE PRECISION,
    stations INTEGER,
    available_hours DOUBLE PRECISION NOT NULL,
    built INTEGER,
    note TEXT,
    PRIMARY KEY (school_id, code)
);

CREATE TABLE equipment (
    school_id INTEGER NOT NULL REFERENCES school(id),
    asset_no TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT,
    value DOUBLE PRECISION NOT NULL,
    base TEXT NOT NULL,
    acquired TEXT NOT NULL,
    status TEXT NOT NULL,
    disposed TEXT,
    available_hours DOUBLE PRECISION,
    PRIMARY KEY (school_id, asset_no)
);

CREATE TABLE base_usage (
    school_id INTEGER NOT NULL REFERENCES school(id),
    record_no TEXT NOT NULL,
    base TEXT NOT NULL,
    asset_no TEXT,
    user_kind TEXT NOT NULL,
    user_name TEXT NOT NULL,
    day TEXT NOT NULL,
    hours DOUBLE PRECISION NOT NULL,
    people INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    PRIMARY KEY (school_id, record_no)
);

CREATE TABLE training_class (
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    audience TEXT NOT NULL,
    start_day TEXT NOT NULL,
    end_day TEXT NOT NULL,
    hours DOUBLE PRECISION NOT NULL,
    trainees INTEGER NOT NULL,
    place TEXT,
    funder TEXT,
    PRIMARY KEY (school_id, code)
);

CREATE TABLE training_certification (
    school_id INTEGER NOT NULL REFERENCES school(id),
    batch TEXT NOT NULL,
    occupation TEXT NOT NULL,
    level TEXT NOT NULL,
    day TEXT NOT NULL,
    assessed INTEGER NOT NULL,
    certified INTEGER NOT NULL,
    PRIMARY KEY (school_id, batch)
);

CREATE TABLE course (
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    platform TEXT,
    hours DOUBLE PRECISION NOT NULL,
    built INTEGER NOT NULL,
    updated INTEGER,
    owner TEXT,
    major TEXT,
    PRIMARY KEY (school_id, code)
);

CREATE TABLE course_enrolment (
    school_id INTEGER NOT NULL REFERENCES school(id),
    course TEXT NOT NULL,
    term TEXT NOT NULL,
    students INTEGER NOT NULL,
    PRIMARY KEY (school_id, course, term)
);

CREATE TABLE course_measurement (
    school_id INTEGER NOT NULL REFERENCES school(id),
    course TEXT NOT NULL,
    term TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (school_id, course, term, indicator)
);

CREATE TABLE course_evaluation (
    school_id INTEGER NOT NULL REFERENCES school(id),
    course TEXT NOT NULL,
    term TEXT NOT NULL,
    rater TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    raters INTEGER,
    PRIMARY KEY (school_id, course, term, rater)
);

CREATE TABLE course_feedback (
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    course TEXT NOT NULL,
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (school_id, code)
);

CREATE TABLE course_action (
    school_id INTEGER NOT NULL REFERENCES school(id),
    code TEXT NOT NULL,
    course TEXT NOT NULL,
    feedback TEXT,
    body TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    done TEXT,
    evidence TEXT,
    PRIMARY KEY (school_id, code)
);

CREATE INDEX base_usage_day ON base_usage (school_id, day);
