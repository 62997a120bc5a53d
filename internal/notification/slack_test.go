package notification

import "testing"

func TestSlackEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"disk full":                      "disk full",
		"<!channel> look":                "&lt;!channel&gt; look",
		"<!here|here>":                   "&lt;!here|here&gt;",
		"<https://evil.example|Reset>":   "&lt;https://evil.example|Reset&gt;",
		"<@U123> and <#C1>":              "&lt;@U123&gt; and &lt;#C1&gt;",
		"@here @Channel @everyone":       "@\u2060here @\u2060Channel @\u2060everyone",
		"ops@hereford.example a&b":       "ops@hereford.example a&amp;b",
		"&lt;!channel&gt; already coded": "&amp;lt;!channel&amp;gt; already coded",
	} {
		if got := slackEscape(in); got != want {
			t.Errorf("slackEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSlackEscape(f *testing.F) {
	for _, s := range []string{"<!channel>", "@here", "<a|b>", "&amp;", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := slackEscape(s)
		for i := 0; i < len(out); i++ {
			if out[i] == '<' || out[i] == '>' {
				t.Fatalf("slackEscape(%q) = %q keeps a control character", s, out)
			}
		}
		if slackMentions.MatchString(out) {
			t.Fatalf("slackEscape(%q) = %q keeps a mention", s, out)
		}
	})
}
