-- Foundation schema: tenants, tokens, OpsItems, the audit chain.
-- Times are BIGINT microseconds since the epoch (0 = unset); booleans are
-- INTEGER 0/1; the same text runs on SQLite and PostgreSQL.

CREATE TABLE tenants (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);

CREATE TABLE tokens (
	id             TEXT PRIMARY KEY,
	tenant_id      TEXT NOT NULL REFERENCES tenants (id),
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	platform_admin INTEGER NOT NULL DEFAULT 0,
	prefix         TEXT NOT NULL,
	secret_hash    TEXT NOT NULL UNIQUE,
	created_at     BIGINT NOT NULL,
	created_by     TEXT NOT NULL DEFAULT '',
	expires_at     BIGINT NOT NULL DEFAULT 0,
	revoked_at     BIGINT NOT NULL DEFAULT 0,
	last_used_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, id);

CREATE TABLE opsitems (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	title       TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	category    TEXT NOT NULL,
	severity    TEXT NOT NULL,
	status      TEXT NOT NULL,
	source      TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	resolved_at BIGINT NOT NULL DEFAULT 0,
	resolved_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX opsitems_tenant ON opsitems (tenant_id, id);
CREATE INDEX opsitems_tenant_status ON opsitems (tenant_id, status, id);

CREATE TABLE audit_heads (
	tenant_id TEXT PRIMARY KEY,
	seq       BIGINT NOT NULL,
	hash      TEXT NOT NULL
);

CREATE TABLE audit_records (
	tenant_id TEXT NOT NULL,
	seq       BIGINT NOT NULL,
	at        BIGINT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	result    TEXT NOT NULL,
	detail    TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE audit_checkpoints (
	tenant_id TEXT NOT NULL,
	seq       BIGINT NOT NULL,
	hash      TEXT NOT NULL,
	at        BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);
