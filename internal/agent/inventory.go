package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// Inventory sections, each a JSON value of its own so a change in one
// (a package upgraded) sends only that one:
//
//	host      hostname, OS (/etc/os-release), kernel, arch, boot time
//	cpu       count and model
//	memory    total and available bytes, swap
//	load      load averages and the CPU count
//	network   interfaces and their addresses
//	disks     mounted filesystems from /proc/mounts with statfs usage
//	packages  installed packages (dpkg-query or rpm), name → version
//	updates   pending updates (apt list --upgradable or dnf check-update),
//	          read only: nothing is installed
//	services  systemd services and their state (skipped without systemd)
//	agent     the agent's version and process
//	sshd, sysctl, files, users, apt_periodic
//	          security settings (inventory_host.go)
//
// Collectors are best effort: a missing tool leaves its section out.

// Bounds keep one host's inventory reasonable.
const (
	maxPackages   = 20000
	maxServices   = 5000
	toolTimeout   = 60 * time.Second
	maxToolOutput = 16 << 20
)

// CollectInventory gathers this host's inventory sections.
func CollectInventory(ctx context.Context) map[string]any {
	return collectInventory(ctx, "/")
}

// collectInventory gathers the inventory sections, the security ones
// read under securityRoot.
func collectInventory(ctx context.Context, securityRoot string) map[string]any {
	inv := map[string]any{
		"host":    hostSection(),
		"cpu":     cpuSection(),
		"network": networkSection(),
		"agent": map[string]any{"version": version.Version, "pid": os.Getpid(), "go": runtime.Version(),
			"os": runtime.GOOS, "arch": runtime.GOARCH},
	}
	if m := memorySection(); m != nil {
		inv["memory"] = m
	}
	if l := loadSection(); l != nil {
		inv["load"] = l
	}
	if c := cloudSection("/sys/devices/virtual/dmi/id"); c != nil {
		inv["cloud"] = c
	}
	if d := diskSection(); d != nil {
		inv["disks"] = d
	}
	if p := packageSection(ctx); p != nil {
		inv["packages"] = p
	}
	if u := updateSection(ctx); u != nil {
		inv["updates"] = u
	}
	if s := serviceSection(ctx); s != nil {
		inv["services"] = s
	}
	maps.Copy(inv, CollectSecurity(ctx, securityRoot))
	return inv
}

// osRelease parses /etc/os-release (or /usr/lib/os-release).
func osRelease() map[string]string {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		out := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			} else {
				v = strings.Trim(v, `"'`)
			}
			out[strings.ToLower(k)] = v
		}
		return out
	}
	return nil
}

func hostSection() map[string]any {
	h := map[string]any{"arch": runtime.GOARCH}
	if name, err := os.Hostname(); err == nil {
		h["hostname"] = name
	}
	if rel := osRelease(); rel != nil {
		h["os"] = map[string]string{"id": rel["id"], "version_id": rel["version_id"], "name": rel["name"], "pretty_name": rel["pretty_name"], "id_like": rel["id_like"]}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					h["boot_time"] = time.Unix(n, 0).UTC()
				}
			}
		}
	}
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		h["machine_id"] = strings.TrimSpace(string(b))
	}
	return h
}

func cpuSection() map[string]any {
	c := map[string]any{"count": runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				c["model"] = strings.TrimSpace(v)
				break
			}
		}
	}
	return c
}

// loadSection is the load averages (/proc/loadavg) and the CPU count:
// the server's capacity sampler reads utilisation from them (docs/cost.md).
func loadSection() map[string]any {
	b, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 {
		return nil
	}
	l := map[string]any{"cpus": runtime.NumCPU()}
	for i, k := range []string{"load1", "load5", "load15"} {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			l[k] = v
		}
	}
	return l
}

func memorySection() map[string]any {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil
	}
	keys := map[string]string{"MemTotal": "total_bytes", "MemAvailable": "available_bytes", "SwapTotal": "swap_total_bytes", "SwapFree": "swap_free_bytes"}
	m := map[string]any{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if name, want := keys[k]; ok && want {
			f := strings.Fields(v)
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					m[name] = n * 1024
				}
			}
		}
	}
	return m
}

