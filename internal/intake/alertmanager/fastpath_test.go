package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// slowArray is parseArray without the fast path.
func (p parser) slowArray(body []byte) (intake.Result, error) {
	var items []rawJSON
	if err := intake.DecodeJSON(body, &items); err != nil {
		return intake.Result{}, err
	}
	for _, it := range items {
		if firstByte(it) != '{' {
			return intake.Result{}, intake.Badf(apiv2Shape, intake.Shape(body))
		}
	}
	events, err := p.events(items, 0)
	if err != nil {
		return intake.Result{}, err
	}
	for i, it := range items {
		events[i].Raw = append([]byte(nil), it...)
	}
	return intake.Result{Events: events}, nil
}

// checkFastPath: wherever the fast path answers, it answers exactly what
// encoding/json does — the same events (Raw included) or the same error.
func checkFastPath(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	p := newParser([]Option{WithClock(testClock)})
	res, err, ok := p.fastArray(body)
	if !ok {
		return false
	}
	want, wantErr := p.slowArray(body)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("fast path error %v, encoding/json %v\nbody: %q", err, wantErr, body)
	}
	if len(res.Events) != len(want.Events) {
		t.Fatalf("fast path %d events, encoding/json %d\nbody: %q", len(res.Events), len(want.Events), body)
	}
	for i := range want.Events {
		if !reflect.DeepEqual(res.Events[i], want.Events[i]) {
			t.Fatalf("event %d differs:\nfast %+v\njson %+v\nbody: %q", i, res.Events[i], want.Events[i], body)
		}
	}
	return true
}

var fastPathCases = []string{
	`[]`,
	` [ ] `,
	`[{"labels":{"alertname":"A","severity":"critical"},"annotations":{"summary":"s"},"startsAt":"2026-03-11T08:00:00Z","endsAt":"2026-03-11T10:00:00Z","generatorURL":"http://x/graph?g0.expr=up%3D%3D0"}]`,
	`[{"labels":{"a":"b"},"generatorURL":null,"extra":[1,-2.5e+3,true,false,null,{"x":[{}]},"\u00e9\n"],"fingerprint":"abc"}]`,
	`[{"labels":{"a":"b","a":"c"}},{"labels":{"z":"caf\u00e9 \"q\""},"annotations":{}}]`,
	`[{"labels":{"a":"b"}, "labels":{"c":"d"}, "status":"resolved"}]`,
	`[{"labels":{}}]`,
	`[{}]`,
	`[{"labels":{"a":"b"},"startsAt":"yesterday"}]`,
	`[{"labels":{"a":"b"},"status":"pending"}]`,
	`[{"labels":{"a":"b"},"endsAt":"0001-01-01T00:00:00Z"}]`,
	"[{\"labels\":{\"a\":\"\xff\xfe\"}}]",
	"[\n\t{\"labels\" : {\"a\" : \"b\"} }\r\n]\n",
	// Given up on (left to encoding/json):
	`[{"Labels":{"a":"b"}}]`,
	`[{"labels":{"a":1}}]`,
	`[{"labels":null}]`,
	`[1]`,
	`[{"labels":{"a":"b"}}] x`,
	`[{"labels":{"a":"b"}},]`,
	`[{"labels":{"a":"b"},"x":01}]`,
	`[{"labels":{"a":"b"},"x":"\x"}]`,
	`[{"labels":{"a":"b"},"x":tru}]`,
	`{"alerts":[]}`,
}

func TestFastPathMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, c := range fastPathCases {
		if checkFastPath(t, []byte(c)) {
			fast++
		}
	}
	for _, name := range []string{"alertmanager/v2-postable-alerts.json"} {
		if !checkFastPath(t, fixture(t, name)) {
			t.Errorf("the fast path gave up on %s", name)
		}
	}
	if !checkFastPath(t, syntheticV2(100)) {
		t.Error("the fast path gave up on a Prometheus-like body")
	}
	if fast < 12 {
		t.Errorf("the fast path took only %d of the cases", fast)
	}
	// The cases it must leave to encoding/json.
	for _, c := range fastPathCases[13:] {
		if _, _, ok := newParser(nil).fastArray([]byte(c)); ok {
			t.Errorf("fast path took %q", c)
		}
	}
}

func FuzzFastPath(f *testing.F) {
	addSeeds(f)
	for _, c := range fastPathCases {
		f.Add([]byte(c))
	}
	f.Add(syntheticV2(3))
	f.Fuzz(func(t *testing.T, body []byte) { checkFastPath(t, body) })
}

// syntheticV2 is a POST /api/v2/alerts body of n alerts, as Prometheus
// sends it.
func syntheticV2(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"NodeFilesystemAlmostFull","cluster":"prod-use1","device":"/dev/nvme1n1","instance":"10.20.%d.%d:9100","job":"node-exporter","mountpoint":"/var/lib/postgresql","severity":"warning"},`+
			`"annotations":{"description":"Filesystem on pg-orders-%d has 7.82%% space available.","summary":"Filesystem has less than 10%% space left."},`+
			`"startsAt":"2026-03-11T08:02:17.513Z","endsAt":"2026-03-11T09:30:00Z","generatorURL":"http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=node_filesystem_avail_bytes&g0.tab=1"}`,
			i/250, i%250, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func BenchmarkParseAPIv2Synthetic100(b *testing.B) { benchSynthetic(b, 100) }

// BenchmarkParseAPIv2Synthetic1 is one alert a request, as bench/intake's
// scenario b sends them.
func BenchmarkParseAPIv2Synthetic1(b *testing.B) { benchSynthetic(b, 1) }

func benchSynthetic(b *testing.B, n int) {
	body := syntheticV2(n)
	v2 := NewAPIv2(WithClock(testClock))
	req := intake.Request{Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v2.Parse(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
}

func BenchmarkParseAPIv2Synthetic100Slow(b *testing.B) {
	body := syntheticV2(100)
	p := newParser([]Option{WithClock(testClock)})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.slowArray(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/alert")
}
