package matcher

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

type want struct {
	name  string
	typ   Type
	value string
}

func same(m Matcher, w want) bool { return m.Name == w.name && m.Type == w.typ && m.Value == w.value }

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want want
		str  string // String(); "" means the same as in
	}{
		{`alertname="DiskFull"`, want{"alertname", Equal, "DiskFull"}, ""},
		{`alertname=DiskFull`, want{"alertname", Equal, "DiskFull"}, `alertname="DiskFull"`},
		{`  severity != "info"  `, want{"severity", NotEqual, "info"}, `severity!="info"`},
		{`instance=~"web-[0-9]+:9100"`, want{"instance", Regexp, "web-[0-9]+:9100"}, ""},
		{`env!~dev|test`, want{"env", NotRegexp, "dev|test"}, `env!~"dev|test"`},
		{`foo=""`, want{"foo", Equal, ""}, ""},
		{`msg="She said: \"Hi, all!\""`, want{"msg", Equal, `She said: "Hi, all!"`}, ""},
		{`path="C:\\temp"`, want{"path", Equal, `C:\temp`}, ""},
		{`multi="a\nb"`, want{"multi", Equal, "a\nb"}, ""},
		{`unicode="café ☕"`, want{"unicode", Equal, "café ☕"}, ""},
		{`"service.name"="api"`, want{"service.name", Equal, "api"}, `service.name="api"`},
		{`"with space"!="x"`, want{"with space", NotEqual, "x"}, ""},
		{`"quote\"name"="x"`, want{`quote"name`, Equal, "x"}, ""},
		{`ünïcödé=ok`, want{"ünïcödé", Equal, "ok"}, `ünïcödé="ok"`},
		{`le=0.5`, want{"le", Equal, "0.5"}, `le="0.5"`},
		{`{alertname="X"}`, want{"alertname", Equal, "X"}, `alertname="X"`},
		{`a=~.*`, want{"a", Regexp, ".*"}, `a=~".*"`},
		{`job=~"(api|web)"`, want{"job", Regexp, "(api|web)"}, ""},
	} {
		m, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.in, err)
			continue
		}
		if !same(m, tc.want) {
			t.Errorf("Parse(%s) = %+v, want %+v", tc.in, m, tc.want)
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if got := m.String(); got != str {
			t.Errorf("Parse(%s).String() = %s, want %s", tc.in, got, str)
		}
		back, err := Parse(m.String())
		if err != nil || !same(back, tc.want) {
			t.Errorf("round trip of %s: %+v, %v", m, back, err)
		}
	}
}

