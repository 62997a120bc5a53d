package compliance

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Finding is one rule's verdict on one resource, exceptions applied.
type Finding struct {
	Rule     *Rule
	Params   map[string]any
	Resource store.Resource
	Account  string
	Outcome
	// Exception is the exception that exempts it, if any.
	Exception string
}

// exemption returns the first exception in exc covering rule on r.
func exemption(exc []store.ComplianceException, rule string, r store.Resource, now time.Time) (store.ComplianceException, bool) {
	for _, e := range exc {
		if e.Covers(rule, r, now) {
			return e, true
		}
	}
	return store.ComplianceException{}, false
}

func exempted(f *Finding, exc []store.ComplianceException, now time.Time) {
	if e, ok := exemption(exc, f.Rule.Name, f.Resource, now); ok && f.Status != NotApplicable {
		f.Status, f.Annotation, f.Exception = Exempt, "exception "+e.ID+" ("+e.Owner+"): "+e.Reason, e.ID
	}
}

// Findings returns one Finding per rule and resource evaluated, across
// every pack (a rule in two packs once), by rule then resource id.
func (r *Results) Findings(exc []store.ComplianceException, now time.Time) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for pi, pk := range r.plan.Packs {
		for ri, pr := range pk.Rules {
			if seen[pr.Rule.Name] {
				continue
			}
			seen[pr.Rule.Name] = true
			r.each(pi, ri, func(s *Subject, o Outcome) {
				f := Finding{Rule: pr.Rule, Params: pr.Params, Resource: s.Resource, Account: s.Account, Outcome: o}
				exempted(&f, exc, now)
				out = append(out, f)
			})
		}
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if c := strings.Compare(a.Rule.Name, b.Rule.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Resource.ID, b.Resource.ID)
	})
	return out
}

// Report is the compliance of one tenant's packs.
type Report struct {
	Tenant string `json:"tenant,omitempty"`
	// Score is over every rule and resource of every pack, each pair once.
	Score    Score          `json:"score"`
	Accounts []AccountScore `json:"accounts"`
	Packs    []PackReport   `json:"packs"`
}

// Score counts COMPLIANT and NON_COMPLIANT rule-resource pairs; as AWS
// Config's conformance pack compliance score, NOT_APPLICABLE, ERROR and
// EXEMPT pairs count in neither. With no pair counted it is 100 %.
type Score struct {
	Compliant    int     `json:"compliant"`
	NonCompliant int     `json:"non_compliant"`
	Percent      float64 `json:"compliance_percent"`
}

func (s *Score) add(st Status) {
	switch st {
	case Compliant:
		s.Compliant++
	case NonCompliant:
		s.NonCompliant++
	}
}

func (s *Score) finish() {
	s.Percent = 100
	if n := s.Compliant + s.NonCompliant; n > 0 {
		s.Percent = math.Round(float64(s.Compliant)*10000/float64(n)) / 100
	}
}

// AccountScore is one account's score.
type AccountScore struct {
	Account string `json:"account"`
	Score
}

// PackReport is one pack's compliance, control by control.
type PackReport struct {
	Name              string          `json:"name"`
	Framework         string          `json:"framework,omitempty"`
	CompliancePercent float64         `json:"compliance_percent"`
	Score             Score           `json:"score"`
	Controls          []ControlReport `json:"controls"`
}

// ControlReport is one control of a pack: the rules mapped to it and
// their verdicts on each resource.
type ControlReport struct {
	ID string `json:"id"`
	// Status is NON_COMPLIANT when a resource is, else ERROR when a check
	// failed, else COMPLIANT when a resource is, else NOT_APPLICABLE.
	Status            Status           `json:"status"`
	CompliancePercent float64          `json:"compliance_percent"`
	Rules             []string         `json:"rules"`
	Resources         []ResourceResult `json:"resources"`
}

// ResourceResult is one rule's verdict on one resource within a control.
type ResourceResult struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Account    string `json:"account"`
	Rule       string `json:"rule"`
	Status     Status `json:"status"`
	Annotation string `json:"annotation,omitempty"`
}

