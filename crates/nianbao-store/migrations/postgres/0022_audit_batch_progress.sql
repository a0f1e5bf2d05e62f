-- How far a batch being audited has got, kept in the store so that every server process can
-- show it: the reports audited so far, and when the process auditing it last wrote (its
-- heartbeat, UTC), which it does every few seconds and as reports are done. A batch still
-- running whose heartbeat has stopped was cut off. The number of reports in the batch is
-- `reports` (0018). A batch of an earlier release has no heartbeat: its upload time stands
-- for it.

ALTER TABLE audit_batch ADD COLUMN audited BIGINT NOT NULL DEFAULT 0;

ALTER TABLE audit_batch ADD COLUMN heartbeat_at TEXT;
