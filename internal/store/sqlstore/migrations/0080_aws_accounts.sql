-- AWS accounts of each tenant, with how Flywheel gets credentials for them
-- (a profile, or a role to assume with an external ID) and the outcome of
-- their last inventory; and which resources each account's inventory
-- wrote, with a hash of what it wrote, so the next inventory writes only
-- what changed and deletes what is gone.
CREATE TABLE aws_accounts (
	tenant_id        TEXT NOT NULL REFERENCES tenants (id),
	id               TEXT NOT NULL,
	name             TEXT NOT NULL DEFAULT '',
	regions          TEXT NOT NULL,
	profile          TEXT NOT NULL DEFAULT '',
	role_arn         TEXT NOT NULL DEFAULT '',
	external_id      TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	inventory_at     BIGINT NOT NULL DEFAULT 0,
	inventory_error  TEXT NOT NULL DEFAULT '',
	inventory_count  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, id)
);

CREATE TABLE aws_account_resources (
	tenant_id   TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	type        TEXT NOT NULL,
	hash        TEXT NOT NULL,
	PRIMARY KEY (tenant_id, account_id, resource_id)
);
