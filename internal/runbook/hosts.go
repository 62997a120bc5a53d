package runbook

// ActionExec is the action that runs a command or script on a target host
// through its agent (internal/runbook/action/exec).
const ActionExec = "exec"

// maxNestedWalk bounds how deep RunsOnHosts follows nested runbooks.
const maxNestedWalk = 16

// RunsOnHosts reports whether running rb for tenant runs commands on hosts:
// an exec step, in rb or in a runbook it nests (looked up in l). Starting
// such a runbook by hand needs the host-commands permission. A nested
// runbook that cannot be found counts as running on hosts: the check errs
// on the side of asking.
func (l *Library) RunsOnHosts(tenant string, rb *Runbook) bool {
	seen := map[string]bool{}
	var walk func(rb *Runbook, depth int) bool
	walk = func(rb *Runbook, depth int) bool {
		if seen[rb.Name] {
			return false
		}
		seen[rb.Name] = true
		for _, st := range rb.Steps {
			if st.Action == ActionExec {
				return true
			}
			n, ok := st.Control.(*Nested)
			if !ok {
				continue
			}
			child, found := l.Get(tenant, n.Runbook)
			if !found || depth >= maxNestedWalk || walk(child, depth+1) {
				return true
			}
		}
		return false
	}
	return walk(rb, 0)
}
