package aws_test

import (
	"strings"
	"testing"

	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestValidateAccount(t *testing.T) {
	t.Parallel()
	ok := store.AWSAccount{ID: "123456789012", Regions: []string{"eu-west-1", "us-gov-west-1"},
		RoleARN: "arn:aws:iam::123456789012:role/ops/FlywheelAudit", ExternalID: "msp-7f3a:cust=42"}
	if err := provider.Validate(ok); err != nil {
		t.Fatalf("valid account: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*store.AWSAccount)
		want string
	}{
		{"short id", func(a *store.AWSAccount) { a.ID = "12345" }, `id "12345"`},
		{"no regions", func(a *store.AWSAccount) { a.Regions = nil }, "regions is empty"},
		{"bad region", func(a *store.AWSAccount) { a.Regions = []string{"Europe"} }, `region "Europe"`},
		{"twice", func(a *store.AWSAccount) { a.Regions = []string{"eu-west-1", "eu-west-1"} }, "listed twice"},
		{"role in another account", func(a *store.AWSAccount) { a.RoleARN = "arn:aws:iam::210987654321:role/x" }, "role_arn is in account 210987654321"},
		{"not a role", func(a *store.AWSAccount) { a.RoleARN = "arn:aws:iam::123456789012:user/x" }, "not an IAM role ARN"},
		{"external id alone", func(a *store.AWSAccount) { a.RoleARN = "" }, "external_id needs role_arn"},
		{"external id chars", func(a *store.AWSAccount) { a.ExternalID = "a b" }, "external_id must be"},
		{"profile", func(a *store.AWSAccount) { a.Profile = "../etc" }, `profile "../etc"`},
	} {
		a := ok
		a.Regions = append([]string(nil), ok.Regions...)
		tc.edit(&a)
		err := provider.Validate(a)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
