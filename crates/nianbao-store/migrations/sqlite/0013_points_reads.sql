-- Who read which student's points profile or history, and when: the ledger holds minors'
-- records, so every read is logged.

CREATE TABLE points_read (
    school_id INTEGER NOT NULL REFERENCES school(id),
    student_id INTEGER NOT NULL,
    reader TEXT NOT NULL,
    what TEXT NOT NULL,
    read_at TEXT NOT NULL
);

CREATE INDEX points_read_student ON points_read (school_id, student_id);
