-- Patch management (internal/patch): each host's latest patch state (its
-- detail is internal/patch's JSON), the compliance points behind trends,
-- when each package version was first seen (approve_after_days counts
-- from it), and expedited critical updates with their deadlines.
CREATE TABLE patch_states (
	tenant_id          TEXT NOT NULL REFERENCES tenants (id),
	resource_id        TEXT NOT NULL,
	hostname           TEXT NOT NULL DEFAULT '',
	patch_group        TEXT NOT NULL DEFAULT '',
	baseline           TEXT NOT NULL DEFAULT '',
	scanned_at         BIGINT NOT NULL,
	compliant          INTEGER NOT NULL,
	noncompliant_since BIGINT NOT NULL DEFAULT 0,
	opsitem_id         TEXT NOT NULL DEFAULT '',
	detail             TEXT NOT NULL,
	PRIMARY KEY (tenant_id, resource_id)
);

CREATE TABLE patch_points (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	resource_id TEXT NOT NULL,
	patch_group TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL,
	compliant   INTEGER NOT NULL
);
CREATE INDEX patch_points_at ON patch_points (tenant_id, at);

CREATE TABLE patch_releases (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	name       TEXT NOT NULL,
	version    TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, name, version)
);

CREATE TABLE patch_expedites (
	id           TEXT PRIMARY KEY,
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	package      TEXT NOT NULL,
	version      TEXT NOT NULL DEFAULT '',
	source       TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	targets      TEXT NOT NULL,
	requested_by TEXT NOT NULL DEFAULT '',
	requested_at BIGINT NOT NULL,
	due_at       BIGINT NOT NULL,
	status       TEXT NOT NULL,
	execution_id TEXT NOT NULL DEFAULT '',
	opsitem_id   TEXT NOT NULL DEFAULT '',
	installed_at BIGINT NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX patch_expedites_tenant ON patch_expedites (tenant_id, requested_at);
CREATE INDEX patch_expedites_open ON patch_expedites (status, requested_at);
