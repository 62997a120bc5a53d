-- Automation rules (internal/rule): each rule's circuit breaker per tenant,
-- and the log of its runs, which rate limits count and the loop guard's
-- cool-down reads. Runs older than any rule's window are pruned as rules
-- act; the audit log keeps the history.

CREATE TABLE rule_states (
	tenant_id          TEXT NOT NULL REFERENCES tenants (id),
	rule               TEXT NOT NULL,
	failures           BIGINT NOT NULL DEFAULT 0,
	breaker_opened_at  BIGINT NOT NULL DEFAULT 0,
	breaker_opsitem_id TEXT NOT NULL DEFAULT '',
	updated_at         BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, rule)
);

CREATE TABLE rule_runs (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	rule         TEXT NOT NULL,
	opsitem_id   TEXT NOT NULL,
	at           BIGINT NOT NULL,
	action       TEXT NOT NULL,
	execution_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rule_runs_rule_at ON rule_runs (tenant_id, rule, at);
CREATE INDEX rule_runs_opsitem ON rule_runs (tenant_id, rule, opsitem_id, at);
