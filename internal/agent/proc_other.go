//go:build !unix

package agent

import (
	"errors"
	"os/exec"
	"time"
)

// Without process groups the agent kills the process itself.

func setGroup(*exec.Cmd) {}

func stopGroup(cmd *exec.Cmd, _ time.Duration, waited chan error) error {
	_ = cmd.Process.Kill()
	return <-waited
}

func setUser(_ *exec.Cmd, name string) error {
	if name != "" {
		return errors.New("running as another user is supported on Unix only")
	}
	return nil
}

func userEnv(string) (string, string, bool) { return "", "", false }

func reexec(string) error {
	return errors.New("re-executing is supported on Unix only; restart the agent")
}
