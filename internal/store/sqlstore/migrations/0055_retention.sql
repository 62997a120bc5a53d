-- Retention (package retention) deletes expired rows per tenant in small
-- batches, oldest first; each batch finds its rows through one of these
-- indexes instead of scanning the table. The partial indexes hold only the
-- rows a prune can still remove: events whose raw payload is kept,
-- processed intake deliveries, finished executions, commands and runs.
CREATE INDEX events_received ON events (tenant_id, received_at);
CREATE INDEX events_raw_kept ON events (tenant_id, received_at) WHERE raw <> '';
CREATE INDEX intake_batches_done ON intake_batches (tenant_id, received_at) WHERE processed = 1;
CREATE INDEX opsitem_timeline_at ON opsitem_timeline (tenant_id, at);
CREATE INDEX executions_ended ON executions (tenant_id, ended_at) WHERE ended_at > 0;
CREATE INDEX agent_commands_ended ON agent_commands (tenant_id, ended_at) WHERE ended_at > 0;
CREATE INDEX window_runs_ended ON window_runs (tenant_id, ended_at) WHERE ended_at > 0;
CREATE INDEX ui_sessions_tenant_seen ON ui_sessions (tenant_id, last_seen_at);
