// Package rule is Flywheel's automation rules (content kind Rule): "when
// <CEL over the event and its OpsItem> then <run a runbook, set category or
// severity, notify, suppress>". A root cause, once known, becomes a rule,
// and the next occurrence is fixed without paging anyone.
//
// The package has a pure part and a stateful part:
//
//   - Compile turns Rule content into Rules; Rules.Evaluate returns the
//     rules that match an event and its OpsItem, highest priority first,
//     up to the first that stops evaluation. No I/O, no clock: tests,
//     `flywheel content test` and Consolidation use it directly. Each
//     condition's guard (what its top-level conjuncts require of the
//     event's source, kind and labels) is checked in Go first, so the
//     rules an event is not about cost no CEL (prefilter.go).
//   - Engine carries matches out inside the pipeline's transaction
//     (Engine.OnEvent, called by internal/pipeline after an event reached
//     an OpsItem): it changes the OpsItem, starts runbooks through a
//     runbook.Starter (internal/execution) in the same transaction, records
//     suggestions on the timeline and hands back notifications. It keeps
//     each rule's rate limit, circuit breaker and loop guard in the store
//     (store.RuleReader/RuleWriter), so they hold across restarts and
//     replicas, and audits every decision as "rule:<name>". The executor
//     reports how each execution a rule started ended (Engine.RecordResult),
//     which drives the breaker. When the pipeline resolves an OpsItem,
//     Engine.ResolvedBy says whether automation fixed it
//     ("automation:rule:<name>").
//
// Consolidation is the security flywheel's figure: how many finding types
// the rules route onto how few remediation runbooks. The built-in rules in
// content/rules route every GuardDuty finding type by its parts (threat
// purpose, resource type, threat family), never by listing types.
//
// docs/rules.md is the user's page.
package rule
