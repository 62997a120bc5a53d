package retention_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/retention"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const page = "../../docs/retention.md"

// The page's example loads through the server's configuration loader and
// means what the page says of it.
func TestDocsExampleLoads(t *testing.T) {
	var found bool
	for _, b := range mdtest.Blocks(t, page) {
		if b.Lang != "yaml" {
			continue
		}
		found = true
		path := filepath.Join(t.TempDir(), "flywheel.yaml")
		if err := os.WriteFile(path, []byte(b.Text()), 0o600); err != nil {
			t.Fatal(err)
		}
		var c config.Config
		if err := c.LoadFile(path); err != nil {
			t.Fatalf("%s:%d: %v", page, b.Line, err)
		}
		c = c.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatalf("%s:%d: %v", page, b.Line, err)
		}
		acme, lab, other := c.Retention.For("acme"), c.Retention.For("lab"), c.Retention.For("globex")
		if acme.Events != 365*retention.Day || acme.MaxEvents != -1 || acme.Executions != 180*retention.Day {
			t.Errorf("acme = %+v", acme)
		}
		if lab.Events != retention.Day || lab.RawBodies != 2*retention.Day || lab.MaxEvents != 500000 {
			t.Errorf("lab = %+v", lab)
		}
		if other.Events != 14*retention.Day || other.Timeline != retention.Default.Timeline {
			t.Errorf("a tenant without a policy = %+v", other)
		}
	}
	if !found {
		t.Fatalf("%s has no yaml example", page)
	}
	// The error the page quotes is the one given.
	b, _ := os.ReadFile(page)
	bad := retention.Config{Tenants: map[string]retention.Policy{"acme": {MaxEvents: -5}}}.WithDefaults()
	if err := bad.Validate(); err == nil || !strings.Contains(string(b), err.Error()) {
		t.Errorf("the page does not quote the error %v", err)
	}
}

// The table of defaults on the page is the built-in default, and lists
// every kind of data pruned.
func TestDocsDefaultsTable(t *testing.T) {
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| [^|]+ \\| `([a-z_]+)` \\| ([^ |]+) \\|")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		opt, val := m[1], m[2]
		seen[opt] = true
		if opt == "max_events" {
			if n, _ := strconv.ParseInt(val, 10, 64); n != retention.Default.MaxEvents {
				t.Errorf("page: max_events %s, built in %d", val, retention.Default.MaxEvents)
			}
			continue
		}
		a, err := retention.ParseAge(val)
		if err != nil {
			t.Errorf("page: %s default %q: %v", opt, val, err)
			continue
		}
		if got := retention.Default.Age(store.RetentionClass(opt)); got != a {
			t.Errorf("page: %s default %s, built in %s", opt, a, got)
		}
	}
	for _, c := range store.RetentionClasses {
		if !seen[string(c)] {
			t.Errorf("the page's table lacks %s", c)
		}
	}
}
