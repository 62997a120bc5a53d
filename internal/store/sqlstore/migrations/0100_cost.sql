-- Financial and capacity management (package cost and capacity): the
-- state each resource schedule last set on each of its targets, the metric
-- samples capacity forecasts fit (bounded by age, pruned by the forecast
-- tick), and the OpsItem each waste or forecast finding opened, so a
-- finding that holds is one OpsItem, not one per tick.
CREATE TABLE schedule_states (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	schedule     TEXT NOT NULL,
	resource_id  TEXT NOT NULL,
	state        TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	retained     INTEGER NOT NULL DEFAULT 0,
	execution_id TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	changed_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, schedule, resource_id)
);

CREATE TABLE metric_samples (
	tenant_id   TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	metric      TEXT NOT NULL,
	at          BIGINT NOT NULL,
	value       DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (tenant_id, resource_id, metric, at)
);
CREATE INDEX metric_samples_at ON metric_samples (at);

CREATE TABLE cost_findings (
	tenant_id       TEXT NOT NULL,
	finding_key     TEXT NOT NULL,
	kind            TEXT NOT NULL,
	resource_id     TEXT NOT NULL,
	opsitem_id      TEXT NOT NULL,
	monthly_savings DOUBLE PRECISION NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, finding_key)
);
