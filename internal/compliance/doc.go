// Package compliance holds Flywheel's detective guardrails: the ConfigRule
// and ConformancePack content kinds, and the engine that evaluates rules
// over the resource inventory (store.Resource: AWS resources from
// internal/provider/aws, hosts from the agent) to COMPLIANT, NON_COMPLIANT
// or NOT_APPLICABLE, with exceptions, per-tenant pack tailoring and
// compliance percentages per pack, control, account and tenant.
//
// A rule's check is CEL over `resource` ({id, type, name, tags, config})
// and `params`; rules are compiled once at content load. A rule shared by
// several packs, or two rules with the same check, type and parameters,
// are evaluated once per resource and reported under every control id
// that maps to them. docs/compliance.md is the user's page.
package compliance
