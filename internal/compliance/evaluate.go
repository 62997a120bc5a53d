package compliance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/flywheel-ops/flywheel/internal/celexpr"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Status is a rule's verdict on one resource.
type Status string

// Statuses. COMPLIANT, NON_COMPLIANT and NOT_APPLICABLE are AWS Config's;
// ERROR is an expression that failed on the resource (AWS Config's
// INSUFFICIENT_DATA is the nearest), EXEMPT a result an exception covers.
const (
	Compliant     Status = "COMPLIANT"
	NonCompliant  Status = "NON_COMPLIANT"
	NotApplicable Status = "NOT_APPLICABLE"
	Errored       Status = "ERROR"
	Exempt        Status = "EXEMPT"
)

// Outcome is one evaluation's result.
type Outcome struct {
	Status     Status `json:"status"`
	Annotation string `json:"annotation,omitempty"`
}

// Subject is an inventory resource prepared for evaluation: its CEL value
// built once and shared by every rule.
type Subject struct {
	Resource store.Resource
	// Account is where the resource lives (see AccountOf).
	Account string
	val     ref.Val
}

// Prepare decodes a resource's configuration for evaluation. JSON numbers
// without a fraction become ints, so `config.Port == 22` reads as written.
func Prepare(r store.Resource) (Subject, error) {
	var cfg any = map[string]any{}
	if len(bytes.TrimSpace(r.Config)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.Config))
		dec.UseNumber()
		if err := dec.Decode(&cfg); err != nil {
			return Subject{}, fmt.Errorf("resource %s: config: %w", r.ID, err)
		}
		cfg = numbers(cfg)
	}
	tags := map[string]any{}
	for k, t := range r.Tags {
		tags[k] = t
	}
	v := toVal(map[string]any{"id": r.ID, "type": r.Type, "name": r.Name, "tags": tags, "config": cfg})
	return Subject{Resource: r, Account: AccountOf(r), val: v}, nil
}

// numbers turns json.Numbers into int64 or float64, in place.
func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = numbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = numbers(x)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// AccountOf is where a resource lives: the account of an ARN id
// (arn:PARTITION:SERVICE:REGION:ACCOUNT:…), the config's AccountId or
// OwnerId, the "account" tag, or "hosts" for an agent's host.
func AccountOf(r store.Resource) string {
	if strings.HasPrefix(r.ID, "arn:") {
		if f := strings.SplitN(r.ID, ":", 6); len(f) == 6 && f[4] != "" {
			return f[4]
		}
	}
	if a := r.Tags["account"]; a != "" {
		return a
	}
	if len(r.Config) > 0 {
		var c struct {
			AccountID string `json:"AccountId"`
			OwnerID   string `json:"OwnerId"`
		}
		if json.Unmarshal(r.Config, &c) == nil {
			if c.AccountID != "" {
				return c.AccountID
			}
			if c.OwnerID != "" {
				return c.OwnerID
			}
		}
	}
	if r.AgentID != "" {
		return "hosts"
	}
	return "unknown"
}

// activation is the CEL input of one evaluation.
type activation struct{ resource, params ref.Val }

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "resource":
		return a.resource, true
	case "params":
		return a.params, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// check is one unique evaluation: a rule's expressions with one set of
// parameters. Equivalent rules (same type, expressions and parameters)
// share a check.
type check struct {
	rule   *Rule // the first rule with this key; its expressions decide
	params ref.Val
}

// checkKey identifies equivalent rules.
func checkKey(r *Rule, params map[string]any) string {
	p, _ := json.Marshal(params) // sorted keys; values from YAML marshal
	src := func(p *program) string {
		if p == nil {
			return ""
		}
		return p.src
	}
	return strings.Join([]string{r.ResourceType, src(r.applies), src(r.check), src(r.annotation), string(p)}, "\x00")
}

