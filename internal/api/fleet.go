package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The fleet endpoints come in two families. Operators manage agents,
// enrollment tokens, commands and resources with their bearer tokens, like
// every other API. Agents call /api/v1/agent/… with their own credential
// (Authorization: Agent ID:SECRET), which no user route accepts and which
// is accepted by no user route; those handlers authenticate it themselves.

func (s *Server) registerFleet(svc *fleet.Service) {
	if svc == nil {
		var err error
		if svc, err = fleet.New(fleet.Options{Store: s.st, Logger: s.log, Clock: s.now}); err != nil {
			panic(err) // default options over a store always validate
		}
	}
	s.fleet = svc
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/enrollment-tokens", MinRole: store.RoleAdmin}, s.createEnrollToken)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/enrollment-tokens", MinRole: store.RoleAdmin}, tenantList(s, s.st.ListEnrollTokens, func(t store.EnrollToken) string { return t.ID }))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/agents", MinRole: store.RoleViewer}, tenantListView(s, s.st.ListAgents, func(a store.Agent) string { return a.ID }, s.agentView))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/agents/{id}", MinRole: store.RoleViewer}, tenantGet(s, "agent", s.st.GetAgent, s.agentView))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/agents/{id}", MinRole: store.RoleAdmin}, s.revokeAgent)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/agents/{id}/commands", MinRole: store.RoleOperator, Permission: store.PermHostCommands}, s.createCommand)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/commands", MinRole: store.RoleViewer}, s.listCommands)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/commands/{id}", MinRole: store.RoleViewer}, s.getCommand)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/commands/{id}", MinRole: store.RoleOperator}, s.cancelCommand)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/resources", MinRole: store.RoleViewer}, s.listResources)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/resources/{id}", MinRole: store.RoleViewer}, tenantGet(s, "resource", s.st.GetResource, func(r store.Resource) store.Resource { return r }))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/fleet/unmanaged", MinRole: store.RoleViewer}, tenantList(s, s.st.ListUnmanagedHosts, store.UnmanagedHostCursor)) // as the drift check last found them

	// The agent protocol is served beside the API but not listed among
	// its routes: agents authenticate with their own credential, not a
	// user's bearer token, and docs/agent.md (not openapi.json) describes it.
	for _, r := range []struct {
		method, pattern string
		h               HandlerFunc
	}{
		{"POST", wire.PathEnroll, s.agentEnroll},
		{"POST", wire.PathHeartbeat, s.agentCall(s.agentHeartbeat)},
		{"GET", wire.PathCommands, s.agentCall(s.agentPoll)},
		{"POST", wire.PathCommands + "/{id}/output", s.agentCall(s.agentOutput)},
		{"POST", wire.PathCommands + "/{id}/result", s.agentCall(s.agentResult)},
		{"PUT", wire.PathInventory, s.agentCall(s.agentInventory)},
		{"GET", wire.PathBinary, s.agentCall(s.agentBinary)},
	} {
		s.mux.Handle(r.method+" "+r.pattern, s.wrap(Route{Method: r.method, Pattern: r.pattern}, r.h))
	}
}

// Fleet returns the fleet service behind the fleet endpoints.
func (s *Server) Fleet() *fleet.Service { return s.fleet }

// fleetError maps the fleet's errors to API errors.
func fleetError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fleet.ErrUnauthenticated):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: strings.TrimPrefix(err.Error(), "unauthenticated: ")}
	case errors.Is(err, fleet.ErrInvalid):
		return BadRequest("%s", strings.TrimPrefix(err.Error(), "invalid request: "))
	case errors.Is(err, fleet.ErrAgentGone):
		return NotFound("%v", err)
	case errors.Is(err, fleet.ErrNeedFull):
		return Conflict("%v", err)
	case errors.Is(err, fleet.ErrIdentity):
		return Forbidden("%v", err)
	}
	return err
}

// EnrollTokenInput is the body of POST /api/v1/agents/tokens.
type EnrollTokenInput struct {
	// ExpiresIn is the token's lifetime, a Go duration ("24h"); default 24h.
	ExpiresIn string `json:"expires_in"`
	// Tags are given to every agent enrolled with the token.
	Tags map[string]string `json:"tags"`
}

