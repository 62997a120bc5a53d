package packaging

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction: its keyword (upper case), its
// arguments as written (continuation lines joined), and its line.
type instruction struct {
	Cmd  string
	Args string
	Line int
}

// stage is a FROM and the instructions up to the next FROM.
type stage struct {
	From, Name string
	Body       []instruction
}

// parseDockerfile reads the instructions of a Dockerfile: "#" comment lines
// are dropped (also inside a continued instruction, as BuildKit does), a
// trailing "\" continues an instruction on the next line.
func parseDockerfile(tb testing.TB, path string) []stage {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var (
		stages []stage
		cur    strings.Builder
		start  int
		n      int
	)
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		if in.Cmd == "FROM" {
			from, name, _ := strings.Cut(in.Args, " ")
			if as, ok := strings.CutPrefix(strings.TrimSpace(name), "AS "); ok {
				name = as
			} else if as, ok := strings.CutPrefix(strings.TrimSpace(name), "as "); ok {
				name = as
			}
			stages = append(stages, stage{From: from, Name: strings.TrimSpace(name)})
			return
		}
		if len(stages) == 0 {
			if in.Cmd != "ARG" {
				tb.Fatalf("%s:%d: %s before the first FROM", path, in.Line, in.Cmd)
			}
			return
		}
		s := &stages[len(stages)-1]
		s.Body = append(s.Body, in)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	flush()
	return stages
}

// find returns the stage's instructions of kind cmd.
func (s stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Body {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// agentSizeLimit bounds the release build of flywheel-agent.
const agentSizeLimit = 25 << 20

// buildScript is the release build the Dockerfile runs; the test runs it too.
const buildScript = "packaging/build.sh"

// TestDockerfile checks the image's shape — a build stage and a separate
// runtime stage, a non-root user, the /data volume, a HEALTHCHECK with
// the binary's own probe, the binary the build stage made — then runs the
// build stage's build command as the Dockerfile does and checks the result
// is a static, stamped binary, and the agent within agentSizeLimit.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages; want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if build.Name == "" || final.From == build.Name || strings.HasPrefix(final.From, "golang") {
		t.Errorf("the runtime stage (FROM %s) must not be the build stage (%s AS %s)", final.From, build.From, build.Name)
	}

	// The build: the one RUN of the build stage that runs the release
	// script, with the version and commit from build arguments.
	var buildRun string
	for _, in := range build.find("RUN") {
		if strings.Contains(in.Args, buildScript) {
			buildRun = in.Args
		}
	}
	if buildRun == "" {
		t.Fatalf("the build stage has no RUN of %s", buildScript)
	}
	var args []string
	for _, in := range build.find("ARG") {
		name, _, _ := strings.Cut(in.Args, "=")
		args = append(args, name)
	}
	for _, a := range []string{"VERSION", "COMMIT"} {
		if !slices.Contains(args, a) || !strings.Contains(buildRun, "$"+a) {
			t.Errorf("the build stage does not pass build argument %s to %s: ARGs %v, RUN %q", a, buildScript, args, buildRun)
		}
	}
	fields := strings.Fields(buildRun)
	outDir := fields[len(fields)-1]

	// The runtime stage copies the binary the build made and runs it.
	var binary string
	for _, in := range final.find("COPY") {
		f := strings.Fields(in.Args)
		if len(f) >= 3 && f[0] == "--from="+build.Name && f[len(f)-2] == outDir+"/flywheel" {
			binary = f[len(f)-1]
		}
	}
	if binary == "" {
		t.Fatalf("the runtime stage does not COPY --from=%s %s/flywheel", build.Name, outDir)
	}
	if ep := final.find("ENTRYPOINT"); len(ep) != 1 || !strings.Contains(ep[0].Args, `"`+binary+`"`) {
		t.Errorf("ENTRYPOINT %v does not run %s", ep, binary)
	}

	users := final.find("USER")
	if len(users) == 0 {
		t.Error("the runtime stage has no USER: it would run as root")
	} else if u, _, _ := strings.Cut(users[len(users)-1].Args, ":"); u == "root" || u == "0" {
		t.Errorf("USER %s is root", users[len(users)-1].Args)
	}
	volumes := final.find("VOLUME")
	if len(volumes) != 1 || strings.Trim(volumes[0].Args, `[]" `) != "/data" {
		t.Errorf("VOLUME %v, want /data", volumes)
	}
	env := ""
	for _, in := range final.find("ENV") {
		env += " " + in.Args
	}
	if !strings.Contains(env, "FLYWHEEL_DATA=/data") {
		t.Errorf("ENV%s does not put the data directory on the volume (FLYWHEEL_DATA=/data)", env)
	}
	hc := final.find("HEALTHCHECK")
	if len(hc) != 1 || !strings.Contains(hc[0].Args, `CMD ["`+binary+`", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %v, want CMD [%q, \"healthcheck\"]", hc, binary)
	}

	// Run the same build, with the arguments a release passes.
	out := t.TempDir()
	script := strings.Replace(buildRun, " "+outDir, " "+out, 1)
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-test", "COMMIT=0123456789ab")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}
	for _, name := range []string{"flywheel", "flywheel-agent"} {
		p := filepath.Join(out, name)
		assertStatic(t, p)
		got, err := exec.Command(p, "version").Output()
		if err != nil {
			t.Fatalf("%s version: %v", name, err)
		}
		if !strings.Contains(string(got), "v0.0.0-test") {
			t.Errorf("%s version = %q, want the stamped v0.0.0-test", name, got)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.1f MB", name, float64(fi.Size())/(1<<20))
		// The standalone agent stays small: no server, UI, store or AWS
		// code (cmd/flywheel-agent's TestAgentCarriesNoServerCode).
		if name == "flywheel-agent" && fi.Size() > agentSizeLimit {
			t.Errorf("flywheel-agent is %d bytes, over %d MB", fi.Size(), agentSizeLimit>>20)
		}
	}
	if got, _ := exec.Command(filepath.Join(out, "flywheel-agent"), "version").Output(); !strings.Contains(string(got), "0123456789ab") {
		t.Errorf("flywheel-agent version = %q, want the stamped commit", got)
	}
}

// assertStatic fails unless the ELF file at path asks for no dynamic
// loader and no shared libraries.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a dynamic loader (PT_INTERP): not static", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", path, libs)
	}
}
