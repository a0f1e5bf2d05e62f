-- An area report's final also kept as PDF, made with the Word file and the web page by the
-- same renderer as a school's report. Empty for finals made before, and for a final made on
-- a server without the CJK fonts the PDF needs.

ALTER TABLE area_final ADD COLUMN pdf BLOB;
