package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// binaries serves agent builds from a directory: flywheel-<os>-<arch>, with
// an optional flywheel-<os>-<arch>.sha256 ("<hex>" or sha256sum's
// "<hex>  <name>"). Without one the server hashes the file itself; hashes
// are cached by file size and modification time.
type binaries struct {
	dir   string
	mu    sync.Mutex
	cache map[string]binary
}

type binary struct {
	path    string
	sha256  string
	size    int64
	modTime time.Time
}

var platformWord = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// lookup returns the build for goos/goarch, if the directory has one.
func (b *binaries) lookup(goos, goarch string) (binary, bool) {
	if b.dir == "" || !platformWord.MatchString(goos) || !platformWord.MatchString(goarch) {
		return binary{}, false
	}
	name := "flywheel-" + goos + "-" + goarch
	path := filepath.Join(b.dir, name)
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return binary{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.cache[name]; ok && c.size == fi.Size() && c.modTime.Equal(fi.ModTime()) {
		return c, true
	}
	sum, err := readSum(path + ".sha256")
	if err != nil {
		if sum, err = hashFile(path); err != nil {
			return binary{}, false
		}
	}
	c := binary{path: path, sha256: sum, size: fi.Size(), modTime: fi.ModTime()}
	if b.cache == nil {
		b.cache = map[string]binary{}
	}
	b.cache[name] = c
	return c, true
}

func readSum(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 || len(f[0]) != 64 {
		return "", fmt.Errorf("%s: not a SHA-256", path)
	}
	if _, err := hex.DecodeString(f[0]); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return strings.ToLower(f[0]), nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Binary opens the agent build for goos/goarch; ok is false when the server
// has none.
func (s *Service) Binary(goos, goarch string) (f *os.File, sha string, size int64, ok bool) {
	b, ok := s.bins.lookup(goos, goarch)
	if !ok {
		return nil, "", 0, false
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, "", 0, false
	}
	return f, b.sha256, b.size, true
}
