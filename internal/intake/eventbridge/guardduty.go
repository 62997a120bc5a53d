package eventbridge

import (
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// gdFinding is the detail of a "GuardDuty Finding" event: only the fields
// the adapter reads; Raw keeps the rest.
type gdFinding struct {
	AccountID   string   `json:"accountId"`
	Region      string   `json:"region"`
	ID          string   `json:"id"`
	ARN         string   `json:"arn"`
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Severity    *float64 `json:"severity"`
	UpdatedAt   string   `json:"updatedAt"`
	CreatedAt   string   `json:"createdAt"`
	Resource    struct {
		ResourceType    string `json:"resourceType"`
		InstanceDetails *struct {
			InstanceID string `json:"instanceId"`
			Tags       []tag  `json:"tags"`
		} `json:"instanceDetails"`
		AccessKeyDetails *struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
			UserType    string `json:"userType"`
		} `json:"accessKeyDetails"`
		S3BucketDetails []struct {
			Name string `json:"name"`
			ARN  string `json:"arn"`
		} `json:"s3BucketDetails"`
		EksClusterDetails *struct {
			Name string `json:"name"`
		} `json:"eksClusterDetails"`
		RdsDbInstanceDetails *struct {
			DBInstanceIdentifier string `json:"dbInstanceIdentifier"`
		} `json:"rdsDbInstanceDetails"`
		LambdaDetails *struct {
			FunctionName string `json:"functionName"`
		} `json:"lambdaDetails"`
	} `json:"resource"`
	Service struct {
		Archived     bool   `json:"archived"`
		ResourceRole string `json:"resourceRole"`
		Action       struct {
			ActionType              string `json:"actionType"`
			NetworkConnectionAction *struct {
				ConnectionDirection string     `json:"connectionDirection"`
				RemoteIPDetails     *remoteIP  `json:"remoteIpDetails"`
				LocalPortDetails    *portField `json:"localPortDetails"`
			} `json:"networkConnectionAction"`
			AWSAPICallAction *struct {
				API             string    `json:"api"`
				ServiceName     string    `json:"serviceName"`
				RemoteIPDetails *remoteIP `json:"remoteIpDetails"`
			} `json:"awsApiCallAction"`
			DNSRequestAction *struct {
				Domain string `json:"domain"`
			} `json:"dnsRequestAction"`
		} `json:"action"`
	} `json:"service"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type remoteIP struct {
	IPAddressV4 string `json:"ipAddressV4"`
	Country     struct {
		CountryCode string `json:"countryCode"`
	} `json:"country"`
	Organization struct {
		ASN string `json:"asn"`
	} `json:"organization"`
}

type portField struct {
	Port json.Number `json:"port"`
}

// GuardDutySeverity maps GuardDuty's numeric severity to the normalized
// scale using GuardDuty's own bands: 9.0 and above critical (attack
// sequences), 7.0–8.9 high, 4.0–6.9 medium, 1.0–3.9 low. Values below 1.0
// are outside GuardDuty's range and read as info.
func GuardDutySeverity(score float64) event.Severity {
	switch {
	case score >= 9:
		return event.SeverityCritical
	case score >= 7:
		return event.SeverityHigh
	case score >= 4:
		return event.SeverityMedium
	case score >= 1:
		return event.SeverityLow
	}
	return event.SeverityInfo
}

// threatName is a GuardDuty finding type split per GuardDuty's naming
// scheme, ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact,
// so rules route on its parts rather than on a hand-kept list of types.
type threatName struct {
	Purpose, ResourceType, Family, Mechanism, Artifact string
}

func parseThreatName(t string) threatName {
	var n threatName
	purpose, rest, ok := strings.Cut(t, ":")
	if !ok {
		return threatName{Purpose: t}
	}
	n.Purpose = purpose
	if res, after, ok := strings.Cut(rest, "/"); ok {
		n.ResourceType, rest = res, after
	}
	rest, n.Artifact, _ = strings.Cut(rest, "!")
	n.Family, n.Mechanism, _ = strings.Cut(rest, ".")
	return n
}

func parseGuardDuty(env *envelope) (event.Event, error) {
	var f gdFinding
	if err := decodeAt(env.Detail, &f, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if f.ID == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.id"))
	}
	account := firstNonEmpty(f.AccountID, env.Account)
	region := firstNonEmpty(f.Region, env.Region)

	ev := env.base("guardduty", event.KindFinding)
	ev.SourceID = f.ID
	ev.Fingerprint = event.FingerprintOf("guardduty", map[string]string{"finding_id": f.ID})
	ev.Title = firstNonEmpty(f.Title, f.Type, "GuardDuty finding "+f.ID)
	ev.Description = f.Description
	ev.Severity = event.SeverityInfo
	if f.Severity != nil {
		ev.Severity = GuardDutySeverity(*f.Severity)
	}
	if f.Service.Archived {
		ev.Status = event.StatusResolved
	}
	ev.UpdatedAt = payloadTime(env.time, f.UpdatedAt, f.CreatedAt)
	ev.OccurredAt = ev.UpdatedAt

	ev.Resources = guardDutyResources(&f, account, region)

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "finding_type", f.Type)
	tn := parseThreatName(f.Type)
	setLabel(l, "threat_purpose", tn.Purpose)
	setLabel(l, "resource_type_affected", tn.ResourceType)
	setLabel(l, "threat_family", tn.Family)
	setLabel(l, "detection_mechanism", tn.Mechanism)
	setLabel(l, "artifact", tn.Artifact)
	setLabel(l, "resource_type", f.Resource.ResourceType)
	setLabel(l, "resource_role", f.Service.ResourceRole)
	setLabel(l, "finding_arn", f.ARN)
	if f.Severity != nil {
		l["severity_score"] = formatFloat(*f.Severity)
	}
	act := f.Service.Action
	setLabel(l, "action_type", act.ActionType)
	var rip *remoteIP
	if a := act.NetworkConnectionAction; a != nil {
		setLabel(l, "connection_direction", a.ConnectionDirection)
		if a.LocalPortDetails != nil {
			setLabel(l, "local_port", numberString(a.LocalPortDetails.Port))
		}
		rip = a.RemoteIPDetails
	}
	if a := act.AWSAPICallAction; a != nil {
		setLabel(l, "api", a.API)
		setLabel(l, "api_service", a.ServiceName)
		if rip == nil {
			rip = a.RemoteIPDetails
		}
	}
	if a := act.DNSRequestAction; a != nil {
		setLabel(l, "domain", a.Domain)
	}
	if rip != nil {
		setLabel(l, "remote_ip", rip.IPAddressV4)
		setLabel(l, "remote_country", rip.Country.CountryCode)
		setLabel(l, "remote_asn", rip.Organization.ASN)
	}
	if d := f.Resource.InstanceDetails; d != nil {
		for _, t := range d.Tags {
			if t.Key == "Name" {
				setLabel(l, "instance_name", t.Value)
			}
		}
	}
	return ev, nil
}

// guardDutyResources lists what a finding is about, most specific first:
// the instance, buckets or cluster, then the access key and the principal
// that used it; the account when nothing else is named.
func guardDutyResources(f *gdFinding, account, region string) []event.ResourceRef {
	var refs []event.ResourceRef
	add := func(typ, id string) {
		refs = addResource(refs, event.ResourceRef{Type: typ, ID: id, Region: region, Account: account})
	}
	r := &f.Resource
	if d := r.InstanceDetails; d != nil {
		add(typeEC2Instance, d.InstanceID)
	}
	for _, b := range r.S3BucketDetails {
		add(typeS3Bucket, firstNonEmpty(b.Name, shortID(typeS3Bucket, b.ARN)))
	}
	if d := r.EksClusterDetails; d != nil {
		add("eks-cluster", d.Name)
	}
	if d := r.RdsDbInstanceDetails; d != nil {
		add("rds-instance", d.DBInstanceIdentifier)
	}
	if d := r.LambdaDetails; d != nil {
		add("lambda-function", d.FunctionName)
	}
	if d := r.AccessKeyDetails; d != nil {
		add(typeAccessKey, d.AccessKeyID)
		switch d.UserType {
		case "IAMUser":
			add(typeIAMUser, d.UserName)
		case "AssumedRole", "Role":
			add(typeIAMRole, d.UserName)
		}
	}
	if len(refs) == 0 {
		refs = accountRef(account, region)
	}
	return refs
}
