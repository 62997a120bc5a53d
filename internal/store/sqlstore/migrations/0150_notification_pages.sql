-- OpsItems paged through an on-call channel (PagerDuty, Opsgenie): what
-- the on-call service was last told of each (state: triggered,
-- acknowledged, resolved), so that acknowledging or resolving the OpsItem
-- in Flywheel reaches its incident. dedup_key is the incident's key
-- there: one per OpsItem and channel, however often it flaps.
CREATE TABLE notification_pages (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id),
	opsitem_id  TEXT NOT NULL,
	channel     TEXT NOT NULL,
	channel_type TEXT NOT NULL,
	dedup_key   TEXT NOT NULL,
	state       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, opsitem_id, channel)
);
CREATE INDEX notification_pages_state ON notification_pages (state);