// ec2InstanceID is the form of an EC2 instance ID.
var ec2InstanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// cloudSection reads the machine's cloud identity from DMI without any
// network call: on EC2 (Nitro) the board asset tag is the instance ID. The
// server matches it against instances it knows of, so an instance with
// this agent is not reported as unmanaged.
func cloudSection(dmiDir string) map[string]any {
	b, err := os.ReadFile(filepath.Join(dmiDir, "board_asset_tag"))
	if err != nil {
		return nil
	}
	id := strings.TrimSpace(string(b))
	if !ec2InstanceID.MatchString(id) {
		return nil
	}
	return map[string]any{"provider": "aws", "instance_id": id}
}

func networkSection() map[string]any {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var list []map[string]any
	var ips []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		var as []string
		for _, a := range addrs {
			s := a.String()
			as = append(as, s)
			if ip, _, err := net.ParseCIDR(s); err == nil && !ip.IsLinkLocalUnicast() {
				ips = append(ips, ip.String())
			}
		}
		list = append(list, map[string]any{"name": ifc.Name, "mac": ifc.HardwareAddr.String(), "up": ifc.Flags&net.FlagUp != 0, "addresses": as})
	}
	return map[string]any{"interfaces": list, "ips": ips, "listening": listeningPorts("/proc/net")}
}

// listeningPorts reads the TCP ports this host listens on from
// /proc/net/tcp and tcp6 (state 0A), sorted: the server matches a
// Prometheus target named 127.0.0.1:<port> to the host whose exporter
// listens there.
func listeningPorts(dir string) []int {
	seen := map[int]bool{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 4 || fs[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil {
				seen[int(p)] = true
			}
		}
	}
	ports := make([]int, 0, len(seen))
	for p := range seen {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	return ports
}

// realFS are the filesystem types whose usage matters.
var realFS = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "zfs": true, "vfat": true,
	"f2fs": true, "jfs": true, "reiserfs": true, "ntfs": true, "ntfs3": true, "exfat": true, "nfs": true, "nfs4": true, "cifs": true,
	"overlay": true, "fuseblk": true}

func diskSection() []map[string]any {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return nil
	}
	var out []map[string]any
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !realFS[f[2]] || seen[f[1]] {
			continue
		}
		mount := unescapeMount(f[1])
		seen[f[1]] = true
		d := map[string]any{"device": f[0], "mount": mount, "fstype": f[2]}
		if u, ok := diskUsage(mount); ok {
			maps.Copy(d, u)
		}
		out = append(out, d)
	}
	return out
}

// unescapeMount undoes /proc/mounts' octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// runTool runs a read-only tool with a timeout; ok is false when it is not
// installed or fails with no output.
func runTool(ctx context.Context, okCodes []int, name string, args ...string) ([]byte, bool) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
	var out bytes.Buffer
	cmd.Stdout = &limitWriter{w: &out, n: maxToolOutput}
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && slices.Contains(okCodes, ee.ExitCode())) {
		return nil, false
	}
	return out.Bytes(), true
}

type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func packageSection(ctx context.Context) map[string]any {
	var out []byte
	var manager string
	if b, ok := runTool(ctx, nil, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"); ok {
		out, manager = b, "dpkg"
	} else if b, ok := runTool(ctx, nil, "rpm", "-qa", "--qf", "ii \t%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n"); ok {
		out, manager = b, "rpm"
	} else {
		return nil
	}
	pkgs := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 4 || !strings.HasPrefix(f[0], "ii") {
			continue
		}
		name := f[1]
		if _, dup := pkgs[name]; dup && f[3] != "" {
			name += ":" + f[3]
		}
		pkgs[name] = f[2]
		if len(pkgs) >= maxPackages {
			break
		}
	}
	return map[string]any{"manager": manager, "count": len(pkgs), "installed": pkgs}
}

