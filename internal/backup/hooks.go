package backup

import (
	"fmt"
	"strings"
)

// withHooks wraps a method's script in the selection's hooks: the
// pre-hook runs first and a failure there fails the backup before it
// starts; the post-hook runs on every way out (an EXIT trap), so a frozen
// application is thawed even when the backup failed, and its own failure
// fails the backup.
func withHooks(sel Selection, body string) string {
	var b strings.Builder
	b.WriteString("set -eu\n")
	if sel.PostHook != "" {
		fmt.Fprintf(&b, "fw_post_hook() {\n%s\n}\n", sel.PostHook)
		b.WriteString(`fw_exit() { st=$?; trap - EXIT; if ! (fw_post_hook); then echo "post_hook failed" >&2; [ "$st" -ne 0 ] || st=1; fi; exit "$st"; }` + "\ntrap fw_exit EXIT\n")
	}
	if sel.PreHook != "" {
		fmt.Fprintf(&b, "fw_pre_hook() {\n%s\n}\n", sel.PreHook)
		b.WriteString(`if ! (fw_pre_hook); then echo "pre_hook failed" >&2; exit 1; fi` + "\n")
	}
	b.WriteString(body)
	return b.String()
}
