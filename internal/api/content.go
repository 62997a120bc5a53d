package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ContentReloader reloads the server's content (internal/app): the
// built-in library and the content directory, loaded again, checked, and
// swapped in on every replica.
type ContentReloader interface {
	// ReloadContent loads the content again on this replica and tells the
	// others to; an invalid content set wraps ErrInvalidContent and the
	// content in force stays.
	ReloadContent(ctx context.Context, actor string) (ContentStatus, error)
	// ContentStatus describes the content in force on this replica.
	ContentStatus() ContentStatus
}

// ContentStatus is the content a replica runs: the generation it loaded
// (the database's content generation when it loaded it) and the digest of
// its documents. Replicas with the same digest run the same content.
type ContentStatus struct {
	Generation int64     `json:"generation"`
	Digest     string    `json:"digest"`
	Documents  int       `json:"documents"`
	LoadedAt   time.Time `json:"loaded_at"`
}

// ErrInvalidContent: the content directory does not load; the message
// lists every problem.
var ErrInvalidContent = errors.New("invalid content")

// SetContent replaces what the API reads from content (a content reload):
// the automation rules and the applications.
func (s *Server) SetContent(rules *rule.Rules, apps *application.Catalog) {
	s.rules.Store(rules)
	s.apps.Store(apps)
}

func (s *Server) registerContent(c ContentReloader) {
	s.reloader = c
	if c == nil {
		return
	}
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/content/reload", MinRole: store.RoleAdmin, PlatformAdmin: true}, s.reloadContent)
}

// reloadContent is POST /api/v1/content/reload: the content is loaded
// again here and, through the database's content generation, on every
// replica. It answers the new generation and digest; other replicas
// report theirs on /healthz once they have loaded it.
func (s *Server) reloadContent(w http.ResponseWriter, r *http.Request) error {
	actor := "api"
	if p, ok := PrincipalFrom(r.Context()); ok {
		actor = p.TokenID
	}
	st, err := s.reloader.ReloadContent(r.Context(), actor)
	if errors.Is(err, ErrInvalidContent) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_content", Message: err.Error()}
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, st)
	return nil
}