func updateSection(ctx context.Context) map[string]any {
	// apt: "name/suite version arch [upgradable from: old]".
	if b, ok := runTool(ctx, nil, "apt", "list", "--upgradable"); ok {
		var ups []map[string]string
		for _, line := range strings.Split(string(b), "\n") {
			name, rest, ok := strings.Cut(line, "/")
			if !ok || strings.HasPrefix(line, "Listing") {
				continue
			}
			f := strings.Fields(rest)
			u := map[string]string{"name": name}
			if len(f) >= 2 {
				u["version"] = f[1]
			}
			if i := strings.Index(rest, "upgradable from: "); i >= 0 {
				u["from"] = strings.TrimSuffix(rest[i+len("upgradable from: "):], "]")
			}
			if strings.Contains(f[0], "security") {
				u["security"] = "true"
			}
			ups = append(ups, u)
		}
		return map[string]any{"manager": "apt", "count": len(ups), "pending": ups}
	}
	// dnf check-update exits 100 when updates are pending.
	if b, ok := runTool(ctx, []int{100}, "dnf", "check-update", "-q"); ok {
		var ups []map[string]string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 || strings.HasPrefix(line, " ") {
				continue
			}
			ups = append(ups, map[string]string{"name": f[0], "version": f[1], "repo": f[2]})
		}
		return map[string]any{"manager": "dnf", "count": len(ups), "pending": ups}
	}
	return nil
}

func serviceSection(ctx context.Context) map[string]any {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil // not booted with systemd
	}
	b, ok := runTool(ctx, nil, "systemctl", "list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager")
	if !ok {
		return nil
	}
	units := map[string]map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		units[f[0]] = map[string]string{"load": f[1], "active": f[2], "sub": f[3], "description": strings.Join(f[4:], " ")}
		if len(units) >= maxServices {
			break
		}
	}
	return map[string]any{"count": len(units), "units": units}
}

// inventoryLoop sends the full inventory at start, then every interval the
// sections that changed (a full one again when the server asks).
func (a *Agent) inventoryLoop(ctx context.Context) error {
	var last map[string]string
	b := backoff{min: a.cfg.MinBackoff, max: a.cfg.MaxBackoff}
	for {
		sections := map[string]json.RawMessage{}
		for k, v := range a.cfg.Collect(ctx) {
			if h, ok := v.(map[string]any); ok && k == "host" && a.host.Hostname != "" {
				// The agent reports the hostname it enrolled with (the server
				// refuses another: identity is fixed at enrollment), and the
				// operating system's own name beside it when it differs.
				if osName, ok := h["hostname"].(string); ok && osName != a.host.Hostname {
					h["os_hostname"] = osName
				}
				h["hostname"] = a.host.Hostname
			}
			raw, err := json.Marshal(v)
			if err == nil {
				sections[k] = raw
			}
		}
		inv := wire.Inventory{Full: last == nil, Sections: map[string]json.RawMessage{}}
		for k, v := range sections {
			if last == nil || last[k] != string(v) {
				inv.Sections[k] = v
			}
		}
		for k := range last {
			if _, ok := sections[k]; !ok {
				inv.Removed = append(inv.Removed, k)
			}
		}
		var err error
		if inv.Full || len(inv.Sections) > 0 || len(inv.Removed) > 0 {
			err = a.c.do(ctx, "PUT", wire.PathInventory, inv, nil)
			if statusOf(err) == 409 {
				inv = wire.Inventory{Full: true, Sections: sections}
				err = a.c.do(ctx, "PUT", wire.PathInventory, inv, nil)
			}
		}
		wait := a.cfg.InventoryInterval
		switch {
		case errors.Is(err, ErrRejected):
			return err
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			wait = b.next()
			a.log.Warn("inventory report failed", "error", err, "retry_in", wait)
		default:
			b.reset()
			last = map[string]string{}
			for k, v := range sections {
				last[k] = string(v)
			}
			if inv.Full {
				a.log.Info("inventory sent", "sections", len(sections))
			}
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}
