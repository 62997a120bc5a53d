-- Coordinated reboots (internal/patch): one row per application while one
-- of its hosts installs and reboots. Any replica takes a free or expired
-- row; the holder keeps it through the reboot until the host's agent is
-- back, and expires_at bounds how long a lost holder or host blocks the
-- others.
CREATE TABLE patch_leases (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	lease_key   TEXT NOT NULL,
	holder      TEXT NOT NULL,
	resource_id TEXT NOT NULL DEFAULT '',
	acquired_at BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	rebooted_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, lease_key)
);
