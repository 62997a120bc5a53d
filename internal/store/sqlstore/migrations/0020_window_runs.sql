-- Maintenance windows that run tasks: the window's cron/rate options and
-- tasks (JSON text, read whole in Go), its runs (one per opening, or asked
-- for), and each run's per-task, per-target rows. Runs are not tied to the
-- window row by a foreign key: content windows are replaced at start, and a
-- deleted window's history stays.
ALTER TABLE maintenance_windows ADD COLUMN details TEXT NOT NULL DEFAULT '';

CREATE TABLE window_runs (
	id           TEXT PRIMARY KEY,
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	window_id    TEXT NOT NULL,
	window_name  TEXT NOT NULL,
	run_trigger  TEXT NOT NULL,
	started_by   TEXT NOT NULL DEFAULT '',
	scheduled_at BIGINT NOT NULL,
	cutoff_at    BIGINT NOT NULL,
	ends_at      BIGINT NOT NULL,
	status       TEXT NOT NULL,
	error        TEXT NOT NULL DEFAULT '',
	opsitem_id   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	ended_at     BIGINT NOT NULL DEFAULT 0,
	lock_count   BIGINT NOT NULL DEFAULT 0
);
-- One run per opening, whichever replica gets there first.
CREATE UNIQUE INDEX window_runs_opening ON window_runs (tenant_id, window_id, run_trigger, scheduled_at);
CREATE INDEX window_runs_window ON window_runs (tenant_id, window_id, id);
CREATE INDEX window_runs_active ON window_runs (status, id);

CREATE TABLE window_run_targets (
	tenant_id    TEXT NOT NULL,
	run_id       TEXT NOT NULL REFERENCES window_runs (id) ON DELETE CASCADE,
	task_index   INTEGER NOT NULL,
	position     INTEGER NOT NULL,
	task         TEXT NOT NULL,
	priority     INTEGER NOT NULL,
	target_id    TEXT NOT NULL,
	status       TEXT NOT NULL,
	execution_id TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	started_at   BIGINT NOT NULL DEFAULT 0,
	ended_at     BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, task_index, position)
);
