//go:build unix

package agent

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
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

// killGroup sends the group SIGTERM, then SIGKILL after grace unless the
// process exited first (its exit is left in waited for the caller).
func killGroup(cmd *exec.Cmd, grace time.Duration, waited chan error) {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-waited:
		waited <- err
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// killGroupNow kills what is left of the group.
func killGroupNow(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
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
