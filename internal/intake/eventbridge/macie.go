package eventbridge

import (
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// macieFinding is the detail of a "Macie Finding" event (Macie v2).
type macieFinding struct {
	ID          string `json:"id"`
	AccountID   string `json:"accountId"`
	Region      string `json:"region"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Severity    *struct {
		Score       json.Number `json:"score"`
		Description string      `json:"description"`
	} `json:"severity"`
	CreatedAt         string `json:"createdAt"`
	UpdatedAt         string `json:"updatedAt"`
	Archived          bool   `json:"archived"`
	Sample            bool   `json:"sample"`
	ResourcesAffected struct {
		S3Bucket *struct {
			Name         string `json:"name"`
			ARN          string `json:"arn"`
			PublicAccess *struct {
				EffectivePermission string `json:"effectivePermission"`
			} `json:"publicAccess"`
		} `json:"s3Bucket"`
		S3Object *struct {
			BucketARN string `json:"bucketArn"`
			Key       string `json:"key"`
		} `json:"s3Object"`
	} `json:"resourcesAffected"`
}

// MacieSeverity maps Macie's severity: the description (Low, Medium, High)
// when present, else the score (1, 2, 3). Macie has no critical level.
// Anything unreadable is medium: Macie reports only what it judged a risk.
func MacieSeverity(description string, score float64) event.Severity {
	switch strings.ToLower(description) {
	case "high":
		return event.SeverityHigh
	case "medium":
		return event.SeverityMedium
	case "low":
		return event.SeverityLow
	}
	switch {
	case score >= 3:
		return event.SeverityHigh
	case score >= 1 && score < 2:
		return event.SeverityLow
	}
	return event.SeverityMedium
}

func parseMacie(env *envelope) (event.Event, error) {
	var f macieFinding
	if err := decodeAt(env.Detail, &f, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if f.ID == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.id"))
	}
	account := firstNonEmpty(f.AccountID, env.Account)
	region := firstNonEmpty(f.Region, env.Region)

	ev := env.base("macie", event.KindFinding)
	ev.SourceID = f.ID
	ev.Fingerprint = event.FingerprintOf("macie", map[string]string{"finding_id": f.ID})
	ev.Title = firstNonEmpty(f.Title, f.Type, "Macie finding "+f.ID)
	ev.Description = f.Description
	ev.Severity = event.SeverityMedium
	if s := f.Severity; s != nil {
		score, _ := s.Score.Float64()
		ev.Severity = MacieSeverity(s.Description, score)
	}
	if f.Archived {
		ev.Status = event.StatusResolved
	}
	ev.UpdatedAt = payloadTime(env.time, f.UpdatedAt, f.CreatedAt)
	ev.OccurredAt = ev.UpdatedAt

	ra := &f.ResourcesAffected
	var bucket string
	if b := ra.S3Bucket; b != nil {
		bucket = firstNonEmpty(b.Name, shortID(typeS3Bucket, b.ARN))
	}
	if o := ra.S3Object; o != nil && o.Key != "" {
		b := firstNonEmpty(shortID(typeS3Bucket, o.BucketARN), bucket)
		ev.Resources = addResource(ev.Resources, event.ResourceRef{Type: typeS3Object, ID: b + "/" + o.Key, Region: region, Account: account})
	}
	ev.Resources = addResource(ev.Resources, event.ResourceRef{Type: typeS3Bucket, ID: bucket, Region: region, Account: account})
	if len(ev.Resources) == 0 {
		ev.Resources = accountRef(account, region)
	}

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "finding_type", f.Type)
	setLabel(l, "category", f.Category)
	if s := f.Severity; s != nil {
		setLabel(l, "severity_label", s.Description)
		setLabel(l, "severity_score", numberString(s.Score))
	}
	if b := ra.S3Bucket; b != nil && b.PublicAccess != nil {
		setLabel(l, "public_access", b.PublicAccess.EffectivePermission)
	}
	if f.Sample {
		l["sample"] = "true"
	}
	return ev, nil
}
