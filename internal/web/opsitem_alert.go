package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// What the alerts of an OpsItem said, read from their newest stored
// events: an Alertmanager alert's summary, description, labels,
// annotations and links (from the payload as Alertmanager or Prometheus
// sent it), a GuardDuty finding's key facts (from the labels the
// EventBridge adapter took from the finding), any other event's labels.

// pair is one key and value shown in a table.
type pair struct {
	Key, Value string
}

// safeLink is a link found in a payload. Only absolute http and https
// URLs are links (Safe); anything else is shown as text, never as an href.
type safeLink struct {
	Label, URL string
	Safe       bool
	// Text is what a safe link shows: its host and path (the whole URL
	// is its title).
	Text string
}

func newLink(label, raw string) safeLink {
	l := safeLink{Label: label, URL: raw}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil {
		l.Safe, l.URL, l.Text = true, u.String(), u.Host+u.EscapedPath()
		if u.RawQuery != "" {
			l.Text += "?…"
		}
	}
	return l
}

// alertView is what one member alert said.
type alertView struct {
	EventID, Fingerprint, Source, Title string
	Summary, Description                string
	Labels, Annotations                 []pair
	Links                               []safeLink
	// Facts are a GuardDuty finding's key facts (nil for other sources).
	Facts []pair
}

// alertDetailsLimit bounds the member alerts the OpsItem page details, and
// alertEventsLimit the newest events it reads to find them.
const (
	alertDetailsLimit = 5
	alertEventsLimit  = 100
)

// alertViews describes the newest event of each member alert, newest
// first, from the OpsItem's events (newest first). An event without its
// payload (the pipeline opens a held alert's OpsItem from the alert's
// state) is described from the alert's newest event that has one, found
// by withRaw.
func alertViews(events []store.Event, withRaw func(fingerprint string) (store.Event, bool)) []alertView {
	var out []alertView
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.Fingerprint] || len(out) == alertDetailsLimit {
			continue
		}
		seen[e.Fingerprint] = true
		if len(e.Raw) == 0 && withRaw != nil {
			if r, ok := withRaw(e.Fingerprint); ok {
				e = r
			}
		}
		out = append(out, alertViewOf(e))
	}
	return out
}

// shownLabel reports whether a label is the sender's, not the source's:
// Flywheel's own stamp is not what the alert said.
func shownLabel(k string) bool { return k != event.SenderLabel }

func alertViewOf(e store.Event) alertView {
	v := alertView{EventID: e.ID, Fingerprint: e.Fingerprint, Source: e.Source, Title: e.Title, Description: e.Description}
	labels := map[string]string{}
	for k, val := range e.Labels {
		if shownLabel(k) {
			labels[k] = val
		}
	}
	switch e.Source {
	case "alertmanager":
		am := decodeAlertmanager(e.Raw)
		v.Summary, v.Description = am.Annotations["summary"], am.Annotations["description"]
		if v.Summary == "" && v.Description == "" {
			v.Description = firstNonEmpty(am.Annotations["message"], e.Description)
		}
		for _, k := range slices.Sorted(maps.Keys(am.Annotations)) {
			switch k {
			case "summary", "description":
			case "runbook_url":
				v.Links = append(v.Links, newLink("Runbook", am.Annotations[k]))
			default:
				v.Annotations = append(v.Annotations, pair{k, am.Annotations[k]})
			}
		}
		if am.GeneratorURL != "" {
			v.Links = append(v.Links, newLink("Source (generatorURL)", am.GeneratorURL))
		}
	case "guardduty":
		v.Facts = guardDutyFacts(e)
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v.Labels = append(v.Labels, pair{k, labels[k]})
	}
	return v
}

// amAlert is what the page reads of an Alertmanager alert: the fields of
// the webhook's alerts[] items and of the v2 API's postable alerts.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	GeneratorURL string            `json:"generatorURL"`
}

// decodeAlertmanager reads a stored Alertmanager payload: a webhook
// notification narrowed to one alert (alerts[0]) or one v2 alert object
// (internal/intake/alertmanager keeps Raw so). Anything else reads as empty.
func decodeAlertmanager(raw []byte) amAlert {
	var n struct {
		Alerts []amAlert `json:"alerts"`
		amAlert
	}
	if json.Unmarshal(raw, &n) != nil {
		var list []amAlert // a bare array, as the webhook also accepts
		if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
			return amAlert{}
		}
		return list[0]
	}
	if len(n.Alerts) > 0 {
		return n.Alerts[0]
	}
	return n.amAlert
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// guardDutyFacts are a finding's key facts: type, severity, account,
// region, the resource and what was done by whom, from the labels and
// resources the EventBridge adapter took from the finding.
func guardDutyFacts(e store.Event) []pair {
	l := e.Labels
	var facts []pair
	add := func(k, v string) {
		if v != "" {
			facts = append(facts, pair{k, v})
		}
	}
	add("Finding type", l["finding_type"])
	sev := e.Severity
	if s := l["severity_score"]; s != "" {
		sev = s + " (" + e.Severity + ")"
	}
	add("Severity", sev)
	add("Account", l["account"])
	add("Region", l["region"])
	var refs []event.ResourceRef
	_ = json.Unmarshal(e.Resources, &refs)
	var res, actors []string
	for _, r := range refs {
		s := r.Type + " " + r.ID
		if r.Type == "iam-user" || r.Type == "iam-role" {
			actors = append(actors, s)
			continue
		}
		res = append(res, s)
	}
	resource := strings.Join(res, ", ")
	if name := l["instance_name"]; name != "" {
		resource += " (" + name + ")"
	}
	if t := l["resource_type"]; t != "" {
		resource = t + ": " + resource
	}
	add("Resource", resource)
	add("Resource role", l["resource_role"])
	add("Action", guardDutyAction(l))
	add("Actor", strings.Join(actors, ", "))
	return facts
}

