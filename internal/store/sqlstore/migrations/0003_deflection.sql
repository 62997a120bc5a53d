-- Deflection: silences and maintenance windows. Matchers, recurrences,
-- schedules and targets are JSON text, parsed and evaluated in Go (packages
-- silence and maintenance); the columns the queries filter on are their own.

CREATE TABLE silences (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	matchers   TEXT NOT NULL,
	starts_at  BIGINT NOT NULL,
	ends_at    BIGINT NOT NULL,
	recurrence TEXT NOT NULL DEFAULT '',
	comment    TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expired_at BIGINT NOT NULL DEFAULT 0,
	expired_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX silences_tenant ON silences (tenant_id, id);
CREATE INDEX silences_tenant_ends ON silences (tenant_id, ends_at);

-- ends_at is a one-off window's end, 0 for a recurring one.
CREATE TABLE maintenance_windows (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	name       TEXT NOT NULL,
	timezone   TEXT NOT NULL,
	schedule   TEXT NOT NULL,
	targets    TEXT NOT NULL,
	ends_at    BIGINT NOT NULL DEFAULT 0,
	comment    TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
CREATE INDEX maintenance_windows_tenant ON maintenance_windows (tenant_id, id);
