package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"sync/atomic"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// idSeq orders IDs made in the same millisecond by this process.
var idSeq atomic.Uint32

// NewID returns a new identifier "<prefix>_<26 chars>". IDs sort by creation
// time (millisecond resolution), then by creation order within this
// process, then randomly; cursor pagination and timelines rely on it.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	binary.BigEndian.PutUint32(b[6:10], idSeq.Add(1))
	if _, err := rand.Read(b[10:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}
