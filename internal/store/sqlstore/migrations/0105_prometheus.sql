-- Each tenant's Prometheus connection: the series source of capacity
-- forecasts and the idle/oversized waste checks besides the agents'
-- inventory. The bearer token is not stored: token_env names the
-- FLYWHEEL_* environment variable of the server that holds it.
CREATE TABLE prometheus_connections (
	tenant_id   TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
	url         TEXT NOT NULL,
	token_env   TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
