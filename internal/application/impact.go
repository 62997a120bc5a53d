package application

import (
	"slices"
	"strings"
)

// Impact is what a failure of one application puts at stake: its
// criticality, how many applications depend on it (directly or not), the
// longest dependency path that leads to it, and the priority those give.
type Impact struct {
	Application string `json:"application"`
	Criticality string `json:"criticality"`
	// Dependants counts the applications that depend on it, directly or
	// not.
	Dependants int `json:"dependants"`
	// Path is the longest chain of dependants ending at the application,
	// the farthest first: ["shop", "orders", "orders-db"] — shop depends on
	// orders, which depends on orders-db. Just the application when nothing
	// depends on it.
	Path []string `json:"path"`
	// Priority is P1 (most urgent) to P4: critical P1, high P2, medium P3,
	// low P4, one step more urgent when two or more applications depend on
	// it.
	Priority string `json:"priority"`
}

// PriorityRank orders priorities: P1 is 4, P4 is 1, anything else 0.
func PriorityRank(p string) int {
	switch p {
	case "P1":
		return 4
	case "P2":
		return 3
	case "P3":
		return 2
	case "P4":
		return 1
	}
	return 0
}

// ImpactOf returns the impact of application name (false when the catalog
// has no such application).
func (c *Catalog) ImpactOf(name string) (Impact, bool) {
	a, ok := c.Get(name)
	if !ok {
		return Impact{}, false
	}
	down := c.Downstream(name)
	im := Impact{Application: name, Criticality: a.Criticality, Dependants: len(down), Path: c.longestPath(name, down)}
	rank := slices.Index(criticalities, a.Criticality) + 1 // low 1 … critical 4
	if len(down) >= 2 {
		rank++
	}
	im.Priority = "P" + string(rune('0'+max(1, 5-min(rank, 4))))
	return im, true
}

// longestPath is the chain from the farthest dependant in down to name,
// each step a direct dependency (ties broken by name).
func (c *Catalog) longestPath(name string, down map[string]int) []string {
	far, d := name, 0
	for n, dist := range down {
		if dist > d || (dist == d && n < far) {
			far, d = n, dist
		}
	}
	path := []string{far}
	for cur := far; cur != name; {
		a, _ := c.Get(cur)
		var next string
		for _, dep := range a.DependsOn {
			// A step towards name: name itself, or a dependant of it one closer.
			if dep == name && down[cur] == 1 || down[dep] == down[cur]-1 && down[dep] > 0 {
				if next == "" || strings.Compare(dep, next) < 0 {
					next = dep
				}
			}
		}
		if next == "" {
			break
		}
		path = append(path, next)
		cur = next
	}
	return path
}

// For lists the applications a tenant sees, its own and the shared ones,
// by name.
func (c *Catalog) For(tenant string) []*App {
	if c == nil {
		return nil
	}
	var out []*App
	for _, a := range c.apps {
		if a.Tenant == "" || a.Tenant == tenant {
			out = append(out, a)
		}
	}
	return out
}
