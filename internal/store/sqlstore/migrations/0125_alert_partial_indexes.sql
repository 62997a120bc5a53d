-- The held and flapping alerts are a handful among all alerts, and only
-- they are ever looked up by these indexes (DueHeldAlerts: held_until > 0;
-- FlappingAlerts: flapping = 1): partial indexes hold only those, so a new
-- alert (never held, not flapping, as most are) is written to the table
-- and its primary key only, not to two more indexes. The queries repeat
-- the indexes' conditions word for word, which SQLite needs to use them.
DROP INDEX alerts_held;
CREATE INDEX alerts_held ON alerts (held_until) WHERE held_until > 0;
DROP INDEX alerts_flapping;
CREATE INDEX alerts_flapping ON alerts (last_change) WHERE flapping = 1;
