package app

import (
	"io"
	"net/http"
	"time"
)

// Connection bounds (docs/hardening.md). The header has ReadHeaderTimeout;
// a request's body must arrive within BodyTimeout of the handler starting;
// a response must be written within writeTimeout (streams that live longer,
// the UI's live updates, lift it themselves); an idle keep-alive
// connection is closed after idleTimeout.
const (
	readHeaderTimeout  = 10 * time.Second
	defaultBodyTimeout = time.Minute
	writeTimeout       = 5 * time.Minute
	idleTimeout        = 2 * time.Minute
)

// withDeadlines sets each request's read deadline for its body and its
// write deadline. Unlike http.Server's ReadTimeout, the read deadline is
// lifted once the body is read, so a long-poll or a live stream is not cut
// (the server's connection reader would cancel its context).
func withDeadlines(h http.Handler, body time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if r.Body != nil && r.Body != http.NoBody {
			if err := rc.SetReadDeadline(time.Now().Add(body)); err == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body is read to its end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
