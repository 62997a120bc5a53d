package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// fakeContent stands in for the app's content reload (internal/app tests
// the real one): each reload is a new generation, unless fail is set.
type fakeContent struct {
	reloads atomic.Int64
	fail    atomic.Bool
}

func (f *fakeContent) ReloadContent(ctx context.Context, actor string) (api.ContentStatus, error) {
	if f.fail.Load() {
		return f.ContentStatus(), fmt.Errorf("%w: content:\nrules/x.yaml:3: unknown field \"whne\"", api.ErrInvalidContent)
	}
	f.reloads.Add(1)
	return f.ContentStatus(), nil
}

func (f *fakeContent) ContentStatus() api.ContentStatus {
	n := f.reloads.Load()
	return api.ContentStatus{Generation: n, Digest: fmt.Sprintf("digest-%d", n)}
}

// TestContentReloadRoute: a platform admin's reload answers the new
// generation and digest, /healthz then reports them, and invalid content
// is a 422 that names the problem.
func TestContentReloadRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var st api.ContentStatus
	h.call("POST", "/api/v1/content/reload", h.secret(platform), nil).ok(t, 200, &st)
	if st.Generation != 1 || st.Digest != "digest-1" {
		t.Errorf("reload answered %+v, want generation 1 digest-1", st)
	}
	var health map[string]string
	h.call("GET", "/healthz", "", nil).ok(t, 200, &health)
	if health["status"] != "ok" || health["content_generation"] != "1" || health["content_digest"] != "digest-1" {
		t.Errorf("/healthz %v, want status ok, content generation 1, digest-1", health)
	}
	h.content.fail.Store(true)
	h.call("POST", "/api/v1/content/reload", h.secret(platform), nil).fail(t, http.StatusUnprocessableEntity, "invalid_content", `unknown field "whne"`)
}
