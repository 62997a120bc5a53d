-- Server-side UI sessions: the SHA-256 of the random id in the browser's
-- cookie, the token the session was opened with (id and secret hash, to
-- look it up again on every request) and the times the idle and absolute
-- expiries count from.
CREATE TABLE ui_sessions (
	id_hash      TEXT PRIMARY KEY,
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	token_id     TEXT NOT NULL,
	token_hash   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_token ON ui_sessions (token_id);
CREATE INDEX ui_sessions_created ON ui_sessions (created_at);
CREATE INDEX ui_sessions_seen ON ui_sessions (last_seen_at);
