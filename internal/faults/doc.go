// Package faults holds the process-level fault tests of Flywheel: the real
// `flywheel serve` binary (several replicas on one PostgreSQL database, or
// one server on SQLite), real agents, kill -9 of a replica, of the leader,
// of a server in the middle of a runbook step, and a restart of PostgreSQL
// itself. They assert what docs/scale-out.md promises: no acknowledged
// event lost, none stored twice, one OpsItem per group, no step that is not
// idempotent run twice, periodic work continuing within River's leader
// lease, agents reconnecting.
//
// Everything runs on loopback. The suite starts a PostgreSQL instance of
// its own (initdb into a temporary directory, pg_ctl on a free port),
// never the machine's shared server, since it stops and restarts it. The
// package has no non-test code beyond this comment.
package faults
