// Package registry is the one place that lists Flywheel's intake adapters
// and builds them from configuration. Adding a source means adding its
// package under intake/ and one line here.
package registry

import (
	"fmt"
	"sort"
	"time"

	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/alertmanager"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/intake/sns"
)

// Config carries what adapters need.
type Config struct {
	// SNS configures the SNS adapter (allowed topics, certificate hosts).
	SNS sns.Config
	// Mappings are the user-defined generic JSON mappings.
	Mappings []generic.Mapping
	Clock    func() time.Time
}

// noTopic is an ARN no real topic has.
const noTopic = "arn:aws:sns:none:000000000000:no-topic-is-allow-listed"

// Registry holds the adapters by name.
type Registry struct {
	byName map[string]intake.Adapter
}

// New builds every adapter.
func New(cfg Config) (*Registry, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	gen, err := generic.NewFromConfig(generic.Config{Mappings: cfg.Mappings, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("generic intake mappings: %w", err)
	}
	snsCfg := cfg.SNS
	if len(snsCfg.AllowedTopics) == 0 {
		// No topic configured (FLYWHEEL_SNS_TOPICS): the endpoint exists but
		// refuses every topic, answering 403 "not allow-listed".
		snsCfg.AllowedTopics = []string{noTopic}
	}
	if snsCfg.Clock == nil {
		snsCfg.Clock = cfg.Clock
	}
	snsAd, err := sns.New(snsCfg)
	if err != nil {
		return nil, fmt.Errorf("sns intake: %w", err)
	}
	r := &Registry{byName: map[string]intake.Adapter{}}
	for _, a := range []intake.Adapter{
		alertmanager.NewWebhook(alertmanager.WithClock(cfg.Clock)),
		alertmanager.NewAPIv2(alertmanager.WithClock(cfg.Clock)),
		eventbridge.New(),
		snsAd,
		gen,
	} {
		r.byName[a.Name()] = a
	}
	return r, nil
}

// Adapter returns the adapter for a source name.
func (r *Registry) Adapter(name string) (intake.Adapter, bool) {
	a, ok := r.byName[name]
	return a, ok
}

// Names lists the adapter names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
