package faults

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// rrProxy is a small round-robin load balancer in front of the replicas,
// as a user would put one: each request goes to the next replica; one that
// refuses the connection (down) is skipped for the next, so a request
// reaches a live replica; a request cut in flight is answered 502 and is
// the sender's to retry.
type rrProxy struct {
	backends []string
	next     atomic.Uint64
	client   *http.Client

	mu     sync.Mutex
	agents map[string]int // agent requests served, by replica address
}

func newProxy(backends []string) *rrProxy {
	return &rrProxy{backends: backends, agents: map[string]int{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}}}
}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for range p.backends {
		b := p.backends[p.next.Add(1)%uint64(len(p.backends))]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+b+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := p.client.Do(req)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/v1/agent/") {
			p.mu.Lock()
			p.agents[b]++
			p.mu.Unlock()
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no replica answers", http.StatusServiceUnavailable)
}

// agentServers returns how many agent requests each replica served.
func (p *rrProxy) agentServers() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]int, len(p.agents))
	for k, v := range p.agents {
		m[k] = v
	}
	return m
}
