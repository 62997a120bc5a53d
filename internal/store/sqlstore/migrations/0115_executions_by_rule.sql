-- The rules page counts each rule's executions: look them up by rule
-- rather than scanning the tenant's executions.
CREATE INDEX executions_tenant_rule ON executions (tenant_id, rule, created_at) WHERE rule <> '';
