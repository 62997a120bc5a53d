package backup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A method's script reports what it did on lines of its output that start
// with "fwb " (the rest is the tools' own output, kept for the log):
//
//	fwb table <name> <rows> <sha256> <COPY header…>   a dumped or restored table
//	fwb file <path>                                   the point's file on the host
//	fwb size <bytes>                                  the point's size
//	fwb sha256 <hex>                                  the point's checksum
//	fwb restored <files> <bytes>                      what a restic restore wrote
//
// restic's own --json summary line carries a snapshot's ID and sizes.
const reportPrefix = "fwb "

// report is what a script said.
type report struct {
	Tables   map[string]Table
	File     string
	Size     int64
	SHA256   string
	Restored *[2]int64
	Restic   *resticSummary
}

// Table is a table's row count and the SHA-256 of its rows in COPY text
// form, sorted bytewise, one per line: equal on the dump and on any
// database restored from it, whatever the physical row order.
type Table struct {
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
	// Copy is the dump's COPY header, which names the columns in order.
	Copy string `json:"copy"`
}

// resticSummary is the summary line of `restic backup --json`.
type resticSummary struct {
	MessageType         string `json:"message_type"`
	SnapshotID          string `json:"snapshot_id"`
	TotalFilesProcessed int64  `json:"total_files_processed"`
	TotalBytesProcessed int64  `json:"total_bytes_processed"`
	DataAdded           int64  `json:"data_added"`
}

// maxTables bounds a report (and a point's manifest).
const maxTables = 10000

// parseReport reads a script's output. Lines that are not reports are
// ignored; a malformed report line is an error naming it.
func parseReport(out string) (report, error) {
	r := report{Tables: map[string]Table{}}
	for n, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "{") && strings.Contains(line, `"summary"`) {
			var s resticSummary
			if err := json.Unmarshal([]byte(line), &s); err == nil && s.MessageType == "summary" {
				r.Restic = &s
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, reportPrefix)
		if !ok {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("report line %d %q: %s", n+1, clip(line), why) }
		f := strings.Fields(rest)
		if len(f) < 2 {
			return r, bad("too few fields")
		}
		switch f[0] {
		case "table":
			if len(f) < 5 {
				return r, bad("want table <name> <rows> <sha256> <COPY header>")
			}
			rows, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil || rows < 0 {
				return r, bad("rows is not a count")
			}
			if !isHex(f[3], 64) {
				return r, bad("not a SHA-256")
			}
			if len(r.Tables) >= maxTables {
				return r, bad(fmt.Sprintf("more than %d tables", maxTables))
			}
			// The header is everything after the fourth field (the
			// scripts separate fields with one space).
			parts := strings.SplitN(rest, " ", 5)
			if len(parts) != 5 || parts[1] != f[1] || parts[3] != f[3] || !strings.HasPrefix(parts[4], "COPY ") {
				return r, bad("want table <name> <rows> <sha256> <COPY header>, one space apart")
			}
			// A restore runs the header again (… TO STDOUT): it may name
			// a table and columns, nothing more.
			if u := strings.ToUpper(parts[4]); strings.ContainsAny(u, ";\x00") || strings.Contains(u, "PROGRAM") || strings.Contains(u, " TO ") || strings.Contains(u, " FROM ") {
				return r, bad("the COPY header does more than name a table and its columns")
			}
			r.Tables[f[1]] = Table{Rows: rows, SHA256: f[3], Copy: parts[4]}
		case "file":
			r.File = strings.TrimSpace(strings.TrimPrefix(rest, "file"))
		case "size":
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || n < 0 {
				return r, bad("size is not a byte count")
			}
			r.Size = n
		case "sha256":
			if !isHex(f[1], 64) {
				return r, bad("not a SHA-256")
			}
			r.SHA256 = f[1]
		case "restored":
			if len(f) != 3 {
				return r, bad("want restored <files> <bytes>")
			}
			files, err1 := strconv.ParseInt(f[1], 10, 64)
			bytes, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil || files < 0 || bytes < 0 {
				return r, bad("counts are not numbers")
			}
			r.Restored = &[2]int64{files, bytes}
		default:
			return r, bad("unknown report " + f[0])
		}
	}
	return r, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func clip(s string) string { return clipN(s, 120) }

func clipN(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
