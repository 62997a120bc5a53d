package patch

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// HostCompliance is one host's line of a compliance report.
type HostCompliance struct {
	ResourceID        string         `json:"resource_id"`
	Hostname          string         `json:"hostname"`
	Group             string         `json:"group"`
	Baseline          string         `json:"baseline"`
	Application       string         `json:"application,omitempty"`
	Compliant         bool           `json:"compliant"`
	ScannedAt         time.Time      `json:"scanned_at"`
	NoncompliantSince *time.Time     `json:"noncompliant_since,omitempty"`
	OpsItemID         string         `json:"opsitem_id,omitempty"`
	Installed         int            `json:"installed"`
	Missing           int            `json:"missing"`
	MissingByLevel    map[string]int `json:"missing_by_level"`
	Failed            int            `json:"failed"`
	PendingReboot     bool           `json:"pending_reboot"`
	Detail            HostDetail     `json:"detail,omitzero"`
}

// Share is compliance over a set of hosts.
type Share struct {
	Name      string  `json:"name"`
	Hosts     int     `json:"hosts"`
	Compliant int     `json:"compliant"`
	Percent   float64 `json:"percent"`
}

func (s *Share) add(ok bool) {
	s.Hosts++
	if ok {
		s.Compliant++
	}
	s.Percent = percent(s.Compliant, s.Hosts)
}

func percent(n, of int) float64 {
	if of == 0 {
		return 100
	}
	return math.Round(1000*float64(n)/float64(of)) / 10
}

// TrendPoint is the tenant's compliance at the end of a day (UTC).
type TrendPoint struct {
	Day     string  `json:"day"`
	Hosts   int     `json:"hosts"`
	Percent float64 `json:"percent"`
}

// Report is a tenant's compliance: overall, per group and application,
// per host, and the daily trend.
type Report struct {
	Tenant         Share            `json:"tenant"`
	MissingByLevel map[string]int   `json:"missing_by_level"`
	Failed         int              `json:"failed"`
	PendingReboot  int              `json:"pending_reboot"`
	Groups         []Share          `json:"groups"`
	Applications   []Share          `json:"applications"`
	Hosts          []HostCompliance `json:"hosts"`
	Trend          []TrendPoint     `json:"trend"`
}

// Compliance reports a tenant's compliance from its hosts' latest states
// and, for the trend, the points of the last days.
func (s *Service) Compliance(ctx context.Context, tenant string, days int) (Report, error) {
	states, err := s.o.Store.ListPatchStates(ctx, tenant)
	if err != nil {
		return Report{}, err
	}
	r := Report{Tenant: Share{Name: tenant}, MissingByLevel: map[string]int{}, Hosts: []HostCompliance{}}
	groups, apps := map[string]*Share{}, map[string]*Share{}
	for _, st := range states {
		h, _ := hostOf(st)
		h.Detail = HostDetail{} // the report lists counts; Host has the detail
		if res, err := s.o.Store.GetResource(ctx, tenant, st.ResourceID); err == nil {
			h.Application = res.Tags["application"]
		}
		r.Tenant.add(h.Compliant)
		for l, n := range h.MissingByLevel {
			r.MissingByLevel[l] += n
		}
		r.Failed += h.Failed
		if h.PendingReboot {
			r.PendingReboot++
		}
		group := h.Group
		if group == "" {
			group = "(none)"
		}
		share(groups, group).add(h.Compliant)
		if h.Application != "" {
			share(apps, h.Application).add(h.Compliant)
		}
		r.Hosts = append(r.Hosts, h)
	}
	for _, k := range sortedKeys(groups) {
		r.Groups = append(r.Groups, *groups[k])
	}
	for _, k := range sortedKeys(apps) {
		r.Applications = append(r.Applications, *apps[k])
	}
	if days <= 0 {
		days = 30
	}
	r.Trend, err = s.trend(ctx, tenant, days)
	return r, err
}

func share(m map[string]*Share, name string) *Share {
	if m[name] == nil {
		m[name] = &Share{Name: name}
	}
	return m[name]
}

// trend is, for each of the last days with points, the share of hosts
// whose latest point by the end of that day was compliant.
func (s *Service) trend(ctx context.Context, tenant string, days int) ([]TrendPoint, error) {
	now := s.o.Clock().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days+1)
	// Points before the window set where each host stood on its first day.
	points, err := s.o.Store.ListPatchHistory(ctx, tenant, time.Time{})
	if err != nil {
		return nil, err
	}
	last := map[string]bool{}
	out := []TrendPoint{}
	i := 0
	for day := since; !day.After(now); day = day.AddDate(0, 0, 1) {
		end := day.AddDate(0, 0, 1)
		for ; i < len(points) && points[i].At.Before(end); i++ {
			last[points[i].ResourceID] = points[i].Compliant
		}
		if len(last) == 0 {
			continue
		}
		ok := 0
		for _, c := range last {
			if c {
				ok++
			}
		}
		out = append(out, TrendPoint{Day: day.Format(time.DateOnly), Hosts: len(last), Percent: percent(ok, len(last))})
	}
	return out, nil
}

// Host returns one host's compliance with its detail.
func (s *Service) Host(ctx context.Context, tenant, resourceID string) (HostCompliance, error) {
	st, err := s.o.Store.GetPatchState(ctx, tenant, resourceID)
	if err != nil {
		return HostCompliance{}, err
	}
	return hostOf(st)
}

func hostOf(st store.PatchState) (HostCompliance, error) {
	h := HostCompliance{ResourceID: st.ResourceID, Hostname: st.Hostname, Group: st.Group, Baseline: st.Baseline, Compliant: st.Compliant,
		ScannedAt: st.ScannedAt, NoncompliantSince: st.NoncompliantSince, OpsItemID: st.OpsItemID}
	err := json.Unmarshal(st.Detail, &h.Detail)
	h.Installed, h.Missing, h.MissingByLevel = h.Detail.Installed, h.Detail.Missing, h.Detail.MissingByLevel
	h.Failed, h.PendingReboot = len(h.Detail.Failed), h.Detail.PendingReboot
	return h, err
}
