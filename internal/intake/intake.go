// Package intake defines the contract every source adapter implements: turn
// one HTTP request body of a source's format into normalized events.
//
// Adapters live one per package under intake/<source> and are pure parsers:
// they do no I/O of their own except where the format demands it (SNS
// certificate fetch and subscription confirmation, through injected clients).
// The HTTP layer authenticates, limits the body size, stores the events
// durably and only then answers 2xx.
package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// Request is what an adapter sees of one delivery.
type Request struct {
	Body   []byte
	Header http.Header
}

// Result is what an adapter made of a delivery.
type Result struct {
	Events []event.Event
	// Control is set when the delivery is a protocol message rather than
	// events (e.g. an SNS SubscriptionConfirmation); it is recorded, and the
	// HTTP layer answers with Control.Status and Control.Message.
	Control *Control
}

// Control describes a protocol message handled by the adapter.
type Control struct {
	Type    string // e.g. "SubscriptionConfirmation"
	Status  int    // HTTP status to answer with
	Message string
}

// Adapter parses one source format.
type Adapter interface {
	// Name is the source name used in routes and on events ("alertmanager").
	Name() string
	// Parse turns a delivery into events. Errors meant for the sender are
	// *BadRequest; anything else is a server fault.
	Parse(ctx context.Context, req Request) (Result, error)
}

// BadRequest is a parse error caused by the sender's payload; the HTTP layer
// answers it with Status (400 unless set) and Message, which names what is
// wrong ("alerts[0].labels is required").
type BadRequest struct {
	Status  int
	Message string
}

func (e *BadRequest) Error() string { return e.Message }

// Badf returns a *BadRequest with a formatted message and status 400.
func Badf(format string, args ...any) error {
	return &BadRequest{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// AsBadRequest reports whether err is (or wraps) a *BadRequest.
func AsBadRequest(err error) (*BadRequest, bool) {
	var br *BadRequest
	if errors.As(err, &br) {
		if br.Status == 0 {
			br.Status = http.StatusBadRequest
		}
		return br, true
	}
	return nil, false
}
