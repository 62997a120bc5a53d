package backup

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The postgres method takes a point with pg_dump in plain format. pg_dump
// reads every table in one repeatable-read snapshot, so the dump is
// application-consistent: a running application's writes are either
// wholly in it or not at all. The script then sums each table's COPY
// block (rows, and SHA-256 of the sorted rows), which is what a restore
// must give back exactly.

// pgConn is the psql/pg_dump connection options of a target.
func pgConn(pg *PostgresTarget) string {
	var b strings.Builder
	b.WriteString("--no-password")
	if pg.Host != "" {
		b.WriteString(" --host=" + shq(pg.Host))
	}
	if pg.Port != 0 {
		b.WriteString(" --port=" + strconv.Itoa(pg.Port))
	}
	if pg.User != "" {
		b.WriteString(" --username=" + shq(pg.User))
	}
	return b.String()
}

// tableSums prints a report line per COPY block of the plain dump $1.
// Each block's rows go to a file of their own; the rows are then counted
// and summed in bytewise order (LC_ALL=C), as restores are.
const tableSums = `fw_table_sums() {
	fw_t=$(mktemp -d)
	awk -v out="$fw_t" '
		/^COPY / && tbl == "" { tbl = $2; k++; file = out "/" k; printf "" > file; hdr = $0; sub(/ FROM stdin;$/, "", hdr); print tbl "\t" k "\t" hdr > (out "/index"); next }
		tbl != "" && $0 == "\\." { close(file); tbl = ""; next }
		tbl != "" { print > file }
	' "$1"
	if [ -f "$fw_t/index" ]; then
		while IFS='	' read -r fw_name fw_k fw_hdr; do
			echo "fwb table $fw_name $(wc -l < "$fw_t/$fw_k" | tr -d ' ') $(LC_ALL=C sort "$fw_t/$fw_k" | sha256sum | cut -d' ' -f1) $fw_hdr"
		done < "$fw_t/index"
	fi
	rm -rf "$fw_t"
}
`

// postgresBackup is the script that dumps sel's database to a new file
// named for the point.
func postgresBackup(sel Selection, pointID string) string {
	pg := sel.Postgres
	file := strings.TrimRight(pg.DumpDir, "/") + "/" + pg.Database + "-" + pointID + ".sql"
	return withHooks(sel, tableSums+fmt.Sprintf(`umask 077
mkdir -p %[1]s
fw_file=%[2]s
pg_dump %[3]s --format=plain --no-owner --dbname=%[4]s --file="$fw_file.part"
mv "$fw_file.part" "$fw_file"
fw_table_sums "$fw_file"
echo "fwb file $fw_file"
echo "fwb size $(stat -c %%s "$fw_file")"
echo "fwb sha256 $(sha256sum "$fw_file" | cut -d' ' -f1)"
`, shq(pg.DumpDir), shq(file), pgConn(pg), shq(pg.Database)))
}

// postgresRestore is the script that restores the dump of a point into a
// new database and sums its tables as the dump's were summed. The dump's
// checksum is checked first. validate runs after, with
// FLYWHEEL_RESTORE_DATABASE set; drop removes the database at the end.
func postgresRestore(pg *PostgresTarget, file, sha, database string, tables map[string]Table, validate string, drop bool) string {
	var b strings.Builder
	conn := pgConn(pg)
	fmt.Fprintf(&b, `set -eu
fw_file=%[1]s
fw_db=%[2]s
fw_sum=$(sha256sum "$fw_file" | cut -d' ' -f1)
echo "fwb sha256 $fw_sum"
if [ "$fw_sum" != %[3]s ]; then echo "the dump's checksum is $fw_sum, not the recovery point's %[3]s" >&2; exit 3; fi
`, shq(file), shq(database), shq(sha))
	if drop {
		fmt.Fprintf(&b, "trap 'dropdb %s --if-exists \"$fw_db\" || true' EXIT\n", conn)
	}
	fmt.Fprintf(&b, `createdb %[1]s "$fw_db"
psql %[1]s --quiet --set=ON_ERROR_STOP=1 --dbname="$fw_db" --file="$fw_file" >/dev/null
fw_t=$(mktemp)
`, conn)
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := tables[n]
		fmt.Fprintf(&b, `psql %s --no-psqlrc --dbname="$fw_db" --command=%s > "$fw_t"
echo "fwb table "%s" $(wc -l < "$fw_t" | tr -d ' ') $(LC_ALL=C sort "$fw_t" | sha256sum | cut -d' ' -f1) "%s
`, conn, shq(t.Copy+" TO STDOUT"), shq(n), shq(t.Copy))
	}
	b.WriteString("rm -f \"$fw_t\"\n")
	if validate != "" {
		fmt.Fprintf(&b, "export FLYWHEEL_RESTORE_DATABASE=\"$fw_db\"\n(\n%s\n)\n", validate)
	}
	return b.String()
}

// postgresDelete removes a point's dump file.
func postgresDelete(file string) string { return "rm -f " + shq(file) + "\n" }

// compareTables says how restored tables differ from a point's manifest
// ("" when equal).
func compareTables(want, got map[string]Table) string {
	var diffs []string
	for n, w := range want {
		g, ok := got[n]
		switch {
		case !ok:
			diffs = append(diffs, n+": missing")
		case g.Rows != w.Rows:
			diffs = append(diffs, fmt.Sprintf("%s: %d rows, the point has %d", n, g.Rows, w.Rows))
		case g.SHA256 != w.SHA256:
			diffs = append(diffs, fmt.Sprintf("%s: checksum %.12s, the point's is %.12s", n, g.SHA256, w.SHA256))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			diffs = append(diffs, n+": not in the point")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}