// CreatedEnrollToken is a new enrollment token with its secret, shown once,
// and the enrollment bundle that carries it to a host.
type CreatedEnrollToken struct {
	store.EnrollToken
	Token  string      `json:"token"`
	Bundle wire.Bundle `json:"bundle"`
}

// requestBase is the URL the caller reached the server at (what an agent
// on the same network would use).
func requestBase(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *Server) createEnrollToken(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in EnrollTokenInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	var ttl time.Duration
	if in.ExpiresIn != "" {
		if ttl, err = time.ParseDuration(in.ExpiresIn); err != nil || ttl <= 0 {
			return BadRequest("expires_in %q is not a positive duration (e.g. 24h)", in.ExpiresIn)
		}
	}
	var out CreatedEnrollToken
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		t, secret, err := s.fleet.CreateEnrollToken(ctx, tx, fleet.NewEnrollToken{TenantID: tenant, CreatedBy: Principal(r).Actor(), TTL: ttl, Tags: in.Tags})
		if err != nil {
			return audit.Entry{}, fleetError(err)
		}
		out = CreatedEnrollToken{EnrollToken: t, Token: secret, Bundle: s.fleet.Bundle(requestBase(r), t, secret)}
		return audit.Entry{Action: "agent.token.create", Target: "enroll-token/" + t.ID,
			Detail: map[string]any{"expires_at": t.ExpiresAt, "tags": t.Tags}}, nil
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

// AgentView is an agent as the API shows it: the record, its state now and
// its version drift.
type AgentView struct {
	store.Agent
	// State is pending (never heartbeat), reporting, not-reporting or
	// revoked.
	State string `json:"state"`
	// DesiredVersion is the version the fleet should run; Outdated is set
	// when the agent reports another.
	DesiredVersion string `json:"desired_version,omitempty"`
	Outdated       bool   `json:"outdated"`
}

func (s *Server) agentView(a store.Agent) AgentView {
	v := AgentView{Agent: a, DesiredVersion: s.fleet.Options().DesiredVersion, Outdated: a.RevokedAt == nil && s.fleet.Outdated(a.Version)}
	switch {
	case a.RevokedAt != nil:
		v.State = "revoked"
	case a.LastSeenAt == nil:
		v.State = "pending"
	case a.NotReportingSince != nil || (a.StaleAfter != nil && s.now().After(*a.StaleAfter)):
		v.State = "not-reporting"
	default:
		v.State = "reporting"
	}
	return v
}

func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := s.fleet.Revoke(ctx, tx, tenant, id); errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, NotFound("agent %q not found or already revoked", id)
		} else if err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "agent.revoke", Target: "agent/" + id}, nil
	})
	if err != nil {
		return err
	}
	s.fleet.Revoked(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// CommandInput is the body of POST /api/v1/agents/{id}/commands.
type CommandInput struct {
	// Argv runs a program; Script runs text with Shell (default /bin/sh).
	Argv   []string          `json:"argv"`
	Script string            `json:"script"`
	Shell  string            `json:"shell"`
	Env    map[string]string `json:"env"`
	Dir    string            `json:"dir"`
	User   string            `json:"user"`
	// Timeout is a Go duration ("30s"); default 5m.
	Timeout string `json:"timeout"`
}

// CommandView is a command as the API shows it: environment values are
// never shown (they may hold secrets), only their names.
type CommandView struct {
	store.AgentCommand
}

func commandView(c store.AgentCommand) CommandView {
	if len(c.Spec.Env) > 0 {
		env := make(map[string]string, len(c.Spec.Env))
		for k := range c.Spec.Env {
			env[k] = "<redacted>"
		}
		c.Spec.Env = env
	}
	return CommandView{AgentCommand: c}
}

func (s *Server) createCommand(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	agentID, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in CommandInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.User != "" && !Principal(r).Allows(store.RoleAdmin) {
		return Forbidden("running as user %q (another user than the agent's own) needs the admin role; the token has %s", clipDetail(in.User, 64), Principal(r).Role)
	}
	spec := store.CommandSpec{Argv: in.Argv, Script: in.Script, Shell: in.Shell, Env: in.Env, Dir: in.Dir, User: in.User}
	if in.Timeout != "" {
		if spec.Timeout, err = time.ParseDuration(in.Timeout); err != nil {
			return BadRequest("timeout %q is not a duration (e.g. 30s)", in.Timeout)
		}
	}
	var c store.AgentCommand
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		var err error
		if c, err = s.fleet.NewCommand(ctx, tx, tenant, agentID, spec, Principal(r).Actor()); err != nil {
			return audit.Entry{}, fleetError(err)
		}
		return audit.Entry{Action: "command.create", Target: "command/" + c.ID, Detail: fleet.CommandDetail(c)}, nil
	})
	if err != nil {
		return err
	}
	s.fleet.Queued(agentID)
	w.Header().Set("Location", "/api/v1/commands/"+c.ID)
	WriteJSON(w, http.StatusCreated, commandView(c))
	return nil
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := s.st.ListAgentCommands(r.Context(), tenant, store.AgentCommandFilter{AgentID: q.Get("agent"), Status: q.Get("status")}, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(c store.AgentCommand) string { return c.ID }, commandView)
}

