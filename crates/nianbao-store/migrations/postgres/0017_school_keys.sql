-- Every per-school table's keys include the school, so the store can be distributed by
-- school (docs/scale.md): the tables that numbered their rows on their own are keyed by
-- (school, id) now, and the references to them name the school as well.

ALTER TABLE change_log DROP CONSTRAINT change_log_pkey;

ALTER TABLE change_log ADD PRIMARY KEY (school_id, id);

DROP INDEX change_log_school;

ALTER TABLE report_comment DROP CONSTRAINT report_comment_pkey;

ALTER TABLE report_comment ADD PRIMARY KEY (school_id, id);

ALTER TABLE report_snapshot DROP CONSTRAINT report_snapshot_pkey;

ALTER TABLE report_snapshot ADD PRIMARY KEY (school_id, id);

ALTER TABLE psych_record DROP CONSTRAINT psych_record_archive_id_fkey;

ALTER TABLE psych_archive DROP CONSTRAINT psych_archive_pkey;

ALTER TABLE psych_archive ADD PRIMARY KEY (school_id, id);

ALTER TABLE psych_record ADD CONSTRAINT psych_record_archive_fkey
    FOREIGN KEY (school_id, archive_id) REFERENCES psych_archive (school_id, id) ON DELETE CASCADE;

DROP INDEX psych_record_archive;

CREATE INDEX psych_record_archive ON psych_record (school_id, archive_id);

ALTER TABLE psych_access DROP CONSTRAINT psych_access_pkey;

ALTER TABLE psych_access ADD PRIMARY KEY (school_id, id);

DROP INDEX psych_access_school;

ALTER TABLE points_period DROP CONSTRAINT points_period_pkey;

ALTER TABLE points_period ADD PRIMARY KEY (school_id, id);

ALTER TABLE return_item DROP CONSTRAINT return_item_event_id_fkey;

ALTER TABLE submission_event DROP CONSTRAINT submission_event_pkey;

ALTER TABLE submission_event ADD PRIMARY KEY (school_code, id);

ALTER TABLE return_item ADD CONSTRAINT return_item_event_fkey
    FOREIGN KEY (school_code, event_id) REFERENCES submission_event (school_code, id);

CREATE INDEX change_log_id ON change_log (id);

CREATE INDEX submission_event_id ON submission_event (id);
