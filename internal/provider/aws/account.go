// Package aws is Flywheel's AWS provider: the accounts of each tenant and
// how credentials for them are made (Factory), and the inventory of their
// resources as store.Resource rows typed with AWS Config's resource type
// names (Inventory).
//
// Every AWS client Flywheel builds — inventory here, remediation steps in
// internal/runbook/action/aws — gets its aws.Config from a Factory, so
// credentials, retries and (in tests) the placebo replay are set in one
// place.
package aws

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleARNRe   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	profileRe   = regexp.MustCompile(`^[\w.+@-]{1,64}$`)
	// externalIDRe is IAM's pattern for sts:ExternalId.
	externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// MaxRegions bounds an account's region list.
const MaxRegions = 32

// Validate checks an account as entered by a user; each error names the
// field.
func Validate(a store.AWSAccount) error {
	var errs []string
	if !accountIDRe.MatchString(a.ID) {
		errs = append(errs, fmt.Sprintf("id %q is not a 12-digit AWS account ID", a.ID))
	}
	if len(a.Name) > 128 {
		errs = append(errs, "name is longer than 128 characters")
	}
	if len(a.Regions) == 0 {
		errs = append(errs, "regions is empty")
	}
	if len(a.Regions) > MaxRegions {
		errs = append(errs, fmt.Sprintf("regions has %d entries, more than %d", len(a.Regions), MaxRegions))
	}
	seen := map[string]bool{}
	for _, r := range a.Regions {
		if !regionRe.MatchString(r) {
			errs = append(errs, fmt.Sprintf("region %q is not an AWS region name", r))
		}
		if seen[r] {
			errs = append(errs, fmt.Sprintf("region %q is listed twice", r))
		}
		seen[r] = true
	}
	if a.Profile != "" && !profileRe.MatchString(a.Profile) {
		errs = append(errs, fmt.Sprintf("profile %q is not a profile name", a.Profile))
	}
	if a.RoleARN != "" {
		if !roleARNRe.MatchString(a.RoleARN) {
			errs = append(errs, fmt.Sprintf("role_arn %q is not an IAM role ARN", a.RoleARN))
		} else if id := strings.Split(a.RoleARN, ":")[4]; accountIDRe.MatchString(a.ID) && id != a.ID {
			errs = append(errs, fmt.Sprintf("role_arn is in account %s, not %s", id, a.ID))
		}
	}
	if a.ExternalID != "" {
		if a.RoleARN == "" {
			errs = append(errs, "external_id needs role_arn")
		}
		if len(a.ExternalID) < 2 || len(a.ExternalID) > 1224 || !externalIDRe.MatchString(a.ExternalID) {
			errs = append(errs, "external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-_")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("aws account: %s", strings.Join(errs, "; "))
	}
	return nil
}