// Report builds the tenant's report from the results, exceptions applied
// at now.
func (r *Results) Report(tenant string, exc []store.ComplianceException, now time.Time) *Report {
	rep := &Report{Tenant: tenant}
	// A rule and resource pair counts once for the tenant and its account,
	// NON_COMPLIANT when it is in any pack (a pack may set stricter
	// parameters).
	type pair struct{ rule, resource, account string }
	worst := map[pair]Status{}
	for pi, pk := range r.plan.Packs {
		pr := PackReport{Name: pk.Name, Framework: pk.Framework}
		controls := map[string]*ControlReport{}
		var order []string
		var score Score
		for ri, rule := range pk.Rules {
			var rows []ResourceResult
			r.each(pi, ri, func(s *Subject, o Outcome) {
				f := Finding{Rule: rule.Rule, Resource: s.Resource, Account: s.Account, Outcome: o}
				exempted(&f, exc, now)
				score.add(f.Status)
				if p := (pair{rule.Rule.Name, s.Resource.ID, s.Account}); worst[p] != NonCompliant {
					worst[p] = f.Status
				}
				rows = append(rows, ResourceResult{ID: s.Resource.ID, Type: s.Resource.Type, Account: s.Account,
					Rule: rule.Rule.Name, Status: f.Status, Annotation: f.Annotation})
			})
			for _, id := range rule.Controls {
				c := controls[id]
				if c == nil {
					c = &ControlReport{ID: id}
					controls[id] = c
					order = append(order, id)
				}
				c.Rules = append(c.Rules, rule.Rule.Name)
				c.Resources = append(c.Resources, rows...)
			}
		}
		score.finish()
		pr.Score, pr.CompliancePercent = score, score.Percent
		slices.SortFunc(order, compareControlIDs)
		for _, id := range order {
			c := controls[id]
			var cs Score
			for _, res := range c.Resources {
				cs.add(res.Status)
			}
			cs.finish()
			c.CompliancePercent = cs.Percent
			c.Status = controlStatus(c.Resources)
			slices.SortStableFunc(c.Resources, func(a, b ResourceResult) int { return strings.Compare(a.ID, b.ID) })
			pr.Controls = append(pr.Controls, *c)
		}
		rep.Packs = append(rep.Packs, pr)
	}
	accounts := map[string]*Score{}
	for p, st := range worst {
		rep.Score.add(st)
		if accounts[p.account] == nil {
			accounts[p.account] = &Score{}
		}
		accounts[p.account].add(st)
	}
	rep.Score.finish()
	for a, s := range accounts {
		s.finish()
		rep.Accounts = append(rep.Accounts, AccountScore{Account: a, Score: *s})
	}
	slices.SortFunc(rep.Accounts, func(a, b AccountScore) int { return strings.Compare(a.Account, b.Account) })
	return rep
}

func controlStatus(rs []ResourceResult) Status {
	has := map[Status]bool{}
	for _, r := range rs {
		has[r.Status] = true
	}
	for _, s := range []Status{NonCompliant, Errored, Compliant} {
		if has[s] {
			return s
		}
	}
	return NotApplicable
}

// compareControlIDs orders control ids naturally: CIS-AWS-3.0:1.10 after
// CIS-AWS-3.0:1.9.
func compareControlIDs(a, b string) int {
	as, bs := splitDigits(a), splitDigits(b)
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := as[i], bs[i]
		if x == y {
			continue
		}
		if isDigits(x) && isDigits(y) {
			if len(x) != len(y) {
				return len(x) - len(y)
			}
		}
		return strings.Compare(x, y)
	}
	return len(as) - len(bs)
}

func splitDigits(s string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || isDigit(s[i]) != isDigit(s[start]) {
			out = append(out, strings.TrimLeft(s[start:i], "0"))
			start = i
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool { return s != "" && isDigit(s[0]) }
