package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testAWSAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	a := store.AWSAccount{TenantID: "acme", ID: "123456789012", Name: "prod", Regions: []string{"eu-west-1", "us-east-1"},
		RoleARN: "arn:aws:iam::123456789012:role/Flywheel", ExternalID: "ext-1", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutAWSAccount(ctx, a) })
	got, err := s.GetAWSAccount(ctx, "acme", a.ID)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetAWSAccount = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.GetAWSAccount(ctx, "globex", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's account: %v, want ErrNotFound", err)
	}

	// Replacing keeps the creation time and the inventory status.
	status := store.AWSInventoryStatus{At: t0.Add(time.Minute), Resources: 3, Error: "AWS::RDS::DBInstance in eu-west-1: AccessDenied"}
	mustTx(t, s, func(tx store.Tx) error { return tx.SetAWSInventoryStatus(ctx, "acme", a.ID, status) })
	b := a
	b.Name, b.Regions, b.RoleARN, b.ExternalID, b.Profile = "production", []string{"eu-west-2"}, "", "", "ops"
	b.CreatedAt, b.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	mustTx(t, s, func(tx store.Tx) error { return tx.PutAWSAccount(ctx, b) })
	got, _ = s.GetAWSAccount(ctx, "acme", a.ID)
	want := b
	want.CreatedAt, want.Inventory = t0, status
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after replace %+v, want %+v", got, want)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.SetAWSInventoryStatus(ctx, "globex", a.ID, status) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of another tenant's account: %v", err)
	}
	list, _, err := s.ListAWSAccounts(ctx, "acme", store.Page{Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("ListAWSAccounts = %+v, %v", list, err)
	}

	// Resources the inventory wrote are tracked, and deleted with it.
	res := []store.Resource{
		{ID: "arn:aws:s3:::acme-logs", TenantID: "acme", Type: "AWS::S3::Bucket", Name: "acme-logs", Config: []byte(`{"Name":"acme-logs"}`), CreatedAt: t0, UpdatedAt: t0},
		{ID: "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1", TenantID: "acme", Type: "AWS::EC2::VPC", Name: "vpc-1", Config: []byte(`{}`), CreatedAt: t0, UpdatedAt: t0},
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, r := range res {
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
			if err := tx.SetAWSAccountResource(ctx, "acme", a.ID, r.ID, store.AWSResourceState{Type: r.Type, Hash: "h-" + r.Name}); err != nil {
				return err
			}
		}
		return nil
	})
	states, err := s.AWSAccountResources(ctx, "acme", a.ID)
	wantStates := map[string]store.AWSResourceState{res[0].ID: {Type: "AWS::S3::Bucket", Hash: "h-acme-logs"}, res[1].ID: {Type: "AWS::EC2::VPC", Hash: "h-vpc-1"}}
	if err != nil || !reflect.DeepEqual(states, wantStates) {
		t.Errorf("AWSAccountResources = %v, %v", states, err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteAWSAccountResources(ctx, "acme", a.ID, []string{res[1].ID}) })
	if _, err := s.GetResource(ctx, "acme", res[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted resource: %v", err)
	}
	if states, _ := s.AWSAccountResources(ctx, "acme", a.ID); len(states) != 1 {
		t.Errorf("states after delete = %v", states)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteAWSAccount(ctx, "globex", a.ID) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another tenant's account: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteAWSAccount(ctx, "acme", a.ID) })
	if _, err := s.GetResource(ctx, "acme", res[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted account's resource: %v", err)
	}
	if states, _ := s.AWSAccountResources(ctx, "acme", a.ID); len(states) != 0 {
		t.Errorf("states after account delete = %v", states)
	}
}