// eval runs the check with act, whose params must be the check's.
func (c *check) eval(act *activation) Outcome {
	r := c.rule
	if r.applies != nil {
		ok, err := boolResult(r.applies, act)
		if err != nil {
			return Outcome{Status: Errored, Annotation: "applies: " + err.Error()}
		}
		if !ok {
			return Outcome{Status: NotApplicable}
		}
	}
	ok, err := boolResult(r.check, act)
	switch {
	case err != nil:
		return Outcome{Status: Errored, Annotation: "check: " + err.Error()}
	case ok:
		return Outcome{Status: Compliant}
	}
	ann := r.Description
	if r.annotation != nil {
		out, _, err := r.annotation.prg.Eval(act)
		if err == nil {
			ann, err = celexpr.ToString(out)
		}
		if err != nil {
			ann = "annotation: " + err.Error()
		}
	}
	return Outcome{Status: NonCompliant, Annotation: ann}
}

// Plan is the unique checks behind a set of packs.
type Plan struct {
	Packs  []*Pack
	checks []*check
	// index[pack][rule] is the check of that pack rule.
	index  [][]int
	byType map[string][]int
}

// NewPlan merges the packs' rules into unique checks.
func NewPlan(packs []*Pack) *Plan {
	p := &Plan{Packs: packs, byType: map[string][]int{}}
	keys := map[string]int{}
	for _, pk := range packs {
		idx := make([]int, len(pk.Rules))
		for i, pr := range pk.Rules {
			k := checkKey(pr.Rule, pr.Params)
			ci, ok := keys[k]
			if !ok {
				ci = len(p.checks)
				keys[k] = ci
				p.checks = append(p.checks, &check{rule: pr.Rule, params: types.DefaultTypeAdapter.NativeToValue(pr.Params)})
				p.byType[pr.Rule.ResourceType] = append(p.byType[pr.Rule.ResourceType], ci)
			}
			idx[i] = ci
		}
		p.index = append(p.index, idx)
	}
	return p
}

// Checks is the number of unique checks: rules shared by packs, and
// equivalent rules, count once.
func (p *Plan) Checks() int { return len(p.checks) }

// Results are a plan's outcomes over a set of subjects.
type Results struct {
	plan     *Plan
	subjects []Subject
	// byType[type] are the subjects of that type (indexes into subjects);
	// outcomes[check][i] is that check on byType[its type][i].
	byType   map[string][]int
	outcomes [][]Outcome
}

// Evaluate runs every check on every subject of its resource type, on up
// to GOMAXPROCS goroutines.
func (p *Plan) Evaluate(subjects []Subject) *Results {
	res := &Results{plan: p, subjects: subjects, byType: map[string][]int{}, outcomes: make([][]Outcome, len(p.checks))}
	for i, s := range subjects {
		if _, ok := p.byType[s.Resource.Type]; ok {
			res.byType[s.Resource.Type] = append(res.byType[s.Resource.Type], i)
		}
	}
	// Jobs are chunks of one type's subjects; each runs every check of the
	// type on one subject before the next, so the subject's configuration
	// stays in the CPU cache across the checks.
	type job struct {
		typ      string
		from, to int
	}
	var jobs []job
	const chunk = 256
	for typ, cis := range p.byType {
		n := len(res.byType[typ])
		for _, ci := range cis {
			res.outcomes[ci] = make([]Outcome, n)
		}
		for from := 0; from < n; from += chunk {
			jobs = append(jobs, job{typ, from, min(from+chunk, n)})
		}
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				cis, subj := p.byType[j.typ], res.byType[j.typ]
				acts := make([]activation, len(cis))
				for k, ci := range cis {
					acts[k].params = p.checks[ci].params
				}
				for i := j.from; i < j.to; i++ {
					v := subjects[subj[i]].val
					for k, ci := range cis {
						acts[k].resource = v
						res.outcomes[ci][i] = p.checks[ci].eval(&acts[k])
					}
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	return res
}

// each calls f for every subject a pack rule was evaluated on.
func (r *Results) each(pack, rule int, f func(s *Subject, o Outcome)) {
	ci := r.plan.index[pack][rule]
	subj := r.byType[r.plan.checks[ci].rule.ResourceType]
	for i, o := range r.outcomes[ci] {
		f(&r.subjects[subj[i]], o)
	}
}

// Subjects returns the subjects evaluated, in input order.
func (r *Results) Subjects() []Subject { return slices.Clone(r.subjects) }