// guardDutyAction summarizes a finding's action in one line.
func guardDutyAction(l map[string]string) string {
	remote := l["remote_ip"]
	if remote != "" {
		var where []string
		if c := l["remote_country"]; c != "" {
			where = append(where, c)
		}
		if a := l["remote_asn"]; a != "" {
			where = append(where, "ASN "+a)
		}
		if len(where) > 0 {
			remote += " (" + strings.Join(where, ", ") + ")"
		}
	}
	var s string
	switch l["action_type"] {
	case "NETWORK_CONNECTION":
		s = "network connection"
		if d := l["connection_direction"]; d != "" {
			s = strings.ToLower(d) + " " + s
		}
		if remote != "" {
			s += " with " + remote
		}
		if p := l["local_port"]; p != "" {
			s += " on local port " + p
		}
	case "AWS_API_CALL":
		s = "API call " + l["api"]
		if svc := l["api_service"]; svc != "" {
			s += " to " + svc
		}
		if remote != "" {
			s += " from " + remote
		}
	case "DNS_REQUEST":
		s = "DNS request for " + l["domain"]
	case "PORT_PROBE":
		s = "port probe"
		if remote != "" {
			s += " from " + remote
		}
	case "":
		return ""
	default:
		s = l["action_type"]
	}
	return s
}

// silenceMatchers are matchers for the labels every member alert shares
// (the silence form's matchers for "silence this"), sorted; nil when they
// share none.
func silenceMatchers(alerts []alertView) []string {
	if len(alerts) == 0 {
		return nil
	}
	common := map[string]string{}
	for _, p := range alerts[0].Labels {
		common[p.Key] = p.Value
	}
	for _, a := range alerts[1:] {
		have := map[string]string{}
		for _, p := range a.Labels {
			have[p.Key] = p.Value
		}
		for k, v := range common {
			if have[k] != v {
				delete(common, k)
			}
		}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(common)) {
		if m, err := matcher.New(matcher.Equal, k, common[k]); err == nil && common[k] != "" {
			out = append(out, m.String())
		}
	}
	return out
}

// suggestedRunbook is a runbook a rule names for an OpsItem.
type suggestedRunbook struct {
	Runbook, Rule string
}

// ruleSet is the rule engine's current rules; *rule.Engine is one (the
// handler finds it behind Options.Breakers).
type ruleSet interface{ Current() *rule.Rules }

// suggestRunbooks lists the runbooks of the rules whose condition holds
// for one of the OpsItem's newest member events, in rule order, each once.
func suggestRunbooks(rules *rule.Rules, o store.OpsItem, events []store.Event) []suggestedRunbook {
	if rules == nil {
		return nil
	}
	var out []suggestedRunbook
	seen := map[string]bool{}
	fps := map[string]bool{}
	for _, se := range events {
		if fps[se.Fingerprint] || len(fps) == alertDetailsLimit {
			continue
		}
		fps[se.Fingerprint] = true
		ev := eventOf(se)
		ms, _ := rules.Evaluate(&ev, &o)
		for _, m := range ms {
			if r := m.Rule.Runbook; r != "" && !seen[r] {
				seen[r] = true
				out = append(out, suggestedRunbook{Runbook: r, Rule: m.Rule.Name})
			}
		}
	}
	return out
}

// eventOf is a stored event as the rules see events.
func eventOf(se store.Event) event.Event {
	ev := event.Event{Source: se.Source, SourceID: se.SourceID, Kind: event.Kind(se.Kind), Severity: event.Severity(se.Severity),
		Status: event.Status(se.Status), Title: se.Title, Description: se.Description, Labels: se.Labels,
		OccurredAt: se.OccurredAt, ReceivedAt: se.ReceivedAt, Fingerprint: se.Fingerprint, Raw: se.Raw}
	_ = json.Unmarshal(se.Resources, &ev.Resources)
	if se.Source == "alertmanager" {
		ev.Annotations = decodeAlertmanager(se.Raw).Annotations
	}
	return ev
}

// runbookChoices are the run menu's options: the suggested runbooks first
// (labelled with their rule), then every other runbook by name.
func runbookChoices(all []string, suggested []suggestedRunbook) (first, rest []option) {
	have := map[string]bool{}
	for _, n := range all {
		have[n] = true
	}
	taken := map[string]bool{}
	for _, s := range suggested {
		if have[s.Runbook] {
			first = append(first, option{Value: s.Runbook, Label: fmt.Sprintf("%s (rule %s)", s.Runbook, s.Rule)})
			taken[s.Runbook] = true
		}
	}
	for _, n := range all {
		if !taken[n] {
			rest = append(rest, option{Value: n, Label: n})
		}
	}
	return first, rest
}
