package exec

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	t.Parallel()
	tl := newTail(10)
	for i := range 1000 {
		_, _ = tl.Write([]byte{byte('0' + i%10)})
	}
	if got := tl.String(); got != "0123456789" {
		t.Errorf("tail = %q", got)
	}
	if tl.Total() != 1000 {
		t.Errorf("total = %d", tl.Total())
	}

	big := newTail(10)
	_, _ = big.Write([]byte(strings.Repeat("x", 100) + "0123456789"))
	if got := big.String(); got != "0123456789" {
		t.Errorf("one big write: tail = %q", got)
	}

	// A cut through a multi-byte character starts at the next whole one.
	utf := newTail(5)
	_, _ = utf.Write([]byte("aé€€")) // 1 + 2 + 3 + 3 bytes; the last 5 start inside the first €
	if got := utf.String(); got != "€" {
		t.Errorf("utf-8 tail = %q", got)
	}

	whole := newTail(10)
	_, _ = whole.Write([]byte("short"))
	if got := whole.String(); got != "short" {
		t.Errorf("untruncated = %q", got)
	}
}
