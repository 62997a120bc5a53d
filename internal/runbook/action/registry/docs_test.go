package registry_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

const docPage = "../../../../docs/runbook-actions.md"

// TestDocExamples checks every example of docs/runbook-actions.md: each
// list of steps has its with: inputs validated by the action it names, and
// a whole Runbook loads through the content loader with the registry's
// actions, as the server loads it. Every action has an example. The server
// has SMTP settings, as the email example assumes.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	reg := registry.New(registry.Options{SMTP: notify.SMTPOptions{Host: "smtp.example.com", From: "flywheel@example.com"}})
	shown := map[string]bool{}
	runbooks := 0
	for _, f := range mdtest.Blocks(t, docPage) {
		if f.Lang != "yaml" {
			continue
		}
		if strings.HasPrefix(f.Text(), "apiVersion:") {
			runbooks++
			kinds := content.NewRegistry()
			kinds.Register(runbook.Kind(reg.Get))
			kinds.RegisterCheck(runbook.CheckRefs)
			set, err := content.Load(kinds, content.Source{Name: "docs", FS: fstest.MapFS{"runbooks/example.yaml": {Data: []byte(f.Text())}}})
			if err != nil {
				t.Errorf("%s:%d: the runbook does not load:\n%v", docPage, f.Line, err)
				continue
			}
			if _, err := runbook.NewLibrary(set, reg.Get); err != nil {
				t.Errorf("%s:%d: %v", docPage, f.Line, err)
			}
			continue
		}
		var steps []struct {
			Name   string         `yaml:"name"`
			Action string         `yaml:"action"`
			With   map[string]any `yaml:"with"`
		}
		if err := yaml.Unmarshal([]byte(f.Text()), &steps); err != nil {
			t.Errorf("%s:%d: not a list of steps: %v", docPage, f.Line, err)
			continue
		}
		for _, s := range steps {
			shown[s.Action] = true
			if err := reg.Validate(s.Action, s.With); err != nil {
				t.Errorf("%s:%d: step %s: %v", docPage, f.Line, s.Name, err)
			}
		}
	}
	for _, name := range reg.Names() {
		if !shown[name] {
			t.Errorf("%s has no example step for %s", docPage, name)
		}
	}
	if runbooks == 0 {
		t.Errorf("%s has no whole runbook", docPage)
	}
}

// An error in a step's inputs points at the input's own line.
func TestInputErrorLine(t *testing.T) {
	t.Parallel()
	reg := registry.New(registry.Options{})
	kinds := content.NewRegistry()
	kinds.Register(runbook.Kind(reg.Get))
	doc := `apiVersion: flywheel/v1
kind: Runbook
metadata:
  name: broken
spec:
  version: 1
  steps:
    - name: probe
      action: http
      with:
        url: https://example.com/healthz
        timeout: 30
`
	_, err := content.Load(kinds, content.Source{Name: "ops", FS: fstest.MapFS{"runbooks/broken.yaml": {Data: []byte(doc)}}})
	if err == nil || !strings.Contains(err.Error(), "ops/runbooks/broken.yaml:12") || !strings.Contains(err.Error(), "steps[0].with.timeout: 30 is not a duration") {
		t.Errorf("err = %v", err)
	}
}
