package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
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
		tenant, id, err := s.tenantAndID(r)
		if err != nil {
			return err
		}
		var in HandlingInput
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		a := action(&in)
		a.Actor = Principal(r).Actor()
		var out store.OpsItem
		err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
			o, e, err := opsitem.Apply(ctx, tx, tenant, id, a, s.now())
			out = o
			return e, err
		})
		if err := handlingError(err, id); err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// handlingError maps opsitem.Apply's errors to API errors.
func handlingError(err error, id string) error {
	if ie, ok := opsitem.IsInvalid(err); ok {
		if ie.Conflict {
			return Conflict("%s", ie.Msg)
		}
		return BadRequest("%s", ie.Msg)
	}
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	}
	return err
}
