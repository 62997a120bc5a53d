package api

import (
	"context"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/correlate/learn"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A person's handling of an OpsItem (acknowledge, assign, note, resolve);
// the rules, timeline entry and in-hands time are opsitem.Apply's.

func (s *Server) registerOpsItemHandling() {
	for _, a := range []struct {
		path string
		h    HandlerFunc
	}{
		{"acknowledge", s.handleOpsItem(func(in *HandlingInput) opsitem.Action {
			return opsitem.Action{Kind: opsitem.Acknowledge, Text: in.Comment}
		})},
		{"assign", s.handleOpsItem(func(in *HandlingInput) opsitem.Action {
			return opsitem.Action{Kind: opsitem.Assign, Assignee: in.Assignee, Text: in.Comment}
		})},
		{"notes", s.handleOpsItem(func(in *HandlingInput) opsitem.Action {
			return opsitem.Action{Kind: opsitem.Note, Text: in.Text}
		})},
		{"resolve", s.handleOpsItem(func(in *HandlingInput) opsitem.Action {
			return opsitem.Action{Kind: opsitem.Resolve, Text: in.Comment}
		})},
	} {
		s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems/{id}/" + a.path, MinRole: store.RoleOperator}, a.h)
	}
}

// HandlingInput is the body of the OpsItem handling routes: assign takes
// assignee ("" unassigns), notes takes text, acknowledge, assign and
// resolve take an optional comment. Send {} when there is nothing to say.
type HandlingInput struct {
	Assignee string `json:"assignee,omitempty"`
	Text     string `json:"text,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

func (s *Server) handleOpsItem(action func(*HandlingInput) opsitem.Action) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, id, err := s.callerAndID(r)
		if err != nil {
			return err
		}
		var in HandlingInput
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		out, err := s.svc.HandleOpsItem(r.Context(), c, id, action(&in))
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// MergeInput is the body of POST /api/v1/opsitems/{id}/merge: the OpsItems
// whose members move into {id}.
type MergeInput struct {
	From []string `json:"from"`
}

// SplitInput is the body of POST /api/v1/opsitems/{id}/split: the member
// alert to move into a new OpsItem.
type SplitInput struct {
	Fingerprint string `json:"fingerprint"`
}

// CorrelationCandidate is one entry of GET /api/v1/correlation/candidates.
type CorrelationCandidate struct {
	A          string  `json:"a"`
	B          string  `json:"b"`
	Merges     int     `json:"merges"`
	CoOccurred int     `json:"co_occurred"`
	Lift       float64 `json:"lift,omitempty"`
	Why        string  `json:"why"`
	RuleName   string  `json:"rule_name"`
	Rule       string  `json:"rule"`
}

func (s *Server) registerOpsItemRegroup() {
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems/{id}/merge", MinRole: store.RoleOperator}, s.mergeOpsItems)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems/{id}/split", MinRole: store.RoleOperator}, s.splitOpsItem)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/correlation/candidates", MinRole: store.RoleViewer}, s.correlationCandidates)
}

func (s *Server) mergeOpsItems(w http.ResponseWriter, r *http.Request) error {
	var in MergeInput
	return s.regroup(w, r, &in, http.StatusOK, func(ctx context.Context, c service.Caller, id string) (store.OpsItem, error) {
		return s.svc.MergeOpsItems(ctx, c, id, in.From)
	})
}

func (s *Server) splitOpsItem(w http.ResponseWriter, r *http.Request) error {
	var in SplitInput
	return s.regroup(w, r, &in, http.StatusCreated, func(ctx context.Context, c service.Caller, id string) (store.OpsItem, error) {
		return s.svc.SplitOpsItem(ctx, c, id, in.Fingerprint)
	})
}

// regroup decodes the body into in, runs op on the OpsItem {id} and
// answers the OpsItem op returns with status.
func (s *Server) regroup(w http.ResponseWriter, r *http.Request, in any, status int,
	op func(ctx context.Context, c service.Caller, id string) (store.OpsItem, error)) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	if err := DecodeJSON(r, in); err != nil {
		return err
	}
	out, err := op(r.Context(), c, id)
	if err != nil {
		return err
	}
	WriteJSON(w, status, out)
	return nil
}

// correlationCandidates lists correlation candidates learnt from people's
// merges and splits (learn.Candidates with the default five merges).
func (s *Server) correlationCandidates(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	ms, err := opsitem.LearnedMerges(r.Context(), s.st, tenant)
	if err != nil {
		return err
	}
	out := []CorrelationCandidate{}
	for _, c := range learn.Candidates(nil, ms, learn.Options{}, nil) {
		out = append(out, CorrelationCandidate{A: c.A, B: c.B, Merges: c.Merges, CoOccurred: c.CoOccurred, Lift: c.Lift,
			Why: c.Why(), RuleName: c.RuleName, Rule: c.Rule})
	}
	WriteList(w, out, "")
	return nil
}
