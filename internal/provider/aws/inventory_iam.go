package aws

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// supportPolicyARN is the AWS managed policy CIS 1.17 looks for.
const supportPolicyARN = "arn:aws:iam::aws:policy/AWSSupportAccess"

// readIAM reads the account's identity facts (account summary, password
// policy, virtual MFA devices, credential report, support role, server
// certificates), its users with their access keys, and the managed
// policies attached to someone.
func (c *collection) readIAM(ctx context.Context, cfg sdkaws.Config) error {
	cl := iam.NewFromConfig(cfg)
	r := cfg.Region

	if out, err := cl.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
		c.fail(TypeAccount, r, "GetAccountSummary", err)
	} else {
		c.facts["AccountSummary"] = out.SummaryMap
	}
	switch out, err := cl.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{}); {
	case err == nil:
		c.facts["PasswordPolicy"] = out.PasswordPolicy
	case errorCode(err) == "NoSuchEntity": // no policy: absent
	default:
		c.fail(TypeAccount, r, "GetAccountPasswordPolicy", err)
	}
	mfa := iam.NewListVirtualMFADevicesPaginator(cl, &iam.ListVirtualMFADevicesInput{})
	devices := []types.VirtualMFADevice{}
	for mfa.HasMorePages() {
		page, err := mfa.NextPage(ctx)
		if err != nil {
			c.fail(TypeAccount, r, "ListVirtualMFADevices", err)
			devices = nil
			break
		}
		devices = append(devices, page.VirtualMFADevices...)
	}
	if devices != nil {
		c.facts["VirtualMFADevices"] = devices
	}
	if out, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: sdkaws.String(supportPolicyARN)}); err != nil {
		c.fail(TypeAccount, r, "ListEntitiesForPolicy AWSSupportAccess", err)
	} else {
		c.facts["AWSSupportAccess"] = map[string]any{"PolicyUsers": out.PolicyUsers, "PolicyGroups": out.PolicyGroups, "PolicyRoles": out.PolicyRoles}
	}
	if out, err := cl.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{}); err != nil {
		c.fail(TypeAccount, r, "ListServerCertificates", err)
	} else {
		expired := []string{}
		for _, m := range out.ServerCertificateMetadataList {
			if m.Expiration != nil && m.Expiration.Before(c.now) {
				expired = append(expired, sdkaws.ToString(m.ServerCertificateName))
			}
		}
		c.facts["ServerCertificateMetadataList"] = out.ServerCertificateMetadataList
		c.facts["ExpiredServerCertificates"] = expired
	}

	report, err := credentialReport(ctx, cl)
	if err != nil {
		c.fail(TypeAccount, r, "credential report", err)
		c.fail(TypeUser, r, "credential report", err)
	}
	if root, ok := report["<root_account>"]; ok {
		c.facts["CredentialReport"] = root
		c.facts["RootLastUsedDays"] = c.lastUsedDays(root["password_last_used"], root["access_key_1_last_used_date"], root["access_key_2_last_used_date"])
	}
	if err := c.readUsers(ctx, cl, r, report); err != nil {
		return err
	}
	return c.readPolicies(ctx, cl, r)
}

