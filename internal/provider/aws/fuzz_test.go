package aws

import (
	"regexp"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// FuzzValidate: an account as a user enters it (API body, CLI flags) is
// accepted only with a 12-digit ID and named regions, and never panics.
func FuzzValidate(f *testing.F) {
	f.Add("123456789012", "eu-west-1", "", "arn:aws:iam::123456789012:role/Flywheel", "ext-1")
	f.Add("12345", "Ireland", "../x", "arn:aws:iam::210987654321:user/x", "a b")
	f.Add("123456789012", "us-gov-west-1", "ops", "", "")
	twelve := regexp.MustCompile(`^[0-9]{12}$`)
	f.Fuzz(func(t *testing.T, id, region, profile, role, ext string) {
		a := store.AWSAccount{ID: id, Regions: strings.Split(region, ","), Profile: profile, RoleARN: role, ExternalID: ext}
		if Validate(a) == nil && !twelve.MatchString(id) {
			t.Errorf("accepted id %q", id)
		}
	})
}

// FuzzParseCredentialReport: whatever the report holds, parsing returns
// rows keyed by their user column or an error, and never panics.
func FuzzParseCredentialReport(f *testing.F) {
	f.Add([]byte("user,arn,mfa_active\n<root_account>,arn:aws:iam::123456789012:root,true\nalice,arn:aws:iam::123456789012:user/alice,false\n"))
	f.Add([]byte("user\n\"unterminated\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parseCredentialReport(b)
		if err != nil {
			return
		}
		for user, row := range rows {
			if row["user"] != user {
				t.Errorf("row %v under %q", row, user)
			}
		}
	})
}
