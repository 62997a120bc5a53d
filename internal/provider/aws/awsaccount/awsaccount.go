// Package awsaccount is what the API needs of an AWS account without the
// AWS SDK: checking an account as a user enters it, and the shape of an
// inventory's outcome (Diff). The provider (internal/provider/aws) builds
// on it; the API imports only this, so it links no cloud SDK.
package awsaccount

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

// Diff is what an inventory changed in the store: resources added,
// changed and removed (by ID), and how many were read unchanged. The
// compliance evaluation re-checks the added and changed ones.
type Diff struct {
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Removed   []string `json:"removed"`
	Unchanged int      `json:"unchanged"`
	// Errors are the calls that failed (their types were kept as they
	// were).
	Errors []string `json:"errors,omitempty"`
}
