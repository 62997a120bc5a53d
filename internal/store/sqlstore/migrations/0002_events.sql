-- Intake and the event pipeline: accepted deliveries, stored events, alert
-- (deduplication) state, OpsItem members, resources, timeline, noise counters.

CREATE TABLE intake_batches (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL,
	source      TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	header      TEXT NOT NULL DEFAULT '',
	body        TEXT NOT NULL,
	processed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX intake_unprocessed ON intake_batches (processed, id);

CREATE TABLE events (
	id           TEXT PRIMARY KEY,
	tenant_id    TEXT NOT NULL,
	source       TEXT NOT NULL,
	source_id    TEXT NOT NULL DEFAULT '',
	fingerprint  TEXT NOT NULL,
	kind         TEXT NOT NULL,
	severity     TEXT NOT NULL,
	status       TEXT NOT NULL,
	title        TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	resources    TEXT NOT NULL DEFAULT '',
	resource_key TEXT NOT NULL DEFAULT '',
	labels       TEXT NOT NULL DEFAULT '',
	occurred_at  BIGINT NOT NULL,
	received_at  BIGINT NOT NULL,
	raw          TEXT NOT NULL DEFAULT '',
	opsitem_id   TEXT NOT NULL DEFAULT '',
	decision     TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_fingerprint ON events (tenant_id, fingerprint, id);
CREATE INDEX events_resource ON events (tenant_id, resource_key, id);
CREATE INDEX events_opsitem ON events (tenant_id, opsitem_id, id);
CREATE INDEX events_time ON events (tenant_id, occurred_at);

CREATE TABLE alerts (
	tenant_id         TEXT NOT NULL,
	fingerprint       TEXT NOT NULL,
	source            TEXT NOT NULL,
	title             TEXT NOT NULL,
	severity          TEXT NOT NULL,
	status            TEXT NOT NULL,
	labels            TEXT NOT NULL DEFAULT '',
	first_seen        BIGINT NOT NULL,
	last_seen         BIGINT NOT NULL,
	last_change       BIGINT NOT NULL,
	occurrences       BIGINT NOT NULL,
	opsitem_id        TEXT NOT NULL DEFAULT '',
	changes           TEXT NOT NULL DEFAULT '',
	flapping          INTEGER NOT NULL DEFAULT 0,
	held_until        BIGINT NOT NULL DEFAULT 0,
	rule              TEXT NOT NULL DEFAULT '',
	group_key         TEXT NOT NULL DEFAULT '',
	suppressed        TEXT NOT NULL DEFAULT '',
	source_updated_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, fingerprint)
);
CREATE INDEX alerts_held ON alerts (held_until);
CREATE INDEX alerts_flapping ON alerts (flapping);

ALTER TABLE opsitems ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE opsitems ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
ALTER TABLE opsitems ADD COLUMN first_event_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN last_event_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
ALTER TABLE opsitems ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
ALTER TABLE opsitems ADD COLUMN opsdata TEXT NOT NULL DEFAULT '';
CREATE INDEX opsitems_group ON opsitems (tenant_id, rule, group_key, last_event_at);

CREATE TABLE opsitem_members (
	tenant_id   TEXT NOT NULL,
	opsitem_id  TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	title       TEXT NOT NULL,
	source      TEXT NOT NULL,
	severity    TEXT NOT NULL,
	status      TEXT NOT NULL,
	occurrences BIGINT NOT NULL,
	first_seen  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, opsitem_id, fingerprint)
);

CREATE TABLE opsitem_resources (
	tenant_id  TEXT NOT NULL,
	opsitem_id TEXT NOT NULL,
	type       TEXT NOT NULL,
	ref_id     TEXT NOT NULL,
	PRIMARY KEY (tenant_id, opsitem_id, type, ref_id)
);

CREATE TABLE opsitem_timeline (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	opsitem_id TEXT NOT NULL,
	at         BIGINT NOT NULL,
	kind       TEXT NOT NULL,
	message    TEXT NOT NULL,
	actor      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX opsitem_timeline_item ON opsitem_timeline (tenant_id, opsitem_id, at);

CREATE TABLE noise_minutes (
	tenant_id    TEXT NOT NULL,
	minute       BIGINT NOT NULL,
	received     BIGINT NOT NULL DEFAULT 0,
	deduplicated BIGINT NOT NULL DEFAULT 0,
	opened       BIGINT NOT NULL DEFAULT 0,
	silence      BIGINT NOT NULL DEFAULT 0,
	maintenance  BIGINT NOT NULL DEFAULT 0,
	transient    BIGINT NOT NULL DEFAULT 0,
	flapping     BIGINT NOT NULL DEFAULT 0,
	inhibited    BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, minute)
);

-- Inhibition: keys asserted by firing source alerts (rule + equal-label hash).
CREATE TABLE inhibit_keys (
	tenant_id   TEXT NOT NULL,
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	PRIMARY KEY (tenant_id, key, fingerprint)
);
