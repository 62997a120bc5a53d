// Package correlate decides which events belong together: it holds the
// correlation rules (content kind CorrelationRule), compiled once, and for
// each event picks the rule that applies and the group the event joins.
//
// A rule has a CEL filter over the event, a list of CEL group_by
// expressions whose values make the group key, and the timing the pipeline
// applies to the group: window (how recent the group's last event must be
// to join it), max_span (how long one group may last), hold (transient
// auto-pause before a new group opens), flapping, and how the OpsItem
// resolves. Rules are tried highest priority first, then by name; the first
// whose filter holds wins, and the library's catch-all (priority 0, grouping
// by fingerprint) guarantees every event a rule. docs/correlation.md is the
// user's page.
//
// The package is pure: no I/O, no clock, no state between calls. The
// pipeline (internal/pipeline) calls Rules.Match once per event and keeps
// the groups in its store, keyed by rule name and GroupKey.
//
// Match is on the hot path, so an event is turned into CEL input once per
// call, lazily field by field (see internal/celevent), and shared by every rule it
// is tried against; each evaluation is bounded by MaxCost. An expression
// that fails on an event (a label that is not there) counts as a false
// filter or an empty group value, and is reported in Match.EvalErrors
// rather than as an error: correlation must place every event.
package correlate
