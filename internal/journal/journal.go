// Package journal is an append-only log of records in segment files: what
// the intake writes once per group of accepted deliveries, before it answers
// 200, with one write(2).
//
// A record is framed as its length and a CRC-32C of the length and the
// payload (both little-endian uint32) followed by the payload; covering the
// length keeps zeroed space (a file extended but not written) from reading
// as empty records. A record's position is the
// number of bytes written to the log before it (its LSN), over all segments;
// a segment file is named for the position of its first byte, in hex, so
// positions survive the removal of old segments.
//
// A write(2) that returned is in the operating system's page cache: it
// survives the process being killed, as an SQLite commit in WAL mode with
// synchronous=NORMAL does. With Options.Sync each append is also flushed to
// the device (fdatasync) before it returns, which survives power loss at the
// cost of a device flush per group. A record cut short or damaged (a torn
// write at power loss) ends the segment: Open truncates the last segment
// there, and reading stops at it.
package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Options configure Open.
type Options struct {
	// SegmentSize is the size past which appends go to a new segment
	// (default 64 MiB).
	SegmentSize int64
	// Sync flushes each append to the device before it returns.
	Sync bool
}

// MaxRecord is the largest payload a record may hold.
const MaxRecord = 64 << 20

const (
	headerSize = 8
	suffix     = ".log"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of a record's length field and payload.
func checksum(length, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(length, castagnoli), castagnoli, payload)
}

func h4(n int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(n)) }

// ErrCorrupt reports a damaged record where one was expected.
var ErrCorrupt = errors.New("journal: damaged record")

// Log is an open journal. Append is safe for concurrent use; reads may run
// beside appends.
type Log struct {
	dir  string
	opts Options

	mu    sync.Mutex
	f     *os.File // the segment appended to
	bases []int64  // first positions of the segments on disk, ascending
	end   int64    // position after the last record
	buf   []byte
}

// Open opens (creating) the journal in dir. The last segment is checked
// record by record and cut after its last whole record.
func Open(dir string, o Options) (*Log, error) {
	if o.SegmentSize <= 0 {
		o.SegmentSize = 64 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: o}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), suffix)
		if !ok || e.IsDir() {
			continue
		}
		base, err := strconv.ParseInt(name, 16, 64)
		if err != nil || base < 0 {
			continue
		}
		l.bases = append(l.bases, base)
	}
	slices.Sort(l.bases)
	if len(l.bases) == 0 {
		l.bases = []int64{0}
	}
	last := l.bases[len(l.bases)-1]
	f, err := os.OpenFile(l.path(last), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	size, err := wholeRecords(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	l.f, l.end = f, last+size
	return l, nil
}

func (l *Log) path(base int64) string {
	return filepath.Join(l.dir, fmt.Sprintf("%016x%s", base, suffix))
}

// wholeRecords returns the length of f's prefix of whole, undamaged records.
func wholeRecords(f *os.File) (int64, error) {
	r := newReader(f)
	var off int64
	for {
		n, err := r.next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, ErrCorrupt) {
				return off, nil
			}
			return 0, err
		}
		off += int64(headerSize + n)
	}
}

// After is the position just past a record at pos holding payload.
func After(pos int64, payload []byte) int64 { return pos + headerSize + int64(len(payload)) }

// End is the position the next record will have.
func (l *Log) End() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end
}

// Append writes the records with one write(2) (after moving to a new
// segment if the current one is full) and returns each one's position.
// The records are in the log once it returns without error; after an
// error none of them is (a partial write is cut off).
func (l *Log) Append(recs ...[]byte) ([]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil, errors.New("journal: closed")
	}
	size := 0
	for _, r := range recs {
		if len(r) > MaxRecord {
			return nil, fmt.Errorf("journal: record of %d bytes (at most %d)", len(r), MaxRecord)
		}
		size += headerSize + len(r)
	}
	base := l.bases[len(l.bases)-1]
	if l.end > base && l.end-base+int64(size) > l.opts.SegmentSize {
		if err := l.rotate(); err != nil {
			return nil, err
		}
	}
	buf := slices.Grow(l.buf[:0], size)
	pos := make([]int64, len(recs))
	for i, r := range recs {
		pos[i] = l.end + int64(len(buf))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r)))
		buf = binary.LittleEndian.AppendUint32(buf, checksum(h4(len(r)), r))
		buf = append(buf, r...)
	}
	if cap(buf) <= 1<<20 {
		l.buf = buf // keep a modest buffer for the next group
	}
	if _, err := l.f.Write(buf); err != nil {
		// Cut off whatever part was written: the next append must start
		// at a record boundary.
		_ = l.f.Truncate(l.end - base)
		_, _ = l.f.Seek(l.end-base, io.SeekStart)
		return nil, fmt.Errorf("journal: append: %w", err)
	}
	if l.opts.Sync {
		if err := l.f.Sync(); err != nil {
			return nil, fmt.Errorf("journal: sync: %w", err)
		}
	}
	l.end += int64(size)
	return pos, nil
}

