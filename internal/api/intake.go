package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// IntakeService is what the intake endpoints need: the adapters, and a
// durable Submit that returns only once a delivery is committed.
type IntakeService interface {
	Adapter(source string) (intake.Adapter, bool)
	Submit(ctx context.Context, tenant, source string, body []byte, header json.RawMessage, evs []event.Event) error
}

func (s *Server) registerIntake() {
	if s.intake == nil {
		return
	}
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/intake/{source}", MinRole: store.RoleIntake}, func(w http.ResponseWriter, r *http.Request) error {
		src := r.PathValue("source")
		if src == "alertmanager-v2" {
			return NotFound("no intake source %q (Prometheus posts to /api/v2/alerts)", src)
		}
		return s.acceptIntake(w, r, src)
	})
	// Alertmanager-compatible API, so Prometheus can send straight to Flywheel.
	s.Handle(Route{Method: "POST", Pattern: "/api/v2/alerts", MinRole: store.RoleIntake}, func(w http.ResponseWriter, r *http.Request) error {
		return s.acceptIntake(w, r, "alertmanager-v2")
	})
}

// keptHeaders are the request headers an adapter may need again when a
// stored delivery is re-parsed.
var keptHeaders = []string{"Content-Type", "X-Amz-Sns-Message-Type", "X-Amz-Sns-Message-Id", "X-Amz-Sns-Topic-Arn",
	"X-Amz-Sns-Subscription-Arn", "X-Flywheel-Mapping"}

func (s *Server) acceptIntake(w http.ResponseWriter, r *http.Request, source string) error {
	ad, ok := s.intake.Adapter(source)
	if !ok {
		return NotFound("no intake source %q", source)
	}
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return BadRequest("reading request body: %v", err)
	}
	hdr := keptHeader(r)
	res, err := ad.Parse(r.Context(), intake.Request{Body: body, Header: hdr})
	if err != nil {
		if br, ok := intake.AsBadRequest(err); ok {
			code := "bad_request"
			if br.Status == http.StatusForbidden {
				code = "forbidden"
			}
			return &Error{Status: br.Status, Code: code, Message: br.Message}
		}
		return err
	}
	if res.Control != nil {
		// Protocol messages (SNS subscription handshakes) create no events
		// but are recorded, so an operator can see what was confirmed.
		err := s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
			return audit.Entry{Action: "intake." + strings.ToLower(res.Control.Type), Target: "intake/" + source,
				Result: fmt.Sprintf("%d %s", res.Control.Status, res.Control.Message)}, nil
		})
		if err != nil {
			return err
		}
		WriteJSON(w, res.Control.Status, map[string]string{"type": res.Control.Type, "message": res.Control.Message})
		return nil
	}
	if err := reserved(res.Events); err != nil {
		return err
	}
	sender := Principal(r).Actor()
	event.StampSender(res.Events, sender)
	// The sender is stored with the delivery too, so a delivery parsed again
	// from the store (after a restart, on another replica) is stamped alike.
	hb := withSender(headerJSON(hdr), sender)
	switch err := s.intake.Submit(r.Context(), tenant, source, body, hb, res.Events); {
	case errors.Is(err, pipeline.ErrOverloaded), errors.Is(err, pipeline.ErrStopped):
		w.Header().Set("Retry-After", "1")
		return &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", Message: err.Error()}
	case err != nil:
		return err
	}
	// {"accepted":N}, as WriteJSON writes it, without encoding a map.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	out := make([]byte, 0, 24)
	out = append(out, `{"accepted":`...)
	out = strconv.AppendInt(out, int64(len(res.Events)), 10)
	_, _ = w.Write(append(out, "}\n"...))
	return nil
}

// reserved refuses a delivery with an event only Flywheel may raise: its
// own sources (fleet) and fingerprint namespaces (agent-not-reporting:, …).
// A sender that could post them could fire or resolve what Flywheel
// reports about its own fleet.
func reserved(evs []event.Event) error {
	for i, ev := range evs {
		if event.IsOwn(ev.Source) {
			return BadRequest("event %d: source %q is reserved for Flywheel's own events", i, clipDetail(ev.Source, 80))
		}
		if ns := event.OwnNamespace(ev.Fingerprint); ns != "" {
			return BadRequest("event %d: fingerprint %q is in Flywheel's own namespace %q", i, clipDetail(ev.Fingerprint, 80), ns)
		}
	}
	return nil
}

// readBody reads the request body; with a Content-Length, into a buffer of
// exactly that size (net/http ends the body there, and ServeHTTP has
// refused a length over the limit already).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 {
		return io.ReadAll(r.Body)
	}
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("body ended before its Content-Length (%d bytes)", r.ContentLength)
		}
		return nil, err
	}
	return buf, nil
}

// keptHeader is the header an adapter parses a delivery with, and that is
// stored with it: the kept request headers, and ?mapping= as
// X-Flywheel-Mapping.
func keptHeader(r *http.Request) http.Header {
	if r.URL.RawQuery == "" && r.Header.Get("Content-Type") == "application/json" {
		// A plain JSON delivery, the usual one: nothing else to keep.
		only := true
		for _, k := range keptHeaders[1:] { // [0] is Content-Type
			if r.Header.Get(k) != "" {
				only = false
				break
			}
		}
		if only {
			return jsonOnly
		}
	}
	hdr := http.Header{}
	for _, k := range keptHeaders {
		if v := r.Header.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	if r.URL.RawQuery != "" {
		if m := r.URL.Query().Get("mapping"); m != "" {
			hdr.Set("X-Flywheel-Mapping", m)
		}
	}
	return hdr
}

// jsonOnly is the kept header of a plain JSON delivery; it is shared, and
// nothing may change it.
var jsonOnly = http.Header{"Content-Type": {"application/json"}}

// jsonContentType is the stored header of most deliveries.
var jsonContentType, _ = json.Marshal(map[string]string{"Content-Type": "application/json"})

// headerJSON is the stored form of a delivery's kept headers.
func headerJSON(h http.Header) json.RawMessage {
	if len(h) == 1 && h.Get("Content-Type") == "application/json" {
		return jsonContentType
	}
	b, _ := json.Marshal(flatHeader(h))
	return b
}

func flatHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ",")
	}
	return out
}

// SenderHeader is the stored header naming the token that sent a delivery
// (never taken from the request: keptHeaders does not list it).
const SenderHeader = "X-Flywheel-Sender"

// withSender adds the sender to a delivery's stored header.
func withSender(hb json.RawMessage, sender string) json.RawMessage {
	m := map[string]string{}
	_ = json.Unmarshal(hb, &m)
	m[SenderHeader] = sender
	b, _ := json.Marshal(m)
	return b
}

// HeaderFromJSON rebuilds a stored delivery's header.
func HeaderFromJSON(b json.RawMessage) http.Header {
	h := http.Header{}
	var m map[string]string
	if len(b) > 0 && json.Unmarshal(b, &m) == nil {
		for k, v := range m {
			h.Set(k, v)
		}
	}
	return h
}
