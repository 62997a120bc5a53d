package web

import (
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
)

// The left navigation: the top section (overview and the pages a person
// works in), then one entry per area (category).

type navSection struct {
	Heading string // "" for the top section
	Items   []navItem
}

type navItem struct {
	Label   string
	URL     string
	Current bool
}

// navigation builds the navigation for a view, marking the current page
// and leaving out the pages allowed says the session may not open (nil
// allows all).
func navigation(v *view, allowed func(path string) bool) []navSection {
	item := func(label, p string) navItem {
		return navItem{Label: label, URL: v.Link(p), Current: isCurrent(v.Path, p)}
	}
	top := navSection{Items: []navItem{
		item("Overview", "/"),
		item("Dashboard", "/dashboard"),
		item("OpsItems", "/opsitems"),
		item("Events", "/events"),
		item("Approvals", "/approvals"),
		item("Runbooks", "/runbooks"),
		item("Executions", "/executions"),
		item("Candidates", "/candidates"),
		item("Silences", "/silences"),
		item("Maintenance", "/maintenance"),
		item("Patching", "/patching"),
		item("Fleet", "/fleet"),
		item("Backup", "/backup"),
		item("Compliance", "/compliance"),
		item("Cost", "/cost"),
		item("Capacity", "/capacity"),
		item("Audit", "/audit"),
	}}
	top.Items = append(top.Items, setupItems(v, item)...) // rules, channels, tokens, tenants (tenants.go)
	if allowed != nil {
		top.Items = slices.DeleteFunc(top.Items, func(it navItem) bool { return !allowed(strings.SplitN(it.URL, "?", 2)[0]) })
	}
	areas := navSection{Heading: "Areas"}
	for _, c := range opsitem.Categories {
		areas.Items = append(areas.Items, item(opsitem.CategoryTitles[c], "/areas/"+c))
	}
	return []navSection{top, areas}
}

// isCurrent reports whether the page at cur belongs to the entry at p: the
// page itself or one below it (an OpsItem under OpsItems).
func isCurrent(cur, p string) bool {
	if p == "/" {
		return cur == "/"
	}
	return cur == p || strings.HasPrefix(cur, p+"/")
}