func TestParseList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []want
	}{
		{`{alertname="DiskFull", instance=~"db-.*"}`, []want{{"alertname", Equal, "DiskFull"}, {"instance", Regexp, "db-.*"}}},
		{`alertname=DiskFull,severity!=info`, []want{{"alertname", Equal, "DiskFull"}, {"severity", NotEqual, "info"}}},
		{`{foo = "bar", dings != "bums", }`, []want{{"foo", Equal, "bar"}, {"dings", NotEqual, "bums"}}},
		{`{quote="She said: \"Hi, ladies!\"", b=c}`, []want{{"quote", Equal, `She said: "Hi, ladies!"`}, {"b", Equal, "c"}}},
		{`a="x,y",b="}"`, []want{{"a", Equal, "x,y"}, {"b", Equal, "}"}}},
		{` { a = b } `, []want{{"a", Equal, "b"}}},
		{`{}`, nil},
		{``, nil},
		{`   `, nil},
		{`a=b,`, []want{{"a", Equal, "b"}}},
	} {
		ms, err := ParseList(tc.in)
		if err != nil {
			t.Errorf("ParseList(%s): %v", tc.in, err)
			continue
		}
		if len(ms) != len(tc.want) {
			t.Errorf("ParseList(%s) = %v, want %d matchers", tc.in, ms, len(tc.want))
			continue
		}
		for i := range ms {
			if !same(ms[i], tc.want[i]) {
				t.Errorf("ParseList(%s)[%d] = %+v, want %+v", tc.in, i, ms[i], tc.want[i])
			}
		}
		back, err := ParseList(ms.String())
		if err != nil || back.String() != ms.String() {
			t.Errorf("round trip of %s: %s, %v", ms, back, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		column int
		msg    string
	}{
		{`alertname`, 10, "expected an operator (=, !=, =~ or !~) after label name alertname, got end of input"},
		{`alertname=`, 11, `expected a value after alertname=, got end of input (write an empty value as "")`},
		{`alertname=="x"`, 11, `expected a value after alertname=, got '='`},
		{`alertname~"x"`, 10, "expected an operator"},
		{`=x`, 1, "expected a label name, got '='"},
		{`""="x"`, 1, "label name is empty"},
		{`a="unterminated`, 3, `quoted string has no closing "`},
		{`a="bad \q escape"`, 3, "invalid escape or character in quoted string"},
		{`a=~"(unclosed"`, 4, "invalid regular expression \"(unclosed\": missing closing ): `(unclosed`"},
		{`a=~"x**"`, 4, "invalid regular expression"},
		{`a=~"a)|(b"`, 4, "unexpected )"}, // would escape the anchors once wrapped
		{`a=b c`, 5, `expected a comma or the end after matcher a="b", got 'c' (quote values that contain spaces)`},
		{`{a=b`, 1, "opening { has no closing }"},
		{`a=b}`, 4, "unexpected } without an opening {"},
		{`{a=b} x`, 7, "unexpected 'x' after the closing }"},
		{`a=b,,c=d`, 5, "expected a label name, got ','"},
		{`a='single'`, 3, `expected a value after a=, got '\''`},
		{"a=\"line\nfeed\"", 8, "line feed inside a quoted string"},
		{"a=\xff", 3, "invalid UTF-8"},
		{`a="\xff"`, 3, `value "\xff" is not valid UTF-8`},
		{`é=~"("`, 4, "invalid regular expression"}, // columns count characters
	} {
		_, err := ParseList(tc.in)
		pe, ok := err.(*ParseError)
		if !ok {
			t.Errorf("ParseList(%q) = %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Column() != tc.column || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("ParseList(%q): column %d %q; want column %d, message containing %q", tc.in, pe.Column(), pe.Msg, tc.column, tc.msg)
		}
		if !strings.Contains(err.Error(), "bad matcher ") || !strings.Contains(err.Error(), "column") {
			t.Errorf("ParseList(%q) error %q does not show the input and column", tc.in, err)
		}
	}
	// The message shows the input as the user wrote it.
	_, err := Parse(`alertname=~"(Disk"`)
	if want := "bad matcher `alertname=~\"(Disk\"` at column 12: invalid regular expression \"(Disk\": missing closing ): `(Disk`"; err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	for _, in := range []string{`a=b, c=d`, ``, `{}`} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "want exactly one matcher") {
			t.Errorf("Parse(%q) = %v, want 'exactly one' error", in, err)
		}
	}
	if _, err := ParseAll([]string{`a="b"`, `c=~"("`}); err == nil || !strings.HasPrefix(err.Error(), "[1]: bad matcher") {
		t.Errorf("ParseAll error = %v, want it to name index 1", err)
	}
	if _, err := New(Type(9), "a", "b"); err == nil {
		t.Error("New accepted an unknown type")
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"alertname": "DiskFull", "instance": "db-1:9100", "env": "prod", "empty": ""}
	for _, tc := range []struct {
		m    string
		want bool
	}{
		{`alertname="DiskFull"`, true},
		{`alertname="diskfull"`, false},
		{`alertname!="DiskFull"`, false},
		{`instance=~"db-.*"`, true},
		{`instance=~"db"`, false}, // anchored: a substring is not a match
		{`instance=~"db-1"`, false},
		{`instance=~".*9100"`, true},
		{`env=~"prod|stage"`, true},
		{`env=~"pro"`, false},
		{`env!~"dev|test"`, true},
		{`env!~"prod"`, false},
		{`missing=""`, true}, // a missing label is the empty string
		{`missing!=""`, false},
		{`missing!="x"`, true},
		{`missing=~".*"`, true},
		{`missing=~".+"`, false},
		{`missing!~".+"`, true},
		{`empty=""`, true},
		{`alertname=~"(?i)diskfull"`, true},
		{`a=~"x|"`, true}, // alternation with empty matches the missing label
	} {
		m, err := Parse(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Matches(labels); got != tc.want {
			t.Errorf("%s.Matches(%v) = %v, want %v", tc.m, labels, got, tc.want)
		}
	}
	ms, _ := ParseList(`alertname="DiskFull", env=~"prod"`)
	if !ms.Matches(labels) {
		t.Error("conjunction should match")
	}
	ms, _ = ParseList(`alertname="DiskFull", env="dev"`)
	if ms.Matches(labels) {
		t.Error("conjunction should not match when one matcher fails")
	}
	if !(Matchers{}).Matches(labels) {
		t.Error("no matchers match everything")
	}
	var zero Matcher
	if zero.Type != Equal || !zero.Matches(map[string]string{}) {
		t.Error("the zero Matcher is an equality with the empty name and value")
	}
}

func TestMatchesEmpty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`a!="x"`, true},
		{`a=~".*"`, true},
		{`a!="x", b=""`, true},
		{`a!="x", b="y"`, false},
		{`a=~".+"`, false},
	} {
		ms, _ := ParseList(tc.in)
		if got := ms.MatchesEmpty(); got != tc.want {
			t.Errorf("%s.MatchesEmpty() = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	var m Matcher
	if err := m.UnmarshalText([]byte(`x=~"a.*"`)); err != nil || !m.MatchesValue("abc") {
		t.Fatalf("UnmarshalText: %+v %v", m, err)
	}
	b, _ := m.MarshalText()
	if string(b) != `x=~"a.*"` {
		t.Errorf("MarshalText = %s", b)
	}
	if err := m.UnmarshalText([]byte(`x=~"("`)); err == nil {
		t.Error("UnmarshalText accepted a bad regexp")
	}
	ms, _ := ParseList(`a=b, c!~d`)
	if got := strings.Join(ms.Strings(), " "); got != `a="b" c!~"d"` {
		t.Errorf("Strings = %s", got)
	}
}

func TestEventLabels(t *testing.T) {
	t.Parallel()
	e := &event.Event{
		Source: "alertmanager", Kind: event.KindAlert, Severity: event.SeverityMedium, Title: "DiskFull",
		Resources:  []event.ResourceRef{{Type: "host", ID: "db-1"}, {Type: "ebs-volume", ID: "vol-1"}},
		Labels:     map[string]string{"severity": "warning", "instance": "db-1:9100"},
		OccurredAt: time.Now(),
	}
	got := EventLabels(e)
	want := map[string]string{
		"alertname": "DiskFull", "source": "alertmanager", "severity": "warning", "flywheel_severity": "medium",
		"kind": "alert", "resource": "db-1", "resource_type": "host", "instance": "db-1:9100",
	}
	if len(got) != len(want) {
		t.Errorf("EventLabels = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("EventLabels[%s] = %q, want %q", k, got[k], v)
		}
	}
	got["x"] = "y"
	if _, ok := e.Labels["x"]; ok {
		t.Error("EventLabels returned the event's own map")
	}
	// The source's alertname wins; findings get no alertname from the title.
	e.Labels["alertname"] = "FromSource"
	if got := EventLabels(e)["alertname"]; got != "FromSource" {
		t.Errorf("alertname = %q, want the source's", got)
	}
	f := &event.Event{Source: "guardduty", Kind: event.KindFinding, Severity: event.SeverityHigh, Title: "SSH brute force"}
	got = EventLabels(f)
	if _, ok := got["alertname"]; ok {
		t.Errorf("a finding got an alertname: %v", got)
	}
	if got["severity"] != "high" || got["kind"] != "finding" || got["resource"] != "" {
		t.Errorf("EventLabels(finding) = %v", got)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := ParseList(`{alertname="DiskFull", instance=~"db-[0-9]+:9100", env!="dev"}`); err != nil {
			b.Fatal(err)
		}
	}
}
