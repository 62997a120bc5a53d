//go:build unix

package agent

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// setGroup starts the command in a process group of its own, so killing
// the group reaches every process it started.
func setGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// stopGroup sends the command's process group SIGTERM and, when anything
// is left after grace, SIGKILL; it returns the command's Wait result once
// the process has exited (waited delivers it).
func stopGroup(cmd *exec.Cmd, grace time.Duration, waited chan error) error {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	var werr error
	exited := false
	for time.Now().Before(deadline) {
		if !exited {
			select {
			case werr = <-waited:
				exited = true
			default:
			}
		}
		if exited && !groupAlive(pgid) {
			return werr
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if !exited {
		werr = <-waited
	}
	return werr
}

// groupAlive reports whether process group pgid has a process left that is
// not a zombie.
func groupAlive(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc: trust kill(2)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 || i+2 >= len(st) {
			continue
		}
		f := strings.Fields(st[i+2:])
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && pid > 0 {
			return true
		}
	}
	return false
}

// setUser makes the command run as name (the agent must be root unless
// name is its own user).
func setUser(cmd *exec.Cmd, name string) error {
	if name == "" {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return fmt.Errorf("user %q: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return fmt.Errorf("user %q: gid %q: %w", name, u.Gid, err)
	}
	if uint64(os.Getuid()) == uid {
		return nil
	}
	if os.Getuid() != 0 {
		return fmt.Errorf("running as user %q needs the agent to run as root", name)
	}
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}
	return nil
}

// userEnv returns HOME and the name of the user a command runs as.
func userEnv(name string) (home, login string, ok bool) {
	var u *user.User
	var err error
	if name == "" {
		u, err = user.Current()
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return "", "", false
	}
	return u.HomeDir, u.Username, true
}

// reexec replaces the process with the binary now at exe, with the same
// arguments and environment.
func reexec(exe string) error {
	return syscall.Exec(exe, os.Args, os.Environ())
}
