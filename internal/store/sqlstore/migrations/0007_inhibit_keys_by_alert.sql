-- Replacing an alert's inhibition keys deletes them by fingerprint; without
-- this index every firing alert scanned all of its tenant's keys.
CREATE INDEX inhibit_keys_alert ON inhibit_keys (tenant_id, fingerprint);
