package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/awsaccount"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// AWSInventory reads an AWS account's resources into the store;
// *aws.Inventory (internal/provider/aws) is one.
type AWSInventory interface {
	Sync(ctx context.Context, st store.Store, a store.AWSAccount) (awsaccount.Diff, error)
}

func (s *Server) registerAWS(inv AWSInventory) {
	s.aws = inv
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/aws/accounts", MinRole: store.RoleViewer}, s.listAWSAccounts)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/aws/accounts/{id}", MinRole: store.RoleViewer}, tenantGet(s, "aws account", s.st.GetAWSAccount, awsAccountView))
	s.Handle(Route{Method: "PUT", Pattern: "/api/v1/aws/accounts/{id}", MinRole: store.RoleAdmin}, s.putAWSAccount)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/aws/accounts/{id}", MinRole: store.RoleAdmin}, s.deleteAWSAccount)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/aws/accounts/{id}/inventory", MinRole: store.RoleOperator}, s.runAWSInventory)
}

// AWSAccountInput is the body of PUT /api/v1/aws/accounts/{id}.
type AWSAccountInput struct {
	Name       string   `json:"name"`
	Regions    []string `json:"regions"`
	Profile    string   `json:"profile"`
	RoleARN    string   `json:"role_arn"`
	ExternalID string   `json:"external_id"`
}

// AWSAccount is an account as the API shows it: the external ID is
// write-only (whether one is set shows).
type AWSAccount struct {
	store.AWSAccount
	ExternalID    string `json:"external_id,omitempty"`
	ExternalIDSet bool   `json:"external_id_set"`
}

func awsAccountView(a store.AWSAccount) AWSAccount {
	return AWSAccount{AWSAccount: a, ExternalIDSet: a.ExternalID != ""}
}

func (s *Server) listAWSAccounts(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListAWSAccounts(r.Context(), tenant, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(a store.AWSAccount) string { return a.ID }, awsAccountView)
}

func (s *Server) putAWSAccount(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	var in AWSAccountInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	now := s.now()
	a := store.AWSAccount{TenantID: tenant, ID: id, Name: in.Name, Regions: in.Regions, Profile: in.Profile,
		RoleARN: in.RoleARN, ExternalID: in.ExternalID, CreatedAt: now, UpdatedAt: now}
	if err := awsaccount.Validate(a); err != nil {
		return BadRequest("%s", errLine(err))
	}
	status := http.StatusOK
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		old, err := tx.GetAWSAccount(ctx, tenant, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			status = http.StatusCreated
		case err != nil:
			return audit.Entry{}, err
		default:
			a.CreatedAt, a.Inventory = old.CreatedAt, old.Inventory
		}
		if err := tx.PutAWSAccount(ctx, a); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "aws_account.put", Target: "aws_account/" + id, Detail: map[string]any{
			"name": a.Name, "regions": a.Regions, "profile": a.Profile, "role_arn": a.RoleARN, "external_id_set": a.ExternalID != ""}}, nil
	})
	if err != nil {
		return err
	}
	WriteJSON(w, status, awsAccountView(a))
	return nil
}

func (s *Server) deleteAWSAccount(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.DeleteAWSAccount(ctx, tenant, id); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "aws_account.delete", Target: "aws_account/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("aws account %q not found", id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// runAWSInventory reads the account now and answers what changed.
func (s *Server) runAWSInventory(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	a, err := s.st.GetAWSAccount(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("aws account %q not found", id)
	}
	if err != nil {
		return err
	}
	if s.aws == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "this server does not read AWS accounts"}
	}
	var d awsaccount.Diff
	err = s.Mutate(r, tenant, func(context.Context, store.Tx) (audit.Entry, error) {
		return audit.Entry{Action: "aws_account.inventory", Target: "aws_account/" + id}, nil
	})
	if err != nil {
		return err
	}
	if d, err = s.aws.Sync(r.Context(), s.st, a); err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "aws_inventory_failed", Message: "the inventory of account " + id + " failed: " + clipDetail(errLine(err), 500)}
	}
	WriteJSON(w, http.StatusOK, d)
	return nil
}
