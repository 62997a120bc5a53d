package aws

import (
	"github.com/flywheel-ops/flywheel/internal/provider/aws/awsaccount"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// MaxRegions bounds an account's region list (awsaccount.MaxRegions).
const MaxRegions = awsaccount.MaxRegions

// Validate checks an account as entered by a user (awsaccount.Validate).
func Validate(a store.AWSAccount) error { return awsaccount.Validate(a) }
