-- The content generation (a content reload, docs/content.md): one row that
-- a reload on any replica bumps; every replica polls it and loads its
-- content again when it changes.
CREATE TABLE content_generation (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation BIGINT NOT NULL,
	digest     TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL DEFAULT 0,
	updated_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO content_generation (id, generation) VALUES (1, 0);
