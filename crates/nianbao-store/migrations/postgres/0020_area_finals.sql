-- An area report's finals: the compiled report as it was made final (its web page and Word
-- file, kept byte for byte), who made it and when, and the hash of the draft's content.
-- A row without its files is a final still being written, or one whose writing failed.

CREATE TABLE area_final (
    id BIGSERIAL PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES area(code),
    year BIGINT NOT NULL,
    made_by TEXT NOT NULL,
    made_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    html BYTEA,
    docx BYTEA
);

CREATE INDEX area_final_area ON area_final (area_code, year, id);
