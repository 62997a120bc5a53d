-- Human handling of OpsItems: acknowledgement, assignee and the time an
-- OpsItem spent in a person's hands (human_seconds: finished intervals;
-- human_since: start of the running one, 0 when none runs).
ALTER TABLE opsitems ADD COLUMN acknowledged_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE opsitems ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE opsitems ADD COLUMN human_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN human_since BIGINT NOT NULL DEFAULT 0;
CREATE INDEX opsitems_tenant_assignee ON opsitems (tenant_id, assignee, id);
