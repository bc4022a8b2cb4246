-- Version 2: a driver-defined version string per document (size and mtime
-- for files, UID for mail, an ETag or revision for APIs), so an unchanged
-- item is recognised before it is fetched, not only after.
ALTER TABLE documents ADD COLUMN version TEXT;
