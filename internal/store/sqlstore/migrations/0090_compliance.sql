-- Config-rule evaluation (internal/compliance): each rule's current
-- verdict per resource, the changes of those verdicts and the scores per
-- scope at each evaluation (the history and trend), and exceptions.
CREATE TABLE compliance_results (
	tenant_id     TEXT NOT NULL REFERENCES tenants (id),
	result_key    TEXT NOT NULL, -- rule "/" resource id: the list order and cursor
	rule          TEXT NOT NULL,
	resource_id   TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	account       TEXT NOT NULL,
	status        TEXT NOT NULL,
	annotation    TEXT NOT NULL DEFAULT '',
	since         BIGINT NOT NULL,
	evaluated_at  BIGINT NOT NULL,
	remediation_attempts INTEGER NOT NULL DEFAULT 0,
	remediated_at BIGINT NOT NULL DEFAULT 0,
	execution_id  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, result_key)
);
CREATE INDEX compliance_results_resource ON compliance_results (tenant_id, resource_id);
CREATE INDEX compliance_results_evaluated ON compliance_results (tenant_id, evaluated_at);

CREATE TABLE compliance_changes (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	rule        TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	from_status TEXT NOT NULL,
	to_status   TEXT NOT NULL,
	annotation  TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL
);
CREATE INDEX compliance_changes_tenant ON compliance_changes (tenant_id, id);
CREATE INDEX compliance_changes_at ON compliance_changes (at);

CREATE TABLE compliance_scores (
	tenant_id     TEXT NOT NULL REFERENCES tenants (id),
	at            BIGINT NOT NULL,
	scope         TEXT NOT NULL,
	name          TEXT NOT NULL,
	compliant     INTEGER NOT NULL,
	non_compliant INTEGER NOT NULL,
	percent       DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (tenant_id, scope, name, at)
);
CREATE INDEX compliance_scores_at ON compliance_scores (at);

CREATE TABLE compliance_exceptions (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	rule        TEXT NOT NULL DEFAULT '',
	resource_id TEXT NOT NULL DEFAULT '',
	tag_key     TEXT NOT NULL DEFAULT '',
	tag_value   TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL,
	owner       TEXT NOT NULL,
	expires_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX compliance_exceptions_tenant ON compliance_exceptions (tenant_id, id);
