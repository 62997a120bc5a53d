package promsource

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// The query_range example of the Prometheus HTTP API documentation
// (prometheus.io/docs/prometheus/latest/querying/api/#range-queries),
// copied into testdata.
func TestParseQueryRangeDocumentedExample(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/docs-query_range.json")
	if err != nil {
		t.Fatal(err)
	}
	series, err := ParseQueryRange(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || series[0].Labels["instance"] != "localhost:9090" || series[1].Labels["job"] != "node" {
		t.Fatalf("series %+v", series)
	}
	first := time.Date(2015, 7, 1, 20, 10, 30, 781e6, time.UTC)
	p := series[1].Points
	if len(p) != 3 || !p[0].At.Equal(first) || !p[2].At.Equal(first.Add(30*time.Second)) || p[0].Value != 0 || p[2].Value != 1 {
		t.Errorf("points %+v", p)
	}
}

func TestParseQueryRangeRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		// The documented error envelope.
		{`{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`, "bad_data: 1:5: parse error"},
		{`<html>502 Bad Gateway</html>`, "not the API's JSON"},
		{`{"status":"success","data":{"resultType":"vector","result":[]}}`, `result type "vector", want matrix`},
		{`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1",3]]}]}}`, "got 3 elements"},
		{`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","1"]]}]}}`, "not a unix timestamp"},
		{`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,1]]}]}}`, "not a quoted number"},
		{`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"many"]]}]}}`, `"many" is not a number`},
		{`{"status":"pending"}`, "neither success nor error"},
	} {
		_, err := ParseQueryRange([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.body, err, c.want)
		}
	}
	var ae *APIError
	if _, err := ParseQueryRange([]byte(`{"status":"error","errorType":"timeout","error":"query timed out"}`)); !errors.As(err, &ae) || ae.ErrorType != "timeout" {
		t.Errorf("error %v, want an APIError", err)
	}
	// NaN (a zero-sized filesystem's division) is dropped, not a failure.
	s, err := ParseQueryRange([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"NaN"],[2,"+Inf"],[3,"7.5"]]}]}}`))
	if err != nil || len(s) != 1 || len(s[0].Points) != 1 || s[0].Points[0].Value != 7.5 {
		t.Errorf("series %+v, %v", s, err)
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://prometheus.example.com":        "",
		"http://prom.example.com:9090/prom/":    "",
		"ftp://prom.example.com":                "scheme must be http or https",
		"https://":                              "has no host",
		"https://admin:secret@prom.example.com": "holds credentials",
		"https://prom.example.com/?x=1":         "no query or fragment",
		"://x":                                  "does not parse",
	} {
		err := ValidateURL(raw)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ValidateURL(%q) = %v, want %q", raw, err, want)
		}
	}
}

func FuzzParseQueryRange(f *testing.F) {
	if body, err := os.ReadFile("testdata/docs-query_range.json"); err == nil {
		f.Add(body)
	}
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"x"}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a"},"values":[[1e10,"NaN"],[2.5,"-3"]]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		series, err := ParseQueryRange(body)
		if err != nil {
			if series != nil {
				t.Errorf("series %v with error %v", series, err)
			}
			return
		}
		for _, s := range series {
			for _, p := range s.Points {
				if p.At.Before(time.Unix(0, 0)) || p.Value != p.Value {
					t.Errorf("point %+v", p)
				}
			}
		}
	})
}
