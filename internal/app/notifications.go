package app

import (
	"fmt"
	"os"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
)

// buildNotifications resolves the configured notification channels (their
// secrets from the environment), refuses content rules that notify a
// channel the server does not have (file:line), keeps library rules that
// do as a setup task for `flywheel doctor` and the UI (not a warning at
// every start: the library is the same on every server), and registers the delivery job. Call it after the job queue is
// made and before buildRunbooks, whose notify steps may name channels.
func (a *App) buildNotifications() error {
	channels, err := notification.Build(a.cfg.Notifications, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("notifications:\n%w", err)
	}
	warnings, err := notification.CheckRules(a.currentContent().Items(rule.KindName), channels)
	if err != nil {
		return fmt.Errorf("content:\n%w", err)
	}
	log := a.log.With("component", "notifications")
	for _, w := range warnings {
		log.Debug("a library rule notifies a channel this server does not have; its notifications are recorded as failed", "problem", w)
	}
	a.checks = append(a.checks, doctor.Notifications(warnings))
	svc := notification.New(notification.Options{Store: a.st, Channels: channels, Settings: a.cfg.Notifications, Logger: log, Clock: a.now,
		Registerer: a.registry, Outbound: a.outbound})
	if err := svc.Register(a.jobs); err != nil {
		return err
	}
	a.notify = appNotifications{channels: channels, svc: svc}
	return nil
}

// appNotifications are the server's notification channels and the
// service that delivers rules' notifications through them.
type appNotifications struct {
	channels map[string]notify.Channel
	svc      *notification.Service
}
