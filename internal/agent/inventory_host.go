package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The host's security settings, as CIS-style checks read them
// (internal/compliance, content/compliance/linux-*.yaml):
//
//	sshd          sshd's effective configuration (sshd -T), keyword → value;
//	              a keyword given several times (hostkey) is a list
//	sysctl        the kernel parameters in SysctlKeys, from /proc/sys
//	files         mode ("0644"), uid and gid of the files in SecurityFiles
//	users         the accounts of /etc/passwd: name, uid, gid, home, shell
//	apt_periodic  APT::Periodic settings of /etc/apt/apt.conf.d
//	              (Unattended-Upgrade "1" turns unattended upgrades on)
//	security_root the root the above were read under, when not /
//
// CollectSecurity reads them under a root directory, so that tests (and
// an agent inspecting a mounted image) can point it elsewhere than /.

// SysctlKeys are the kernel parameters collected.
var SysctlKeys = []string{
	"net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.send_redirects",
	"net.ipv4.conf.all.accept_source_route", "net.ipv4.conf.all.log_martians", "net.ipv4.tcp_syncookies",
	"net.ipv4.icmp_echo_ignore_broadcasts", "net.ipv6.conf.all.accept_redirects", "kernel.randomize_va_space",
	"fs.suid_dumpable", "kernel.dmesg_restrict",
}

// SecurityFiles are the files whose ownership and mode are collected.
var SecurityFiles = []string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/ssh/sshd_config", "/etc/crontab",
	"/boot/grub/grub.cfg", "/etc/sudoers",
}

// maxUsers bounds the accounts collected.
const maxUsers = 5000

// CollectSecurity gathers the security sections under root ("/" for this
// host). Sections whose source is missing are left out.
func CollectSecurity(ctx context.Context, root string) map[string]any {
	if root == "" {
		root = "/"
	}
	inv := map[string]any{}
	if root != "/" {
		inv["security_root"] = root
	}
	if s := sshdSection(ctx, root); s != nil {
		inv["sshd"] = s
	}
	if s := sysctlSection(root); len(s) > 0 {
		inv["sysctl"] = s
	}
	if s := filesSection(root); len(s) > 0 {
		inv["files"] = s
	}
	if s := usersSection(root); s != nil {
		inv["users"] = s
	}
	if s := aptPeriodicSection(root); len(s) > 0 {
		inv["apt_periodic"] = s
	}
	return inv
}

// sshdSection runs sshd -T on root's sshd_config: the effective settings,
// defaults included, as sshd itself resolves them.
func sshdSection(ctx context.Context, root string) map[string]any {
	cfg := filepath.Join(root, "etc/ssh/sshd_config")
	if _, err := os.Stat(cfg); err != nil {
		return nil
	}
	out, ok := runTool(ctx, nil, "sshd", "-T", "-f", cfg)
	if !ok {
		return nil
	}
	return parseSSHDT(string(out))
}

// parseSSHDT reads sshd -T's "keyword value" lines; a keyword given more
// than once becomes a list of its values.
func parseSSHDT(out string) map[string]any {
	m := map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || k == "" {
			continue
		}
		k = strings.ToLower(k)
		switch prev := m[k].(type) {
		case nil:
			m[k] = v
		case string:
			m[k] = []any{prev, v}
		case []any:
			m[k] = append(prev, v)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func sysctlSection(root string) map[string]string {
	out := map[string]string{}
	for _, k := range SysctlKeys {
		b, err := os.ReadFile(filepath.Join(root, "proc/sys", strings.ReplaceAll(k, ".", "/")))
		if err == nil {
			out[k] = strings.TrimSpace(string(b))
		}
	}
	return out
}

func filesSection(root string) map[string]any {
	out := map[string]any{}
	for _, f := range SecurityFiles {
		fi, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			continue
		}
		e := map[string]any{"mode": fmt.Sprintf("%04o", fi.Mode().Perm()|fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky))}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e["uid"], e["gid"] = int(st.Uid), int(st.Gid)
		}
		out[f] = e
	}
	return out
}

// usersSection parses root's /etc/passwd.
func usersSection(root string) []map[string]any {
	f, err := os.Open(filepath.Join(root, "etc/passwd"))
	if err != nil {
		return nil
	}
	defer f.Close()
	users := []map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(users) < maxUsers {
		p := strings.Split(sc.Text(), ":")
		if len(p) != 7 || strings.HasPrefix(p[0], "#") {
			continue
		}
		uid, err1 := strconv.Atoi(p[2])
		gid, err2 := strconv.Atoi(p[3])
		if err1 != nil || err2 != nil {
			continue
		}
		users = append(users, map[string]any{"name": p[0], "uid": uid, "gid": gid, "home": p[5], "shell": p[6]})
	}
	return users
}

// aptPeriodicSection reads `APT::Periodic::Name "value";` lines of
// root's /etc/apt/apt.conf.d files, later files winning as apt reads them.
func aptPeriodicSection(root string) map[string]string {
	files, _ := filepath.Glob(filepath.Join(root, "etc/apt/apt.conf.d/*"))
	out := map[string]string{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			rest, ok := strings.CutPrefix(line, "APT::Periodic::")
			if !ok {
				continue
			}
			k, v, ok := strings.Cut(rest, " ")
			if !ok {
				continue
			}
			out[k] = strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), ";")), `"`)
		}
	}
	return out
}
