package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Runbooks is what the runbook, execution and approval pages need: the
// service's (the execution package's Executor is one).
type Runbooks = service.Runbooks

var _ Runbooks = (*execution.Executor)(nil)

func (h *Handler) runbookRoutes() {
	h.page("GET /runbooks", "runbooks", h.runbooks)
	h.action("POST /rules/{name}/breaker/reset", store.RoleOperator, h.resetBreaker)
	h.page("GET /runbooks/{name}", "runbook", h.runbook)
	h.action("POST /runbooks/{name}/run", store.RoleOperator, h.runRunbook)
	h.livePage("GET /executions", "executions", h.executions, "list")
	h.livePage("GET /executions/{id}", "execution", h.execution, "exec")
	h.action("POST /executions/{id}/approve", store.RoleOperator, h.decide(service.Approve))
	h.action("POST /executions/{id}/deny", store.RoleOperator, h.decide(service.Deny))
	h.action("POST /executions/{id}/cancel", store.RoleOperator, h.decide(service.Cancel))
	h.livePage("GET /approvals", "approvals", h.approvals, "inbox")
}

var errNoRunbooks = errNotFound("Runbooks are not available on this server.")

func (h *Handler) runbooks(rq *request) (any, error) {
	rq.view.Title = "Runbooks"
	if h.rb == nil {
		return nil, errNoRunbooks
	}
	d := &runbooksData{CanReset: rq.canAct() && h.brk != nil}
	for _, rb := range h.rb.Runbooks().List(rq.tenantID()) {
		d.Runbooks = append(d.Runbooks, rb.Summary())
	}
	sort.Slice(d.Runbooks, func(i, j int) bool { return d.Runbooks[i].Name < d.Runbooks[j].Name })
	var err error
	if d.Breakers, err = h.breakers(rq); err != nil {
		return nil, err
	}
	return d, nil
}

// runbooksData is the runbooks page: the runbooks, and the rules' circuit
// breakers that are open or counting failures.
type runbooksData struct {
	Runbooks []runbook.Summary
	Breakers []breakerRow
	CanReset bool
}

// runbookData is the runbook page: the runbook, its steps and the run form.
type runbookData struct {
	Summary runbook.Summary
	Steps   []*runbook.Step
	Fields  []paramField
	// OpsItem is the OpsItem the run is for ("" for none), with its title.
	OpsItem, OpsItemTitle string
	CanAct                bool
	// Problem is the reason a run was refused; Targets what the form said.
	Problem, Targets string
}

