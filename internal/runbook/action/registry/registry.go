// Package registry is the one place that lists the runbook step actions that
// do I/O (exec, http, notify, aws, patch, backup), built from the server's options. The
// runbook loader validates steps against it and the executor runs them
// through it; control-flow steps (sleep, wait_for, approve, branch, assert,
// collect, runbook, opsitem) belong to the executor and are not here.
package registry

import (
	"fmt"
	nethttp "net/http"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/backup"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/http"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/patch"
)

// Options configure every action.
type Options struct {
	Exec exec.Options
	// HTTPClient is shared by http and notify's webhooks. Nil: Outbound's
	// client.
	HTTPClient *nethttp.Client
	// Outbound is the server's outbound guard (outbound_allow); nil
	// refuses every loopback, private and link-local address.
	Outbound *outbound.Guard
	// SMTP is the server's mail settings for notify's email channel.
	SMTP notify.SMTPOptions
	// Channels are the server's named notification channels; with
	// ChannelsKnown a notify step naming another is refused at load.
	Channels      map[string]notify.Channel
	ChannelsKnown bool
	// AWS configures the aws action (credentials; default chain if unset).
	AWS aws.Options
	// Patch configures the patch action (its dispatcher defaults to
	// Exec's).
	Patch patch.Options
	// Backup configures the backup action (the server's backup service).
	Backup backup.Options
}

// Registry holds the I/O actions by name.
type Registry struct {
	actions map[string]action.Action
}

// New builds every I/O action from o.
func New(o Options) *Registry {
	client := o.HTTPClient
	if client == nil {
		client = o.Outbound.Client()
	}
	r := &Registry{actions: map[string]action.Action{}}
	for _, a := range []action.Action{
		aws.New(o.AWS),
		backup.New(o.Backup),
		exec.New(o.Exec),
		http.New(http.Options{Client: client}),
		notify.New(notify.Options{HTTPClient: client, SMTP: o.SMTP, Channels: o.Channels, ChannelsKnown: o.ChannelsKnown}),
		patch.New(patchOptions(o)),
	} {
		if _, dup := r.actions[a.Name()]; dup {
			panic("registry: two actions named " + a.Name())
		}
		r.actions[a.Name()] = a
	}
	return r
}

func patchOptions(o Options) patch.Options {
	p := o.Patch
	if p.Dispatcher == nil {
		p.Dispatcher = o.Exec.Dispatcher
	}
	return p
}

// Get returns the action a step names.
func (r *Registry) Get(name string) (action.Action, bool) {
	a, ok := r.actions[name]
	return a, ok
}

// Names lists the actions, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.actions))
	for n := range r.actions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Validate checks a step's inputs against the action it names.
func (r *Registry) Validate(name string, with map[string]any) error {
	a, ok := r.Get(name)
	if !ok {
		return fmt.Errorf("action %q is not an I/O action (%s)", name, strings.Join(r.Names(), ", "))
	}
	if err := a.Validate(with); err != nil {
		return fmt.Errorf("action %s: %w", name, err)
	}
	return nil
}
