package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func rec(i int) []byte {
	return []byte(fmt.Sprintf("record %d %s", i, bytes.Repeat([]byte{'x'}, i%50)))
}

// readAll returns every record from pos with its position.
func readAll(t *testing.T, l *Log, from int64) ([]int64, [][]byte, error) {
	t.Helper()
	var pos []int64
	var got [][]byte
	err := l.Read(from, func(p int64, b []byte) error {
		pos = append(pos, p)
		got = append(got, slices.Clone(b))
		return nil
	})
	return pos, got, err
}

// Records appended in groups come back in order with the positions Append
// gave, across segments and a reopen; ReadAt finds each one.
func TestAppendReadReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	var wantPos []int64
	for g := range 40 {
		var group [][]byte
		for i := range g%5 + 1 {
			group = append(group, rec(g*10+i))
		}
		pos, err := l.Append(group...)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, group...)
		wantPos = append(wantPos, pos...)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(segs) < 3 {
		t.Fatalf("%d segments, want several of 1,000 bytes", len(segs))
	}
	check := func(l *Log) {
		t.Helper()
		pos, got, err := readAll(t, l, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pos, wantPos) || len(got) != len(want) {
			t.Fatalf("read %d records at %v…, want %d at %v…", len(got), pos[:3], len(want), wantPos[:3])
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
			}
			if b, err := l.ReadAt(wantPos[i]); err != nil || !bytes.Equal(b, want[i]) {
				t.Fatalf("ReadAt(%d) = %q, %v", wantPos[i], b, err)
			}
		}
		// From the middle.
		pos, _, err = readAll(t, l, wantPos[17])
		if err != nil || !slices.Equal(pos, wantPos[17:]) {
			t.Fatalf("from record 17: %d records, %v", len(pos), err)
		}
	}
	check(l)
	end := l.End()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{SegmentSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.End() != end {
		t.Fatalf("End after reopen = %d, want %d", l.End(), end)
	}
	check(l)
	pos, err := l.Append([]byte("after reopen"))
	if err != nil || pos[0] != end {
		t.Fatalf("append after reopen at %v, %v; want %d", pos, err, end)
	}
}

// A record cut short or damaged at the end (a torn write) is cut off at
// Open, and the next append takes its place.
func TestTornTail(t *testing.T) {
	for name, damage := range map[string]func(b []byte) []byte{
		"cut in the payload": func(b []byte) []byte { return b[:len(b)-3] },
		"cut in the header":  func(b []byte) []byte { return b[:len(b)-len("third")-headerSize+3] },
		"checksum":           func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b },
		"zeros after":        func(b []byte) []byte { return append(b, make([]byte, 4096)...) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			pos, err := l.Append([]byte("first"), []byte("second"), []byte("third"))
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			seg := filepath.Join(dir, "0000000000000000.log")
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err = Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			wantEnd := pos[2]
			if name == "zeros after" {
				wantEnd = int64(len(b)) // the zeros are cut off
			}
			if l.End() != wantEnd {
				t.Fatalf("End = %d, want %d", l.End(), wantEnd)
			}
			if _, err := l.Append([]byte("fourth")); err != nil {
				t.Fatal(err)
			}
			_, got, err := readAll(t, l, 0)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, g := range got {
				s = append(s, string(g))
			}
			want := []string{"first", "second", "fourth"}
			if name == "zeros after" {
				want = []string{"first", "second", "third", "fourth"}
			}
			if !slices.Equal(s, want) {
				t.Fatalf("records %q, want %q", s, want)
			}
		})
	}
}

// Remove deletes whole segments before a position, never the current one;
// reading from a removed position is an error naming it.
func TestRemove(t *testing.T) {
	l, err := Open(t.TempDir(), Options{SegmentSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var pos []int64
	for i := range 20 {
		p, err := l.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p...)
	}
	n, err := l.Remove(pos[10])
	if err != nil || n == 0 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	if l.Start() > pos[10] {
		t.Fatalf("Start %d past the position kept %d", l.Start(), pos[10])
	}
	got, _, err := readAll(t, l, pos[10])
	if err != nil || !slices.Equal(got, pos[10:]) {
		t.Fatalf("after Remove: %v, %v", got, err)
	}
	if err := l.Read(0, func(int64, []byte) error { return nil }); err == nil {
		t.Fatal("reading a removed position: no error")
	}
	if n, err := l.Remove(l.End() + 1000); err != nil || l.Start() != pos[19] && l.Start() > pos[19] {
		t.Fatalf("Remove past the end: %d, %v", n, err)
	}
	if _, err := l.Append([]byte("still appends")); err != nil {
		t.Fatal(err)
	}
}

// A damaged record in an older segment ends that segment; the records of
// the next ones are still read, and Read says what was damaged.
func TestDamagedOlderSegment(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: 60})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if _, err := l.Append([]byte(fmt.Sprintf("rec-%d-%s", i, bytes.Repeat([]byte{'y'}, 30)))); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	slices.Sort(segs)
	b, _ := os.ReadFile(segs[0])
	b[headerSize+2] ^= 0xff
	os.WriteFile(segs[0], b, 0o600)
	_, got, err := readAll(t, l, 0)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if len(got) != 5 || !bytes.HasPrefix(got[0], []byte("rec-1-")) {
		t.Fatalf("read %d records, first %q", len(got), got[0])
	}
}

func TestRecordTooLarge(t *testing.T) {
	l, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(make([]byte, MaxRecord+1)); err == nil {
		t.Fatal("a record over MaxRecord was appended")
	}
	if l.End() != 0 {
		t.Fatalf("End = %d after a refused append", l.End())
	}
}

// Whatever bytes a segment holds, Open keeps exactly the prefix of whole
// records and reading returns them unchanged.
func FuzzSegment(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'})
	f.Add(append(append(h4(5), binary.LittleEndian.AppendUint32(nil, checksum(h4(5), []byte("hello")))...), "hello"...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0000000000000000.log"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.End() > int64(len(data)) {
			t.Fatalf("End %d past the %d bytes", l.End(), len(data))
		}
		var n int64
		err = l.Read(0, func(pos int64, b []byte) error {
			if pos != n || !bytes.Equal(b, data[pos+headerSize:pos+headerSize+int64(len(b))]) {
				t.Fatalf("record at %d differs from the file", pos)
			}
			n = pos + headerSize + int64(len(b))
			return nil
		})
		if err != nil || n != l.End() {
			t.Fatalf("read up to %d of %d: %v", n, l.End(), err)
		}
	})
}
