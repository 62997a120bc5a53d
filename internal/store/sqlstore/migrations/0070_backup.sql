-- The backup catalogue (internal/backup): recovery points and restore
-- tests. A point's manifest (per table or file checksums) is JSON text, read
-- whole in Go.
CREATE TABLE recovery_points (
	id              TEXT PRIMARY KEY,
	tenant_id       TEXT NOT NULL REFERENCES tenants (id),
	plan            TEXT NOT NULL,
	rule            TEXT NOT NULL DEFAULT '',
	resource_id     TEXT NOT NULL,
	method          TEXT NOT NULL,
	repository      TEXT NOT NULL DEFAULT '',
	location        TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	duration_us     BIGINT NOT NULL DEFAULT 0,
	size_bytes      BIGINT NOT NULL DEFAULT 0,
	checksum        TEXT NOT NULL DEFAULT '',
	manifest        TEXT NOT NULL DEFAULT '{}',
	status          TEXT NOT NULL,
	error           TEXT NOT NULL DEFAULT '',
	verification    TEXT NOT NULL,
	verified_at     BIGINT NOT NULL DEFAULT 0,
	expires_at      BIGINT NOT NULL,
	immutable_until BIGINT NOT NULL,
	deleted_at      BIGINT NOT NULL DEFAULT 0,
	opsitem_id      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recovery_points_plan ON recovery_points (tenant_id, plan, id);
CREATE INDEX recovery_points_expiry ON recovery_points (tenant_id, status, expires_at);

CREATE TABLE restore_tests (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	plan        TEXT NOT NULL,
	point_id    TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	started_at  BIGINT NOT NULL,
	duration_us BIGINT NOT NULL DEFAULT 0,
	status      TEXT NOT NULL,
	detail      TEXT NOT NULL DEFAULT '',
	opsitem_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX restore_tests_plan ON restore_tests (tenant_id, plan, id);
