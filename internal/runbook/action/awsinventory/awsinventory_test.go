package awsinventory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/awsinventory"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var asked string
	a := awsinventory.New(awsinventory.Options{Sync: func(_ context.Context, tenant, account string) (awsinventory.Result, error) {
		asked = tenant + "/" + account
		if account == "210987654321" {
			return awsinventory.Result{}, errors.New("aws account 210987654321: not found")
		}
		var added []string
		for i := range 150 {
			added = append(added, fmt.Sprintf("arn:aws:s3:::b%d", i))
		}
		return awsinventory.Result{Added: added, Changed: []string{"x"}, Unchanged: 7, Errors: []string{"AWS::RDS::DBInstance in eu-west-1: AccessDenied"}}, nil
	}})
	out, err := a.Run(t.Context(), action.Input{TenantID: "acme", With: map[string]any{"account": "123456789012"}})
	if err != nil {
		t.Fatal(err)
	}
	if asked != "acme/123456789012" {
		t.Errorf("synced %q", asked)
	}
	v := out.Values
	if v["added"] != int64(150) || v["changed"] != int64(1) || v["removed"] != int64(0) || v["unchanged"] != int64(7) ||
		len(v["changed_ids"].([]any)) != 100 || len(v["errors"].([]any)) != 1 {
		t.Errorf("outputs %v", v)
	}
	if _, err := a.Run(t.Context(), action.Input{TenantID: "acme", With: map[string]any{"account": "210987654321"}}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown account: %v", err)
	}
	if err := a.Validate(map[string]any{"account": "12"}); err == nil || !strings.Contains(err.Error(), "12-digit") {
		t.Errorf("Validate(12) = %v", err)
	}
	if err := a.Validate(map[string]any{}); err == nil {
		t.Error("Validate without account passed")
	}
	if _, err := awsinventory.New(awsinventory.Options{}).Run(t.Context(), action.Input{With: map[string]any{"account": "123456789012"}}); err == nil ||
		!strings.Contains(err.Error(), "does not read AWS accounts") {
		t.Errorf("no Sync: %v", err)
	}
}
