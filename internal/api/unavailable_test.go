package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestStoreUnavailableIs503: a store error saying the database cannot be
// reached now (a restart, a fail-over) is a 503 with Retry-After, which
// senders retry, not a 500.
func TestStoreUnavailableIs503(t *testing.T) {
	err := fmt.Errorf("list opsitems: %w", fmt.Errorf("%w: conn closed", store.ErrUnavailable))
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/", nil), asError(err))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("got %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}
