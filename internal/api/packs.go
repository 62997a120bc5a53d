package api

import (
	"context"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Service packs (docs/packs.md): the catalogue, and the tenant's
// installations, whose documents are the tenant's content.
func (s *Server) registerPacks() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/packs", MinRole: store.RoleViewer}, s.listPacks)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/packs/{name}", MinRole: store.RoleViewer}, s.showPack)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/packs/{name}/diff", MinRole: store.RoleViewer}, s.diffPack)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/packs/{name}/install", MinRole: store.RoleAdmin}, s.installPack)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/packs/{name}/upgrade", MinRole: store.RoleAdmin}, s.upgradePack)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/packs/{name}", MinRole: store.RoleAdmin}, s.uninstallPack)
}

// callerAndName is caller and the path's {name}.
func (s *Server) callerAndName(r *http.Request) (service.Caller, string, error) {
	c, err := s.caller(r)
	if err != nil {
		return c, "", err
	}
	name, err := PathID(r, "name")
	return c, name, err
}

func (s *Server) listPacks(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	out, err := s.svc.ListPacks(r.Context(), c)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]any{"packs": nonNil(out)})
	return nil
}

func (s *Server) showPack(w http.ResponseWriter, r *http.Request) error {
	c, name, err := s.callerAndName(r)
	if err != nil {
		return err
	}
	d, err := s.svc.ShowPack(r.Context(), c, name)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, d)
	return nil
}

// packRequest decodes an optional body: {"files": [...], "force": bool}.
func packRequest(r *http.Request) (service.PackRequest, error) {
	var in service.PackRequest
	if r.ContentLength == 0 {
		return in, nil
	}
	return in, DecodeJSON(r, &in)
}

func (s *Server) diffPack(w http.ResponseWriter, r *http.Request) error {
	c, name, err := s.callerAndName(r)
	if err != nil {
		return err
	}
	in, err := packRequest(r)
	if err != nil {
		return err
	}
	d, err := s.svc.DiffPack(r.Context(), c, name, in)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) installPack(w http.ResponseWriter, r *http.Request) error {
	return s.putPack(w, r, http.StatusCreated, s.svc.InstallPack)
}

func (s *Server) upgradePack(w http.ResponseWriter, r *http.Request) error {
	return s.putPack(w, r, http.StatusOK, s.svc.UpgradePack)
}

func (s *Server) putPack(w http.ResponseWriter, r *http.Request, status int,
	op func(ctx context.Context, c service.Caller, name string, req service.PackRequest) (store.PackInstallation, error)) error {
	c, name, err := s.callerAndName(r)
	if err != nil {
		return err
	}
	in, err := packRequest(r)
	if err != nil {
		return err
	}
	out, err := op(r.Context(), c, name, in)
	if err != nil {
		return err
	}
	WriteJSON(w, status, out)
	return nil
}

func (s *Server) uninstallPack(w http.ResponseWriter, r *http.Request) error {
	c, name, err := s.callerAndName(r)
	if err != nil {
		return err
	}
	if err := s.svc.UninstallPack(r.Context(), c, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
