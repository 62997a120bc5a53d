package web

import "strings"

// humanLabels are the words people read for the enum values the store
// keeps: OpsItem, member and execution statuses and timeline kinds. A
// value not listed reads as itself with "_" and "-" as spaces.
var humanLabels = map[string]string{
	"waiting_approval": "waiting for approval",
	"timed_out":        "timed out",
	"in-progress":      "in progress",
}

// decisionLabels are the pipeline's decisions on an event
// (internal/pipeline) as people read them.
var decisionLabels = map[string]string{
	"opened":       "opened a new OpsItem",
	"attached":     "joined an OpsItem",
	"updated":      "updated its OpsItem",
	"reopened":     "reopened its OpsItem",
	"held":         "held",
	"transient":    "transient: resolved within its hold",
	"suppressed":   "suppressed",
	"flapping":     "flapping",
	"deduplicated": "deduplicated",
	"stale":        "stale: an older version",
}

// human is the label of an enum value for people.
func human(v string) string {
	if l, ok := humanLabels[v]; ok {
		return l
	}
	return strings.NewReplacer("_", " ", "-", " ").Replace(v)
}

// decisionLabel is the label of a pipeline decision for people.
func decisionLabel(d string) string {
	if l, ok := decisionLabels[d]; ok {
		return l
	}
	return human(d)
}