// formTargets reads the run form's targets: resource IDs separated by
// commas, spaces or lines; none means the runbook's own targeting. Their
// bounds are the service's.
func formTargets(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (h *Handler) runbookFor(rq *request) (*runbook.Runbook, error) {
	if h.rb == nil {
		return nil, errNoRunbooks
	}
	name := rq.PathValue("name")
	rb, ok := h.rb.Runbooks().Get(rq.tenantID(), name)
	if !ok {
		return nil, errNotFound("There is no runbook %q.", name)
	}
	return rb, nil
}

func (h *Handler) runbook(rq *request) (any, error) {
	rb, err := h.runbookFor(rq)
	if err != nil {
		return nil, err
	}
	rq.view.Title = "Runbook " + rb.Name
	return h.runbookData(rq, rb, rq.URL.Query().Get("opsitem"), nil, nil)
}

func (h *Handler) runbookData(rq *request, rb *runbook.Runbook, opsItem string, given map[string]string, problems map[string]string) (*runbookData, error) {
	d := &runbookData{Summary: rb.Summary(), Steps: rb.Steps, Fields: paramFields(rb.Params, given, problems), CanAct: rq.canAct()}
	if opsItem != "" {
		o, err := h.st.GetOpsItem(rq.ctx, rq.tenantID(), opsItem)
		if errors.Is(err, store.ErrNotFound) || len(opsItem) > 128 {
			return nil, errNotFound("There is no OpsItem %q.", opsItem)
		}
		if err != nil {
			return nil, fmt.Errorf("get opsitem: %w", err)
		}
		d.OpsItem, d.OpsItemTitle = o.ID, o.Title
	}
	return d, nil
}

// runRunbook starts (or dry-runs) a runbook from the form, for an OpsItem
// when the form names one, and shows the execution. Parameter problems show
// the form again with each next to its field.
func (h *Handler) runRunbook(rq *request) (string, error) {
	rb, err := h.runbookFor(rq)
	if err != nil {
		return "", err
	}
	given := map[string]string{}
	params := map[string]any{}
	for _, p := range rb.Params {
		v := rq.PostFormValue("p." + p.Name)
		given[p.Name] = v
		if strings.TrimSpace(v) != "" {
			params[p.Name] = v
		}
	}
	opsItem := rq.PostFormValue("opsitem")
	id, err := h.svc().StartRun(rq.ctx, rq.caller(), service.RunRequest{Runbook: rb.Name, Parameters: params, OpsItem: opsItem,
		Targets: formTargets(rq.PostFormValue("targets")), DryRun: rq.PostFormValue("mode") == "dry-run", Approval: rq.PostFormValue("approval") == "on"})
	if e, ok := service.As(err); ok && e.Kind == service.Invalid {
		d, derr := h.runbookData(rq, rb, opsItem, given, paramProblems(rb.Params, err))
		if derr != nil {
			return "", derr
		}
		d.Problem, d.Targets = e.Msg, rq.PostFormValue("targets")
		return "", &formProblem{Status: http.StatusUnprocessableEntity, Tmpl: "runbook", Title: "Runbook " + rb.Name, Data: d}
	}
	if err != nil {
		return "", servicePage(err)
	}
	return rq.view.Link("/executions/" + id), nil
}

// paramProblems files a *runbook.ParamError's messages under the
// parameters they name; the rest go under "".
func paramProblems(params []runbook.Param, err error) map[string]string {
	out := map[string]string{}
	var pe *runbook.ParamError
	if !errors.As(err, &pe) {
		return out
	}
	for _, e := range pe.Errs {
		key := ""
		for _, p := range params {
			if strings.Contains(e.Error(), fmt.Sprintf("%q", p.Name)) {
				key = p.Name
				break
			}
		}
		if out[key] != "" {
			out[key] += "; "
		}
		out[key] += e.Error()
	}
	return out
}

// paramField is one input of a run form, generated from a parameter's type.
type paramField struct {
	Name, Label, Description string
	Type                     string
	// Input is the control: text, number, select or textarea.
	Input    string
	Step     string // for number inputs
	Options  []option
	Value    string
	Hint     string
	Required bool
	Problem  string
}

func paramFields(params []runbook.Param, given, problems map[string]string) []paramField {
	out := make([]paramField, len(params))
	for i, p := range params {
		f := paramField{Name: p.Name, Label: p.Name, Description: p.Description, Type: string(p.Type), Input: "text",
			Required: p.Required && p.Default == nil, Problem: problems[p.Name]}
		def := ""
		if p.Default != nil {
			def = formatValue(p.Default)
		}
		switch {
		case len(p.Allowed) > 0:
			f.Input = "select"
			if !f.Required {
				f.Options = append(f.Options, option{Value: "", Label: defaultLabel(def)})
			}
			for _, a := range p.Allowed {
				v := formatValue(a)
				f.Options = append(f.Options, option{Value: v, Label: v})
			}
		case p.Type == runbook.TypeBool:
			f.Input = "select"
			f.Options = []option{{Value: "", Label: defaultLabel(def)}, {Value: "true", Label: "true"}, {Value: "false", Label: "false"}}
		case p.Type == runbook.TypeInt:
			f.Input, f.Step, f.Value = "number", "1", def
		case p.Type == runbook.TypeNumber:
			f.Input, f.Step, f.Value = "number", "any", def
		case p.Type == runbook.TypeDuration:
			f.Value, f.Hint = def, "A duration, e.g. 90s, 5m, 1h30m."
		case p.Type == runbook.TypeList:
			f.Value, f.Hint = def, "Comma-separated values, or a JSON list."
		case p.Type == runbook.TypeMap:
			f.Input, f.Value, f.Hint = "textarea", def, "A JSON object."
		default:
			f.Value = def
			if p.Pattern != "" {
				f.Hint = "Must match " + p.Pattern + "."
			}
		}
		if v, ok := given[p.Name]; ok {
			f.Value = v
		}
		out[i] = f
	}
	return out
}

func defaultLabel(def string) string {
	if def == "" {
		return "(not set)"
	}
	return "default (" + def + ")"
}

// formatValue shows a typed parameter value the way the form reads it back.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if _, ok := e.(string); !ok {
				b, _ := json.Marshal(v)
				return string(b)
			}
			parts[i] = e.(string)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}
