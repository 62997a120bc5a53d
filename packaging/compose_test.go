package packaging

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/config"
)

// composeSchema is the Compose Specification's JSON schema (source in
// testdata/README.md).
const composeSchema = "testdata/compose-spec.json"

// TestComposeFile validates compose.yaml against the Compose schema, then
// checks that it works together: Flywheel's environment is configuration
// the server accepts (through its own loader, variables substituted with
// their defaults), its database URL names the postgres service with the
// user, password and database that service creates, and it waits for the
// database to be healthy.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(composeSchema)
	if err != nil {
		t.Fatalf("compiling %s: %v", composeSchema, err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("compose.yaml does not follow the Compose schema:\n%v", err)
	}

	// Interpolate ${VAR:-default} as compose does with nothing set.
	defaults := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	var file struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(defaults.ReplaceAll(raw, []byte("$1")), &file); err != nil {
		t.Fatal(err)
	}
	fw, ok := file.Services["flywheel"]
	if !ok || fw.Build == nil {
		t.Fatal("compose.yaml has no flywheel service built from the Dockerfile")
	}
	var cfg config.Config
	err = cfg.ApplyEnv(func(k string) (string, bool) {
		v, ok := fw.Environment[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("the flywheel service's environment: %v", err)
	}
	known := map[string]bool{"FLYWHEEL_CONFIG": true}
	for f := range reflect.TypeFor[config.Config]().Fields() {
		if env := f.Tag.Get("env"); env != "" {
			known[config.EnvPrefix+env] = true
		}
	}
	for k := range fw.Environment {
		if !known[k] {
			t.Errorf("the flywheel service sets %s, which is no server option", k)
		}
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the flywheel service's configuration is invalid: %v", err)
	}
	driver, loc, err := config.ParseDB(cfg.DB)
	if err != nil || driver != "postgres" {
		t.Fatalf("FLYWHEEL_DB %q is not PostgreSQL (%v)", cfg.DB, err)
	}
	if cfg.DataDir != "/data" {
		t.Errorf("FLYWHEEL_DATA = %q, want the image's /data volume", cfg.DataDir)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	pg, ok := file.Services[u.Hostname()]
	if !ok {
		t.Fatalf("FLYWHEEL_DB's host %q is not a service of compose.yaml", u.Hostname())
	}
	pass, _ := u.User.Password()
	if u.User.Username() != pg.Environment["POSTGRES_USER"] || pass != pg.Environment["POSTGRES_PASSWORD"] ||
		strings.TrimPrefix(u.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Errorf("FLYWHEEL_DB %s does not match the %s service's POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB %v", u.Redacted(), u.Hostname(), pg.Environment)
	}
	if pg.Healthcheck == nil || fw.DependsOn[u.Hostname()].Condition != "service_healthy" {
		t.Errorf("flywheel does not wait for %s to be healthy", u.Hostname())
	}
}
