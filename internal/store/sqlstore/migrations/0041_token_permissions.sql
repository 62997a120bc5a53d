-- Permissions a token holds beyond its role (least privilege): a
-- comma-separated list, e.g. "host-commands". Admins hold host-commands by
-- their role; other roles only when a token is granted it.
ALTER TABLE tokens ADD COLUMN permissions TEXT NOT NULL DEFAULT '';
