package fleet

import "sync"

// hub wakes waiting long-polls when work is queued for their agent on this
// replica, and waiting dispatchers when a command's result arrives. Work
// queued on another replica is found by the long-poll's periodic recheck.
type hub struct {
	mu       sync.Mutex
	agents   map[string]map[chan struct{}]struct{}
	commands map[string]map[chan struct{}]struct{}
	closed   chan struct{}
	once     sync.Once
	// delivered remembers cancellations already handed to an agent, so a
	// command being killed does not wake every poll until its result
	// arrives.
	delivered map[string]map[string]bool
	// instances holds each agent's current process instance, as its polls
	// on this replica last announced it.
	instances map[string]string
}

func newHub() *hub {
	return &hub{agents: map[string]map[chan struct{}]struct{}{}, commands: map[string]map[chan struct{}]struct{}{},
		closed: make(chan struct{}), delivered: map[string]map[string]bool{},
		instances: map[string]string{}}
}

func subscribe(m map[string]map[chan struct{}]struct{}, key string) chan struct{} {
	ch := make(chan struct{}, 1)
	if m[key] == nil {
		m[key] = map[chan struct{}]struct{}{}
	}
	m[key][ch] = struct{}{}
	return ch
}

func unsubscribe(m map[string]map[chan struct{}]struct{}, key string, ch chan struct{}) {
	delete(m[key], ch)
	if len(m[key]) == 0 {
		delete(m, key)
	}
}

func wake(m map[string]map[chan struct{}]struct{}, key string) {
	for ch := range m[key] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// watchAgent returns a channel signalled when agent has new work, and its
// cancel function.
func (h *hub) watchAgent(agent string) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := subscribe(h.agents, agent)
	return ch, func() {
		h.mu.Lock()
		unsubscribe(h.agents, agent, ch)
		h.mu.Unlock()
	}
}

func (h *hub) wakeAgent(agent string) {
	h.mu.Lock()
	wake(h.agents, agent)
	h.mu.Unlock()
}

// watchCommand returns a channel signalled when command ends.
func (h *hub) watchCommand(id string) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := subscribe(h.commands, id)
	return ch, func() {
		h.mu.Lock()
		unsubscribe(h.commands, id, ch)
		h.mu.Unlock()
	}
}

func (h *hub) commandEnded(id string) {
	h.mu.Lock()
	wake(h.commands, id)
	h.mu.Unlock()
}

// undelivered returns the cancellations of ids not yet handed to agent, and
// marks them handed; it forgets those no longer requested.
func (h *hub) undelivered(agent string, ids []string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.delivered[agent]
	next := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !prev[id] {
			out = append(out, id)
		}
		next[id] = true
	}
	if len(next) == 0 {
		delete(h.delivered, agent)
	} else {
		h.delivered[agent] = next
	}
	return out
}

// current reports whether instance is agent's current process. A first
// poll (or the first one this replica sees) makes its instance current and
// wakes the polls of older instances, which then end. An empty instance
// (an agent that does not send one) is always current.
func (h *hub) current(agent, instance string, first bool) bool {
	if instance == "" {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, known := h.instances[agent]
	switch {
	case cur == instance:
		return true
	case first || !known:
		h.instances[agent] = instance
		wake(h.agents, agent)
		return true
	}
	return false
}

// polling reports whether agent has a poll waiting and instance (unless
// "") is its current process.
func (h *hub) polling(agent, instance string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.agents[agent]) > 0 && (instance == "" || h.instances[agent] == instance)
}

// release ends every wait: the server is stopping.
func (h *hub) release() { h.once.Do(func() { close(h.closed) }) }

func (h *hub) done() <-chan struct{} { return h.closed }