// readUsers reads users (with their groups, attached and inline policies
// and tags, in one paginated call), their access keys and each key's last
// use, and their credential report row.
func (c *collection) readUsers(ctx context.Context, cl *iam.Client, r string, report map[string]map[string]string) error {
	details := iam.NewGetAccountAuthorizationDetailsPaginator(cl, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeUser}})
	for details.HasMorePages() {
		page, err := details.NextPage(ctx)
		if err != nil {
			c.fail(TypeUser, r, "GetAccountAuthorizationDetails", err)
			return nil
		}
		for _, u := range page.UserDetailList {
			name := sdkaws.ToString(u.UserName)
			keys, err := c.accessKeys(ctx, cl, name)
			if err != nil {
				c.fail(TypeUser, r, "access keys of "+name, err)
				continue
			}
			extra := map[string]any{"AccessKeys": keys}
			if row, ok := report[name]; ok {
				extra["CredentialReport"] = row
				extra["PasswordEnabled"] = row["password_enabled"] == "true"
				extra["MfaActive"] = row["mfa_active"] == "true"
				extra["PasswordLastUsedDays"] = c.lastUsedDays(row["password_last_used"])
				if t, ok := reportTime(row["user_creation_time"]); ok {
					extra["AgeDays"] = c.days(&t)
				}
			}
			m, err := merge(u, extra)
			if err != nil {
				return err
			}
			tags := map[string]string{}
			for _, t := range u.Tags {
				tags[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
			}
			if len(tags) == 0 {
				tags = nil
			}
			if err := c.add(TypeUser, sdkaws.ToString(u.Arn), name, tags, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// accessKeys lists a user's keys with their last use and derived ages
// (AgeDays since created, LastUsedDays since last used, -1 never).
func (c *collection) accessKeys(ctx context.Context, cl *iam.Client, user string) ([]map[string]any, error) {
	keys := []map[string]any{}
	p := iam.NewListAccessKeysPaginator(cl, &iam.ListAccessKeysInput{UserName: sdkaws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListAccessKeys: %w", err)
		}
		for _, k := range page.AccessKeyMetadata {
			used, err := cl.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
			if err != nil {
				return nil, fmt.Errorf("GetAccessKeyLastUsed: %w", err)
			}
			m, err := merge(k, map[string]any{"AgeDays": c.days(k.CreateDate), "LastUsedDays": -1})
			if err != nil {
				return nil, err
			}
			if used.AccessKeyLastUsed != nil {
				m["AccessKeyLastUsed"] = used.AccessKeyLastUsed
				m["LastUsedDays"] = c.days(used.AccessKeyLastUsed.LastUsedDate)
			}
			keys = append(keys, m)
		}
	}
	return keys, nil
}

// readPolicies reads the customer-managed policies attached to a user,
// group or role, each with its default version's document (Document,
// parsed). AWS-managed policies are left out: their ARN is the same in
// every account, so it cannot identify a resource of this one (a user's
// AttachedManagedPolicies still names them).
func (c *collection) readPolicies(ctx context.Context, cl *iam.Client, r string) error {
	p := iam.NewListPoliciesPaginator(cl, &iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeLocal})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(TypePolicy, r, "ListPolicies", err)
			return nil
		}
		for _, pol := range page.Policies {
			v, err := cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: pol.Arn, VersionId: pol.DefaultVersionId})
			if err != nil {
				c.fail(TypePolicy, r, "GetPolicyVersion "+sdkaws.ToString(pol.Arn), err)
				continue
			}
			doc, err := policyDocument(sdkaws.ToString(v.PolicyVersion.Document))
			if err != nil {
				c.fail(TypePolicy, r, "policy document of "+sdkaws.ToString(pol.Arn), err)
				continue
			}
			m, err := merge(pol, map[string]any{"Document": doc})
			if err != nil {
				return err
			}
			if err := c.add(TypePolicy, sdkaws.ToString(pol.Arn), sdkaws.ToString(pol.PolicyName), nil, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// policyDocument decodes an IAM policy document (URL-encoded JSON, as IAM
// returns it); see normalizePolicy.
func policyDocument(s string) (map[string]any, error) {
	if u, err := url.QueryUnescape(s); err == nil {
		s = u
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil, err
	}
	return normalizePolicy(doc), nil
}

// normalizePolicy makes a policy document's Statement, and each
// statement's Action, NotAction, Resource and NotResource, lists: the
// policy language lets each be a single value, and rules are simpler
// over one shape.
func normalizePolicy(doc map[string]any) map[string]any {
	stmts := asList(doc["Statement"])
	for _, st := range stmts {
		if m, ok := st.(map[string]any); ok {
			for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
				if v, ok := m[k]; ok {
					m[k] = asList(v)
				}
			}
		}
	}
	doc["Statement"] = stmts
	return doc
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return []any{}
	case []any:
		return x
	}
	return []any{v}
}

// credentialReport generates (if needed) and reads the IAM credential
// report, by user name ("<root_account>" for root), each row by column.
func credentialReport(ctx context.Context, cl *iam.Client) (map[string]map[string]string, error) {
	for attempt := 0; ; attempt++ {
		gen, err := cl.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("GenerateCredentialReport: %w", err)
		}
		if gen.State == types.ReportStateTypeComplete {
			break
		}
		if attempt == 10 {
			return nil, errors.New("GenerateCredentialReport: not complete after 10 tries")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	out, err := cl.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, fmt.Errorf("GetCredentialReport: %w", err)
	}
	return parseCredentialReport(out.Content)
}

// parseCredentialReport reads the report's CSV.
func parseCredentialReport(b []byte) (map[string]map[string]string, error) {
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("credential report: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) == 0 || rows[0][0] != "user" {
		return nil, errors.New("credential report: no header row starting with user")
	}
	head := rows[0]
	report := make(map[string]map[string]string, len(rows)-1)
	for _, row := range rows[1:] {
		m := make(map[string]string, len(head))
		for i, col := range head {
			if i < len(row) {
				m[col] = row[i]
			}
		}
		report[row[0]] = m
	}
	return report, nil
}

// reportTime reads a credential report time ("N/A", "no_information"
// and "not_supported" are not times).
func reportTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// lastUsedDays is the days since the latest of the report times given,
// -1 if none is a time.
func (c *collection) lastUsedDays(values ...string) int {
	var latest *time.Time
	for _, v := range values {
		if t, ok := reportTime(v); ok && (latest == nil || t.After(*latest)) {
			latest = &t
		}
	}
	return c.days(latest)
}
