package maintenance

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// MaxTasks bounds a window's tasks.
const MaxTasks = 20

// What a task does at the cutoff, and after it fails.
const (
	CutoffCancel   = "cancel"
	CutoffContinue = "continue"
	FailureStop    = "stop"
	FailureGoOn    = "continue"
)

// Task is a runbook a window runs on each of its targets, as SSM's
// maintenance window tasks: tasks of lower Priority run first, equal
// priorities together; within a task at most MaxConcurrency targets run
// at once, and once more than MaxErrors have failed no more start.
type Task struct {
	Name           string
	Runbook        string
	Parameters     map[string]any
	Priority       int
	MaxConcurrency runbook.Limit
	MaxErrors      runbook.Limit
	// CutoffBehavior: CutoffCancel cancels the task's running targets at
	// the cutoff; CutoffContinue lets them finish.
	CutoffBehavior string
	// OnFailure: FailureStop starts no task of a later priority once this
	// one has failed; FailureGoOn does.
	OnFailure string

	rec store.MaintenanceTask // as given, for Record
}

// Defaults of a task's limits: one target at a time, stop at the first
// error.
var (
	DefaultTaskConcurrency = runbook.Limit{N: 1}
	DefaultTaskErrors      = runbook.Limit{N: 0}
)

func tasksFromRecord(recs []store.MaintenanceTask) ([]Task, error) {
	var out []Task
	var errs []error
	for i, r := range recs {
		path := fmt.Sprintf("tasks[%d]", i)
		t := Task{Name: r.Name, Runbook: strings.TrimSpace(r.Runbook), Parameters: r.Parameters, Priority: r.Priority,
			CutoffBehavior: r.CutoffBehavior, OnFailure: r.OnFailure, rec: r}
		if t.Name == "" {
			t.Name = t.Runbook
		}
		if t.CutoffBehavior == "" {
			t.CutoffBehavior = CutoffContinue
		}
		if t.OnFailure == "" {
			t.OnFailure = FailureStop
		}
		var err error
		if t.MaxConcurrency, err = runbook.ParseLimit(r.MaxConcurrency, DefaultTaskConcurrency, false); err != nil {
			errs = append(errs, fmt.Errorf("%s.max_concurrency: %w", path, err))
		}
		if t.MaxErrors, err = runbook.ParseLimit(r.MaxErrors, DefaultTaskErrors, true); err != nil {
			errs = append(errs, fmt.Errorf("%s.max_errors: %w", path, err))
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

func validateTasks(tasks []Task) []error {
	var errs []error
	if len(tasks) > MaxTasks {
		errs = append(errs, fmt.Errorf("tasks: %d tasks; at most %d", len(tasks), MaxTasks))
	}
	names := map[string]int{}
	for i, t := range tasks {
		path := fmt.Sprintf("tasks[%d]", i)
		if t.Runbook == "" {
			errs = append(errs, fmt.Errorf("%s.runbook: is required", path))
		}
		if j, dup := names[t.Name]; dup && t.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q is also tasks[%d]'s name; give each task its own name", path, t.Name, j))
		}
		names[t.Name] = i
		if len(t.Name) > 128 || strings.ContainsFunc(t.Name, func(r rune) bool { return r < ' ' }) {
			errs = append(errs, fmt.Errorf("%s.name: %q is longer than 128 characters or has control characters", path, t.Name))
		}
		if t.Priority < 0 || t.Priority > 1000 {
			errs = append(errs, fmt.Errorf("%s.priority: %d is out of range 0..1000", path, t.Priority))
		}
		if t.CutoffBehavior != CutoffCancel && t.CutoffBehavior != CutoffContinue {
			errs = append(errs, fmt.Errorf("%s.cutoff_behavior: %q is not cancel or continue", path, t.CutoffBehavior))
		}
		if t.OnFailure != FailureStop && t.OnFailure != FailureGoOn {
			errs = append(errs, fmt.Errorf("%s.on_failure: %q is not stop or continue", path, t.OnFailure))
		}
	}
	return errs
}

func tasksRecord(tasks []Task) []store.MaintenanceTask {
	if len(tasks) == 0 {
		return nil
	}
	out := make([]store.MaintenanceTask, len(tasks))
	for i, t := range tasks {
		r := t.rec
		r.Runbook, r.Parameters = t.Runbook, maps.Clone(t.Parameters)
		out[i] = r
	}
	return out
}
