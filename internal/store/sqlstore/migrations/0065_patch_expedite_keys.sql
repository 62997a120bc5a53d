-- Expedites raised automatically (an Inspector finding, a scan that sees a
-- new critical security update) claim a key — package, version and the
-- sorted host set — so one such update on one set of hosts is expedited
-- once, however many findings, scans or replicas see it.
CREATE TABLE patch_expedite_keys (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	dedup_key   TEXT NOT NULL,
	expedite_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, dedup_key)
);
