-- Runbook executions (package execution): the execution with its cursor and
-- lease, one row per step visit (and per target of a per-target step), and
-- the decisions on approval gates. Parameters, targets, inputs and outputs
-- are JSON text, read whole.

CREATE TABLE executions (
	id               TEXT PRIMARY KEY,
	tenant_id        TEXT NOT NULL REFERENCES tenants (id),
	runbook          TEXT NOT NULL,
	runbook_version  BIGINT NOT NULL DEFAULT 0,
	status           TEXT NOT NULL,
	parameters       TEXT NOT NULL DEFAULT '{}',
	targets          TEXT NOT NULL DEFAULT '[]',
	opsitem_id       TEXT NOT NULL DEFAULT '',
	rule             TEXT NOT NULL DEFAULT '',
	started_by       TEXT NOT NULL DEFAULT '',
	mode             TEXT NOT NULL DEFAULT '',
	dry_run          INTEGER NOT NULL DEFAULT 0,
	parent_id        TEXT NOT NULL DEFAULT '',
	parent_seq       BIGINT NOT NULL DEFAULT 0,
	depth            BIGINT NOT NULL DEFAULT 0,
	step_cursor      BIGINT NOT NULL DEFAULT 0,
	seq              BIGINT NOT NULL DEFAULT -1,
	next_seq         BIGINT NOT NULL DEFAULT 0,
	cancel_requested INTEGER NOT NULL DEFAULT 0,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      BIGINT NOT NULL DEFAULT 0,
	due_at           BIGINT NOT NULL DEFAULT 0,
	outputs          TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	started_at       BIGINT NOT NULL DEFAULT 0,
	ended_at         BIGINT NOT NULL DEFAULT 0,
	updated_at       BIGINT NOT NULL,
	lock_count       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX executions_tenant ON executions (tenant_id, id);
CREATE INDEX executions_tenant_status ON executions (tenant_id, status, id);
CREATE INDEX executions_tenant_runbook ON executions (tenant_id, runbook, id);
CREATE INDEX executions_tenant_opsitem ON executions (tenant_id, opsitem_id, id);
CREATE INDEX executions_overdue ON executions (status, due_at);

CREATE TABLE execution_steps (
	tenant_id    TEXT NOT NULL,
	execution_id TEXT NOT NULL REFERENCES executions (id),
	seq          BIGINT NOT NULL,
	step_index   BIGINT NOT NULL,
	name         TEXT NOT NULL,
	action       TEXT NOT NULL,
	target_id    TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL,
	attempt      BIGINT NOT NULL DEFAULT 0,
	started_at   BIGINT NOT NULL DEFAULT 0,
	ended_at     BIGINT NOT NULL DEFAULT 0,
	wake_at      BIGINT NOT NULL DEFAULT 0,
	inputs       TEXT NOT NULL DEFAULT '',
	outputs      TEXT NOT NULL DEFAULT '',
	log          TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (execution_id, seq, target_id)
);

CREATE TABLE execution_approvals (
	tenant_id    TEXT NOT NULL,
	execution_id TEXT NOT NULL REFERENCES executions (id),
	seq          BIGINT NOT NULL,
	step         TEXT NOT NULL DEFAULT '',
	approver     TEXT NOT NULL,
	decision     TEXT NOT NULL,
	comment      TEXT NOT NULL DEFAULT '',
	at           BIGINT NOT NULL,
	PRIMARY KEY (execution_id, seq, approver)
);
