package backup

import (
	"strings"
	"testing"
)

// The report lines below are what the scripts print (postgres.go,
// restic.go) and restic 0.14's own --json summary line, as restic printed
// it in TestResticCorruptPack.
const sampleReport = `some pg_dump warning
fwb table public.orders 3 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 COPY public.orders (id, customer, note)
fwb table public.empty 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 COPY public.empty (id)
fwb file /var/backups/pg/app-rp_1.sql
fwb size 4096
fwb sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
{"message_type":"summary","files_new":3,"total_files_processed":3,"total_bytes_processed":300013,"data_added":2113,"snapshot_id":"7fd16264"}
fwb restored 3 300013
`

func TestParseReport(t *testing.T) {
	t.Parallel()
	r, err := parseReport(sampleReport)
	if err != nil {
		t.Fatal(err)
	}
	if o := r.Tables["public.orders"]; o.Rows != 3 || o.Copy != "COPY public.orders (id, customer, note)" || !strings.HasPrefix(o.SHA256, "5891b5") {
		t.Errorf("orders = %+v", o)
	}
	if e, ok := r.Tables["public.empty"]; !ok || e.Rows != 0 {
		t.Errorf("empty table = %+v, %v", e, ok)
	}
	if r.File != "/var/backups/pg/app-rp_1.sql" || r.Size != 4096 || !strings.HasPrefix(r.SHA256, "9f86d0") {
		t.Errorf("file %q size %d sha %q", r.File, r.Size, r.SHA256)
	}
	if r.Restic == nil || r.Restic.SnapshotID != "7fd16264" || r.Restic.TotalFilesProcessed != 3 || r.Restic.TotalBytesProcessed != 300013 {
		t.Errorf("restic summary = %+v", r.Restic)
	}
	if r.Restored == nil || *r.Restored != [2]int64{3, 300013} {
		t.Errorf("restored = %v", r.Restored)
	}
	for _, bad := range []string{
		"fwb table public.t many 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 COPY public.t (a)",
		"fwb table public.t 3 notahash COPY public.t (a)",
		"fwb table public.t 3",
		"fwb size -1",
		"fwb sha256 XYZ",
		"fwb restored 1",
		"fwb launch missiles",
		"fwb table public.t 3 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 COPY public.t (a) TO PROGRAM 'rm -rf /'",
		"fwb table public.t 3 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 COPY public.t (a); DROP TABLE x",
	} {
		if _, err := parseReport(bad); err == nil {
			t.Errorf("parseReport(%q) accepted it", bad)
		}
	}
}

// FuzzParseReport: any output is read or refused with an error, without
// panicking, and what is read is bounded.
func FuzzParseReport(f *testing.F) {
	f.Add(sampleReport)
	f.Add("fwb table a 1 " + strings.Repeat("a", 64) + " COPY a (b)\n")
	f.Add("fwb restored 1 2\r\nfwb size 0")
	f.Add(`{"message_type":"summary","snapshot_id":"x"}`)
	f.Add("fwb table " + strings.Repeat("a", 64) + " 1 " + strings.Repeat("a", 64) + " " + strings.Repeat("a", 64))
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseReport(out)
		if err != nil {
			return
		}
		if len(r.Tables) > maxTables || r.Size < 0 {
			t.Errorf("unbounded report: %d tables, size %d", len(r.Tables), r.Size)
		}
		for _, tb := range r.Tables {
			if tb.Rows < 0 || len(tb.SHA256) != 64 {
				t.Errorf("table %+v", tb)
			}
		}
	})
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"plain": "'plain'", "it's": `'it'\''s'`, "$(rm -rf /)": "'$(rm -rf /)'", "": "''"} {
		if got := shq(in); got != want {
			t.Errorf("shq(%q) = %s, want %s", in, got, want)
		}
	}
}

// compareTables names each difference, and takes manifests of any shape
// (a checksum too short to abbreviate is shown whole).
func TestCompareTables(t *testing.T) {
	t.Parallel()
	sum := func(c string) string { return strings.Repeat(c, 64) }
	want := map[string]Table{"public.a": {Rows: 3, SHA256: sum("a")}, "public.b": {Rows: 1, SHA256: sum("b")}, "public.c": {Rows: 0, SHA256: "x"}}
	got := map[string]Table{"public.a": {Rows: 2, SHA256: sum("a")}, "public.b": {Rows: 1, SHA256: sum("c")}, "public.d": {Rows: 1, SHA256: sum("d")}}
	d := compareTables(want, got)
	for _, part := range []string{"public.a: 2 rows, the point has 3", "public.b: checksum cccccccccccc, the point's is bbbbbbbbbbbb",
		"public.c: missing", "public.d: not in the point"} {
		if !strings.Contains(d, part) {
			t.Errorf("compareTables = %q, want it to say %q", d, part)
		}
	}
	if d := compareTables(want, want); d != "" {
		t.Errorf("equal tables: %q", d)
	}
}
