-- Who exported which list of the points ledger (rankings, award lists), when and with how
-- many rows: the ledger holds minors' records, and each exported file names the same person
-- and time.

CREATE TABLE points_export (
    school_id BIGINT NOT NULL REFERENCES school(id),
    exported_by TEXT NOT NULL,
    what TEXT NOT NULL,
    rows BIGINT NOT NULL,
    exported_at TEXT NOT NULL
);

CREATE INDEX points_export_school ON points_export (school_id, exported_at);

-- A teacher's own events (their list, what they may reverse) are read by recorder.
CREATE INDEX points_event_recorder ON points_event (school_id, recorder, seq);
