package backup

import (
	"fmt"
	"strings"
)

// The restic method backs file paths up into the plan's restic
// repository: restic deduplicates, encrypts and checks its own data, and
// an operator restores with restic alone. The repository is given to
// restic in RESTIC_REPOSITORY and its password in RESTIC_PASSWORD (the
// command's environment, never its arguments, so neither shows in a
// process list, the audit log or the logs).

// resticEnv sets the environment that opens repo: its URL in repoVar and
// password in pwVar (RESTIC_REPOSITORY and RESTIC_PASSWORD for the
// repository restic works on, FW_COPY_* for the copy).
func resticEnv(env map[string]string, repo *Repository, repoVar, pwVar string, secret func(string) (string, bool)) error {
	pw, ok := secret(repo.PasswordEnv)
	if !ok || pw == "" {
		return fmt.Errorf("the server has no secret %s (the repository password)", repo.PasswordEnv)
	}
	env[repoVar], env[pwVar] = repo.URL, pw
	for _, k := range []struct{ name, env string }{{"AWS_ACCESS_KEY_ID", repo.AccessKeyEnv}, {"AWS_SECRET_ACCESS_KEY", repo.SecretKeyEnv}} {
		if k.env == "" {
			continue
		}
		v, ok := secret(k.env)
		if !ok {
			return fmt.Errorf("the server has no secret %s", k.env)
		}
		env[k.name] = v
	}
	return nil
}

// resticBackup is the script that snapshots sel's paths of resource into
// the repository (initialising it the first time), then copies the
// snapshot to the plan's second repository when copyTo is set.
func resticBackup(sel Selection, plan, resource string, copyTo bool) string {
	var b strings.Builder
	b.WriteString(`export RESTIC_CACHE_DIR="${TMPDIR:-/tmp}/flywheel-restic-cache"
fw_summary=$(mktemp)
restic cat config >/dev/null 2>&1 || restic init >/dev/null
`)
	fmt.Fprintf(&b, "restic backup --json --quiet --host %s --tag flywheel --tag %s", shq(resource), shq("plan="+plan))
	for _, x := range sel.ExcludePaths {
		b.WriteString(" --exclude " + shq(x))
	}
	for _, p := range sel.Paths {
		b.WriteString(" " + shq(p))
	}
	b.WriteString(` > "$fw_summary"
cat "$fw_summary"
fw_snap=$(sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p' "$fw_summary")
`)
	if copyTo {
		b.WriteString(`( export RESTIC_FROM_REPOSITORY="$RESTIC_REPOSITORY" RESTIC_FROM_PASSWORD="$RESTIC_PASSWORD"
  export RESTIC_REPOSITORY="$FW_COPY_REPOSITORY" RESTIC_PASSWORD="$FW_COPY_PASSWORD"
  restic cat config >/dev/null 2>&1 || restic init --copy-chunker-params >/dev/null
  restic copy --quiet "$fw_snap" >&2 )
`)
	}
	return withHooks(sel, b.String())
}

// resticRestore is the script that checks the repository's data (every
// pack is read and its hashes verified) and restores a snapshot into dir,
// reporting what it wrote; validate runs after with FLYWHEEL_RESTORE_DIR
// set; cleanup removes dir at the end.
func resticRestore(snapshot, dir, validate string, check, cleanup bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `set -eu
export RESTIC_CACHE_DIR="${TMPDIR:-/tmp}/flywheel-restic-cache"
fw_dir=%s
`, shq(dir))
	if cleanup {
		b.WriteString("trap 'rm -rf \"$fw_dir\"' EXIT\n")
	}
	if check {
		b.WriteString("restic check --read-data >&2\n")
	}
	fmt.Fprintf(&b, `restic restore %s --target "$fw_dir" --verify >&2
echo "fwb restored $(find "$fw_dir" -type f | wc -l | tr -d ' ') $(find "$fw_dir" -type f -printf '%%s\n' | awk '{s += $1} END {print s + 0}')"
`, shq(snapshot))
	if validate != "" {
		fmt.Fprintf(&b, "export FLYWHEEL_RESTORE_DIR=\"$fw_dir\"\n(\n%s\n)\n", validate)
	}
	return b.String()
}

// resticForget removes a snapshot and the data only it used.
func resticForget(snapshot string) string {
	return "set -eu\nexport RESTIC_CACHE_DIR=\"${TMPDIR:-/tmp}/flywheel-restic-cache\"\nrestic forget --prune " + shq(snapshot) + " >&2\n"
}