// rotate starts a new segment at the current end.
func (l *Log) rotate() error {
	f, err := os.OpenFile(l.path(l.end), os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("journal: new segment: %w", err)
	}
	if l.opts.Sync {
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return err
		}
	}
	old := l.f
	l.f = f
	l.bases = append(l.bases, l.end)
	return old.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Start is the position of the oldest record still on disk.
func (l *Log) Start() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bases[0]
}

// Remove deletes the segments that hold only records before pos (never the
// one appended to) and returns how many it deleted.
func (l *Log) Remove(pos int64) (int, error) {
	l.mu.Lock()
	var gone []int64
	for len(l.bases) > 1 && l.bases[1] <= pos {
		gone = append(gone, l.bases[0])
		l.bases = l.bases[1:]
	}
	l.mu.Unlock()
	for _, b := range gone {
		if err := os.Remove(l.path(b)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	return len(gone), nil
}

// Read calls fn with each record from position from (a record's position,
// or Start) up to the end as it was when Read began, in order. fn's payload
// is valid only during the call. A damaged record ends its segment: reading
// goes on in the next one, and Read returns ErrCorrupt at the end.
func (l *Log) Read(from int64, fn func(pos int64, payload []byte) error) error {
	l.mu.Lock()
	bases, end := slices.Clone(l.bases), l.end
	l.mu.Unlock()
	if from < bases[0] {
		return fmt.Errorf("journal: position %d was removed (the oldest is %d)", from, bases[0])
	}
	var damaged error
	for i, base := range bases {
		segEnd := end
		if i+1 < len(bases) {
			segEnd = bases[i+1]
		}
		if from >= segEnd {
			continue
		}
		err := l.readSegment(base, max(from, base), segEnd, fn)
		if errors.Is(err, ErrCorrupt) {
			damaged = fmt.Errorf("segment %s: %w", l.path(base), err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return damaged
}

func (l *Log) readSegment(base, from, end int64, fn func(int64, []byte) error) error {
	f, err := os.Open(l.path(base))
	if err != nil {
		return err
	}
	defer f.Close()
	r := newReader(io.NewSectionReader(f, from-base, end-from))
	pos := from
	for pos < end {
		n, err := r.next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: cut short at %d", ErrCorrupt, pos)
		}
		if err != nil {
			return err
		}
		if err := fn(pos, r.payload[:n]); err != nil {
			return err
		}
		pos += int64(headerSize + n)
	}
	return nil
}

// ReadAt returns the payload of the record at pos.
func (l *Log) ReadAt(pos int64) ([]byte, error) {
	l.mu.Lock()
	bases, end := l.bases, l.end
	i, _ := slices.BinarySearch(bases, pos+1)
	var base int64 = -1
	if i > 0 {
		base = bases[i-1]
	}
	l.mu.Unlock()
	if base < 0 || pos >= end {
		return nil, fmt.Errorf("journal: no record at %d", pos)
	}
	f, err := os.Open(l.path(base))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], pos-base); err != nil {
		return nil, fmt.Errorf("journal: record at %d: %w", pos, err)
	}
	n, sum := binary.LittleEndian.Uint32(h[:4]), binary.LittleEndian.Uint32(h[4:])
	if n > MaxRecord {
		return nil, fmt.Errorf("%w at %d", ErrCorrupt, pos)
	}
	p := make([]byte, n)
	if _, err := f.ReadAt(p, pos-base+headerSize); err != nil {
		return nil, fmt.Errorf("journal: record at %d: %w", pos, err)
	}
	if checksum(h[:4], p) != sum {
		return nil, fmt.Errorf("%w at %d", ErrCorrupt, pos)
	}
	return p, nil
}

// Sync flushes what was appended to the device.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("journal: closed")
	}
	return l.f.Sync()
}

// Close closes the segment appended to.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// reader reads framed records from a stream.
type reader struct {
	r       *bufio.Reader
	payload []byte
}

func newReader(r io.Reader) *reader { return &reader{r: bufio.NewReaderSize(r, 256<<10)} }

// next reads the next record into r.payload and returns its length:
// io.EOF at a clean end, ErrCorrupt for a partial or damaged record.
func (r *reader) next() (int, error) {
	var h [headerSize]byte
	if n, err := io.ReadFull(r.r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) && n > 0 {
			return 0, fmt.Errorf("%w: header cut short", ErrCorrupt)
		}
		return 0, err
	}
	n, sum := binary.LittleEndian.Uint32(h[:4]), binary.LittleEndian.Uint32(h[4:])
	if n > MaxRecord {
		return 0, fmt.Errorf("%w: length %d", ErrCorrupt, n)
	}
	r.payload = slices.Grow(r.payload[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.payload); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("%w: payload cut short", ErrCorrupt)
		}
		return 0, err
	}
	if checksum(h[:4], r.payload) != sum {
		return 0, fmt.Errorf("%w: checksum", ErrCorrupt)
	}
	return int(n), nil
}
