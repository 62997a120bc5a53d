package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// A delivery in the intake journal: a format byte, then ID, tenant, source
// and header as uvarint-length-prefixed strings, the receipt time in
// microseconds (varint), and the body, which is the rest.
const deliveryFormat = 1

func encodeDelivery(b store.IntakeBatch) []byte {
	p := make([]byte, 0, 1+4*binary.MaxVarintLen32+len(b.ID)+len(b.TenantID)+len(b.Source)+len(b.Header)+binary.MaxVarintLen64+len(b.Body))
	p = append(p, deliveryFormat)
	for _, f := range []string{b.ID, b.TenantID, b.Source} {
		p = binary.AppendUvarint(p, uint64(len(f)))
		p = append(p, f...)
	}
	p = binary.AppendUvarint(p, uint64(len(b.Header)))
	p = append(p, b.Header...)
	p = binary.AppendVarint(p, ts(b.ReceivedAt))
	return append(p, b.Body...)
}

var errDelivery = errors.New("not a delivery record")

// decodeDelivery reads what encodeDelivery wrote; the result shares no
// memory with p.
func decodeDelivery(p []byte) (store.IntakeBatch, error) {
	var b store.IntakeBatch
	if len(p) == 0 || p[0] != deliveryFormat {
		return b, fmt.Errorf("%w: format %v", errDelivery, p[:min(len(p), 1)])
	}
	p = p[1:]
	field := func(name string) ([]byte, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return nil, fmt.Errorf("%w: %s", errDelivery, name)
		}
		f := p[k : k+int(n)]
		p = p[k+int(n):]
		return f, nil
	}
	var fs [4][]byte
	for i, name := range []string{"id", "tenant", "source", "header"} {
		f, err := field(name)
		if err != nil {
			return b, err
		}
		fs[i] = f
	}
	at, k := binary.Varint(p)
	if k <= 0 {
		return b, fmt.Errorf("%w: receipt time", errDelivery)
	}
	b.ID, b.TenantID, b.Source = string(fs[0]), string(fs[1]), string(fs[2])
	if len(fs[3]) > 0 {
		b.Header = []byte(string(fs[3]))
	}
	b.ReceivedAt = fromTS(at)
	b.Body = []byte(string(p[k:]))
	return b, nil
}
