package postgres

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return OpenTest(t)
	})
}

func TestConcurrentMigrate(t *testing.T) {
	url := TestURL()
	s := OpenTest(t)
	schema := s.schema
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s2, err := Open(context.Background(), url, Options{Schema: schema})
			if err == nil {
				s2.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
}