func (s *Server) getCommand(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	c, err := s.st.GetAgentCommand(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("command %q not found", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, commandView(c))
	return nil
}

func (s *Server) cancelCommand(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	var c store.AgentCommand
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		var err error
		if c, err = s.fleet.CancelCommand(ctx, tx, tenant, id); errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, NotFound("command %q not found or already finished", id)
		} else if err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "command.cancel", Target: "command/" + id}, nil
	})
	if err != nil {
		return err
	}
	s.fleet.Queued(c.AgentID)
	WriteJSON(w, http.StatusOK, commandView(c))
	return nil
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := s.st.ListResources(r.Context(), tenant, store.ResourceFilter{Type: q.Get("type"), Name: q.Get("name"), AgentID: q.Get("agent")}, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(r store.Resource) string { return r.ID }, same[store.Resource])
}

// The agent endpoints.

type agentHandler func(w http.ResponseWriter, r *http.Request, a fleet.Agent) error

// agentCall authenticates the agent credential before h.
func (s *Server) agentCall(h agentHandler) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.fleet.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			return fleetError(err)
		}
		return fleetError(h(w, r, a))
	}
}

func (s *Server) agentEnroll(w http.ResponseWriter, r *http.Request) error {
	var in wire.EnrollRequest
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.fleet.Enroll(r.Context(), in)
	if err != nil {
		return fleetError(err)
	}
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) agentHeartbeat(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	var in wire.Heartbeat
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.fleet.Heartbeat(r.Context(), a, in)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) agentPoll(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	q := r.URL.Query()
	req := fleet.PollRequest{Slots: 1, First: q.Get("first") == "1" || q.Get("first") == "true", Instance: q.Get("instance")}
	if len(req.Instance) > 64 {
		return BadRequest("instance is longer than 64 characters")
	}
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return BadRequest("wait %q is not a duration (e.g. 30s)", v)
		}
		req.Wait = d
	}
	if v := q.Get("slots"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return BadRequest("slots %q must be a number from 0 to 1000", v)
		}
		req.Slots = n
	}
	out, err := s.fleet.Poll(r.Context(), a, req)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) agentOutput(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in wire.Output
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.fleet.Output(r.Context(), a, id, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) agentResult(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in wire.Result
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.fleet.Finish(r.Context(), a, id, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) agentInventory(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	var in wire.Inventory
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.fleet.Inventory(r.Context(), a, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) agentBinary(w http.ResponseWriter, r *http.Request, a fleet.Agent) error {
	q := r.URL.Query()
	f, sum, size, ok := s.fleet.Binary(q.Get("os"), q.Get("arch"))
	if !ok {
		return NotFound("no agent binary for %s/%s", q.Get("os"), q.Get("arch"))
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("X-Checksum-Sha256", sum)
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, f)
	if err != nil {
		s.log.Warn("agent binary download cut", "agent", a.ID, "error", err)
	}
	return nil
}
