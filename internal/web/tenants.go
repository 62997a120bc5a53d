package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The tenants page (platform admins): every tenant, each a link to its
// pages (the tenant switcher's ?tenant=), and a form to create one,
// through internal/service as POST /api/v1/tenants and `flywheel tenant
// create` do (audited as tenant.create).

type tenantsData struct {
	Tenants []store.Tenant
	Problem string
	Form    service.TenantInput
}

func (h *Handler) tenantRoutes() {
	h.page("GET /tenants", "tenants", h.tenantsPage)
	h.action("POST /tenants", store.RoleAdmin, h.createTenant)
}

func (h *Handler) tenantsPage(rq *request) (any, error) {
	if !rq.sess.Principal.PlatformAdmin {
		return nil, errForbidden("The tenants page is for platform admins.")
	}
	rq.view.Title = "Tenants"
	return tenantsData{Tenants: rq.view.Tenants}, nil
}

func (h *Handler) createTenant(rq *request) (string, error) {
	in := service.TenantInput{ID: strings.TrimSpace(rq.PostFormValue("id")), Name: rq.PostFormValue("name"), Description: rq.PostFormValue("description")}
	t, err := h.svc().CreateTenant(rq.ctx, service.Caller{Principal: rq.sess.Principal, Tenant: in.ID}, in)
	if e, ok := service.As(err); ok && (e.Kind == service.Invalid || e.Kind == service.Conflict) {
		status := http.StatusBadRequest
		if e.Kind == service.Conflict {
			status = http.StatusConflict
		}
		return "", &formProblem{Status: status, Tmpl: "tenants", Title: "Tenants", Data: tenantsData{Tenants: rq.view.Tenants, Problem: e.Msg, Form: in}}
	}
	if err != nil {
		return "", servicePage(err)
	}
	return fmt.Sprintf("/tenants#tenant-%s", t.ID), nil
}

// setupItems are the navigation entries of the rules, channels, tokens
// and tenants pages: tokens for admins, tenants for platform admins only.
func setupItems(v *view, item func(label, p string) navItem) []navItem {
	out := []navItem{item("Rules", "/rules"), item("Channels", "/channels")}
	if v.Session == nil {
		return out
	}
	if v.Session.Principal.Allows(store.RoleAdmin) {
		out = append(out, item("Tokens", "/tokens"))
	}
	if v.Session.Principal.PlatformAdmin {
		out = append(out, item("Tenants", "/tenants"))
	}
	return out
}
