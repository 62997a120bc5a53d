-- Hosts Flywheel knows of (host-like resources, hosts named by events)
-- that match no enrolled agent. host is the normalised name, IP or cloud
-- instance ID; raised_at is when the "Host without an agent" event was
-- submitted (0: not yet). A row is deleted when an agent covers the host.
CREATE TABLE unmanaged_hosts (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	host        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	source      TEXT NOT NULL DEFAULT '',
	resource_id TEXT NOT NULL DEFAULT '',
	first_seen  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	raised_at   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, host)
);
