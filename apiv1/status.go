package apiv1

import "slices"

// TerminalStatuses are the statuses an execution ends in.
var TerminalStatuses = []string{StatusSucceeded, StatusFailed, StatusCancelled, StatusDenied, StatusTimedOut, StatusIneffective}

// ExecutionEnded reports whether an execution's status is final.
func ExecutionEnded(status string) bool { return slices.Contains(TerminalStatuses, status) }

// CommandEnded reports whether an agent command's status is final.
func CommandEnded(status string) bool {
	switch status {
	case CommandSucceeded, CommandFailed, CommandTimedOut, CommandCancelled, CommandLost:
		return true
	}
	return false
}

// BackupWindowName is the name of the maintenance window a backup plan's
// rule (and selection) runs in, as the server names it.
func BackupWindowName(plan, rule, selection string) string {
	if selection == "" {
		return "backup-" + plan + "-" + rule
	}
	return "backup-" + plan + "-" + rule + "-" + selection
}
