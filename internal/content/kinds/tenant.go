package kinds

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// TenantKind is the kind name of tenant declarations.
const TenantKind = "Tenant"

// TenantSpec declares that a tenant (a customer) exists, so an MSP can keep
// its customer list in git next to the content that serves each customer.
type TenantSpec struct {
	// DisplayName is how people see the tenant: "ACME Corp".
	DisplayName string `yaml:"display_name"`
	// Description is free text: contract, contacts, notes.
	Description string `yaml:"description"`
}

// Tenant returns the Tenant kind.
func Tenant() content.Kind {
	return content.Kind{
		Name: TenantKind,
		New:  func() any { return new(TenantSpec) },
		Validate: func(spec any) error {
			s := spec.(*TenantSpec)
			if strings.TrimSpace(s.DisplayName) == "" {
				return content.FieldErrorf("display_name", "is required")
			}
			return nil
		},
	}
}

// checkTenantsUnscoped rejects a Tenant that names a tenant of its own.
// It is a set check only because Kind.Validate sees the spec, not metadata.
func checkTenantsUnscoped(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(TenantKind) {
		if it.Tenant != "" {
			errs = append(errs, &content.Error{Origin: it.Origin,
				Msg: fmt.Sprintf("Tenant %q: metadata.tenant must be empty (a tenant does not belong to a tenant)", it.Name)})
		}
	}
	return errors.Join(errs...)
}

// CheckTenantRefs checks every item's metadata.tenant against the Tenant
// documents in the set: a misspelt tenant would otherwise make a rule apply
// to nobody. Register it (reg.RegisterCheck) only where every tenant is
// declared in content; tenants can also be created through the API
// (`flywheel tenant create`), which offline validation cannot see, so
// Register leaves it out and the server checks references against the
// store instead.
func CheckTenantRefs(set *content.Set) error {
	var errs []error
	for _, kind := range set.Kinds() {
		if kind == TenantKind {
			continue
		}
		for _, it := range set.Items(kind) {
			if it.Tenant != "" && !set.Defined(TenantKind, it.Tenant) {
				errs = append(errs, &content.Error{Origin: it.Origin,
					Msg: fmt.Sprintf("%s %q: metadata.tenant %q is not a declared Tenant%s", kind, it.Name, it.Tenant, known(set))})
			}
		}
	}
	return errors.Join(errs...)
}

func known(set *content.Set) string {
	const show = 10
	var names []string
	for _, t := range set.Items(TenantKind) {
		names = append(names, t.Name)
	}
	switch {
	case len(names) == 0:
		return ""
	case len(names) > show:
		return fmt.Sprintf(" (declared: %s, and %d more)", strings.Join(names[:show], ", "), len(names)-show)
	}
	return " (declared: " + strings.Join(names, ", ") + ")"
}
