// Package doctor is a server's setup check: what still needs setting up
// before its content can do everything it is written to do — a library
// rule notifying a channel nobody configured, AWS credentials that do not
// work. Checks are gathered once where they are cheap (at start) or run
// on demand where they call out (AWS); `flywheel doctor`, the API
// (GET /api/v1/doctor) and the UI's overview show the same report, so a
// setup task is shown where someone looks for it instead of being warned
// about at every start.
package doctor

import (
	"context"
	"sort"
	"strconv"
)

// Status is a check's outcome.
type Status string

// The statuses, from good to bad.
const (
	OK   Status = "ok"
	Todo Status = "todo" // a setup task: works, but something is not set up
	Fail Status = "fail" // configured but not working
)

// Check is one line of the report.
type Check struct {
	// Name says what was checked: "notifications", "aws".
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Summary is one plain sentence.
	Summary string `json:"summary"`
	// Details are the particulars (one rule, one account each).
	Details []string `json:"details,omitempty"`
	// Fix says what to do about it, when there is something to do.
	Fix string `json:"fix,omitempty"`
	// Brief is one sentence safe to show any tenant's users: it names no
	// other tenant's data (Summary and Details may, for platform admins).
	Brief string `json:"brief,omitempty"`
	// Account is, for the aws check, the AWS account the server's
	// credentials belong to ("" when they do not work).
	Account string `json:"account,omitempty"`
}

// Report is every check's outcome.
type Report struct {
	Checks []Check `json:"checks"`
}

// Tasks are the checks that are not OK.
func (r Report) Tasks() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status != OK {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the check named name.
func (r Report) Find(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Failed reports whether some check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Checker runs one check.
type Checker func(ctx context.Context) Check

// Doctor runs a fixed list of checks.
type Doctor struct {
	checks []Checker
}

// New returns a Doctor running checks in order.
func New(checks ...Checker) *Doctor { return &Doctor{checks: checks} }

// Run runs every check.
func (d *Doctor) Run(ctx context.Context) Report {
	var r Report
	for _, c := range d.checks {
		r.Checks = append(r.Checks, c(ctx))
	}
	return r
}

// Notifications is the check of rules notifying channels the server does
// not have: problems are notification.CheckRules' warnings, one a rule.
func Notifications(problems []string) Checker {
	problems = append([]string(nil), problems...)
	sort.Strings(problems)
	return func(context.Context) Check {
		if len(problems) == 0 {
			return Check{Name: "notifications", Status: OK, Summary: "Every rule's notification channel is configured."}
		}
		return Check{
			Name: "notifications", Status: Todo,
			Summary: plural(len(problems), "library rule notifies", "library rules notify") +
				" a channel this server does not have; those notifications are recorded as failed.",
			Details: problems,
			Fix:     "Configure the channel under notifications: in the server's configuration file (see docs/notifications.md).",
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
