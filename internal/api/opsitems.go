package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerOpsItems() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems", MinRole: store.RoleViewer}, s.listOpsItems)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems", MinRole: store.RoleOperator}, s.createOpsItem)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems/{id}", MinRole: store.RoleViewer}, s.getOpsItem)
	s.Handle(Route{Method: "PATCH", Pattern: "/api/v1/opsitems/{id}", MinRole: store.RoleOperator}, s.updateOpsItem)
	s.registerOpsItemHandling()
	s.registerOpsItemRegroup()
}

// OpsItemFilter reads the list filters from the query string, validating them.
func OpsItemFilter(r *http.Request) (store.OpsItemFilter, error) {
	q := r.URL.Query()
	f := store.OpsItemFilter{Status: q.Get("status"), Severity: q.Get("severity"), Category: q.Get("category"), Text: q.Get("q"),
		Resource: q.Get("resource"), Assignee: q.Get("assignee")}
	if f.Status != "" {
		if err := opsitem.ValidStatus(f.Status); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if f.Severity != "" {
		if err := opsitem.ValidSeverity(f.Severity); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if f.Category != "" {
		if err := opsitem.ValidCategory(f.Category); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if err := maxLen("resource", f.Resource, 500); err != nil {
		return f, err
	}
	if err := maxLen("assignee", f.Assignee, opsitem.MaxAssignee); err != nil {
		return f, err
	}
	return f, maxLen("q", f.Text, 200)
}

func (s *Server) listOpsItems(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	f, err := OpsItemFilter(r)
	if err != nil {
		return err
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListOpsItems(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(o store.OpsItem) string { return o.ID }, same[store.OpsItem])
}

func (s *Server) getOpsItem(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	o, err := s.st.GetOpsItem(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, o)
	return nil
}

// OpsItemInput is the body of POST /api/v1/opsitems.
type OpsItemInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
}

func (s *Server) createOpsItem(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in OpsItemInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Category == "" {
		in.Category = "operations"
	}
	if in.Severity == "" {
		in.Severity = "medium"
	}
	if err := validOpsItemFields(in.Title, in.Description, in.Category, in.Severity); err != nil {
		return err
	}
	now := s.now()
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: in.Title, Description: in.Description,
		Category: in.Category, Severity: in.Severity, Status: opsitem.StatusOpen, Source: "manual", CreatedAt: now, UpdatedAt: now}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "opsitem.create", Target: "opsitem/" + o.ID, Detail: map[string]string{"title": o.Title}}, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/opsitems/"+o.ID)
	WriteJSON(w, http.StatusCreated, o)
	return nil
}

func validOpsItemFields(title, description, category, severity string) error {
	if err := required("title", title); err != nil {
		return err
	}
	if err := maxLen("title", title, 500); err != nil {
		return err
	}
	if err := maxLen("description", description, 64<<10); err != nil {
		return err
	}
	if err := opsitem.ValidCategory(category); err != nil {
		return BadRequest("%v", err)
	}
	if err := opsitem.ValidSeverity(severity); err != nil {
		return BadRequest("%v", err)
	}
	return nil
}

// OpsItemPatch is the body of PATCH /api/v1/opsitems/{id}: fields present
// are changed, absent ones kept.
type OpsItemPatch struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Category    *string `json:"category"`
	Severity    *string `json:"severity"`
	Status      *string `json:"status"`
}

func (s *Server) updateOpsItem(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	var in OpsItemPatch
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	var out store.OpsItem
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		o, err := tx.GetOpsItem(ctx, tenant, id)
		if err != nil {
			return audit.Entry{}, err
		}
		changed := map[string]string{}
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				changed[field] = *v
				*dst = *v
			}
		}
		set("title", &o.Title, in.Title)
		set("description", &o.Description, in.Description)
		set("category", &o.Category, in.Category)
		set("severity", &o.Severity, in.Severity)
		if err := validOpsItemFields(o.Title, o.Description, o.Category, o.Severity); err != nil {
			return audit.Entry{}, err
		}
		now := s.now()
		o.UpdatedAt = now
		if err := tx.UpdateOpsItem(ctx, o); err != nil {
			return audit.Entry{}, err
		}
		out = o
		if len(changed) > 0 {
			if d, ok := changed["description"]; ok && len(d) > 200 {
				changed["description"] = d[:200] + "…"
			}
		}
		// A change of status is a person's handling: its timeline entry,
		// resolved_by and in-hands time are opsitem.Apply's.
		if in.Status != nil && *in.Status != o.Status {
			a := opsitem.Action{Kind: opsitem.SetStatus, Status: *in.Status, Actor: Principal(r).Actor()}
			if out, _, err = opsitem.Apply(ctx, tx, tenant, id, a, now); err != nil {
				return audit.Entry{}, err
			}
			changed["status"] = *in.Status
		}
		return audit.Entry{Action: "opsitem.update", Target: "opsitem/" + o.ID, Detail: changed}, nil
	})
	if err := handlingError(err, id); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
