-- Service packs installed per tenant: the pack's version, the digest of
-- its files and the files themselves (manifest, content documents,
-- Prometheus rules; a JSON array of {path, data}), so every replica loads
-- the same documents as that tenant's content.
CREATE TABLE pack_installations (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	name         TEXT NOT NULL,
	version      TEXT NOT NULL,
	digest       TEXT NOT NULL,
	files        TEXT NOT NULL,
	installed_at BIGINT NOT NULL,
	installed_by TEXT NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
