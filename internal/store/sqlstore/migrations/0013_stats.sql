-- The flywheel metrics and automation candidates read OpsItems created or
-- resolved in a period; the OpsItem list pages by id within a tenant and
-- status (opsitems_tenant_status) and the detail page's related events by
-- OpsItem (events_opsitem).
CREATE INDEX opsitems_tenant_created ON opsitems (tenant_id, created_at);
CREATE INDEX opsitems_tenant_resolved ON opsitems (tenant_id, resolved_at);
