-- The fleet: host agents, their one-time enrollment tokens, the commands
-- queued for them, and the inventory resources they report. Tags, command
-- specs and resource configurations are JSON text, read whole in Go.

CREATE TABLE agent_enroll_tokens (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	prefix      TEXT NOT NULL,
	secret_hash TEXT NOT NULL UNIQUE,
	tags        TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL DEFAULT '',
	expires_at  BIGINT NOT NULL,
	used_at     BIGINT NOT NULL DEFAULT 0,
	used_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_enroll_tokens_tenant ON agent_enroll_tokens (tenant_id, id);

-- stale_after is last_seen plus the allowed misses of the agent's own
-- interval, so the heartbeat check is one indexed range scan.
CREATE TABLE agents (
	id                  TEXT PRIMARY KEY,
	tenant_id           TEXT NOT NULL REFERENCES tenants (id),
	secret_hash         TEXT NOT NULL,
	hostname            TEXT NOT NULL DEFAULT '',
	version             TEXT NOT NULL DEFAULT '',
	os                  TEXT NOT NULL DEFAULT '',
	arch                TEXT NOT NULL DEFAULT '',
	tags                TEXT NOT NULL DEFAULT '',
	enroll_token_id     TEXT NOT NULL DEFAULT '',
	resource_id         TEXT NOT NULL DEFAULT '',
	enrolled_at         BIGINT NOT NULL,
	last_seen           BIGINT NOT NULL DEFAULT 0,
	started_at          BIGINT NOT NULL DEFAULT 0,
	interval_us         BIGINT NOT NULL DEFAULT 0,
	stale_after         BIGINT NOT NULL DEFAULT 0,
	not_reporting_since BIGINT NOT NULL DEFAULT 0,
	revoked_at          BIGINT NOT NULL DEFAULT 0,
	update_status       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agents_tenant ON agents (tenant_id, id);
CREATE INDEX agents_stale ON agents (not_reporting_since, stale_after);

-- output_kept is the bytes of output stored (at most the cap);
-- output_bytes all the command printed. deadline is when an unfinished
-- command times out on the server's side: queued ones by the queueing
-- allowance, running ones by their timeout plus a grace period.
CREATE TABLE agent_commands (
	id               TEXT PRIMARY KEY,
	tenant_id        TEXT NOT NULL REFERENCES tenants (id),
	agent_id         TEXT NOT NULL,
	spec             TEXT NOT NULL,
	timeout_us       BIGINT NOT NULL,
	status           TEXT NOT NULL,
	exit_code        BIGINT NOT NULL DEFAULT 0,
	has_exit_code    INTEGER NOT NULL DEFAULT 0,
	error            TEXT NOT NULL DEFAULT '',
	output           TEXT NOT NULL DEFAULT '',
	output_kept      BIGINT NOT NULL DEFAULT 0,
	output_bytes     BIGINT NOT NULL DEFAULT 0,
	truncated        INTEGER NOT NULL DEFAULT 0,
	cancel_requested INTEGER NOT NULL DEFAULT 0,
	created_at       BIGINT NOT NULL,
	created_by       TEXT NOT NULL DEFAULT '',
	started_at       BIGINT NOT NULL DEFAULT 0,
	ended_at         BIGINT NOT NULL DEFAULT 0,
	deadline         BIGINT NOT NULL
);
CREATE INDEX agent_commands_tenant ON agent_commands (tenant_id, id);
CREATE INDEX agent_commands_agent ON agent_commands (agent_id, status, id);
CREATE INDEX agent_commands_deadline ON agent_commands (status, deadline);

CREATE TABLE resources (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	type       TEXT NOT NULL,
	name       TEXT NOT NULL,
	tags       TEXT NOT NULL DEFAULT '',
	config     TEXT NOT NULL DEFAULT '',
	agent_id   TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX resources_tenant ON resources (tenant_id, id);
CREATE INDEX resources_tenant_type ON resources (tenant_id, type, id);
CREATE INDEX resources_tenant_name ON resources (tenant_id, name);
