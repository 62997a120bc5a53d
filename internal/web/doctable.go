package web

import (
	"bytes"
	"encoding/json"
	"html"
	"html/template"
	"maps"
	"slices"
	"strings"
)

// docTable renders a JSON document (an agent's inventory, an OpsItem's
// operational data) as nested HTML tables: an object is a table of its
// keys, an array of objects a table with a column per key, any other array
// a list, a string of several lines preformatted text, and every key and
// value escaped text. A document that is not JSON shows as escaped text.
func docTable(raw []byte) template.HTML {
	if len(raw) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return template.HTML(`<pre class="json">` + html.EscapeString(string(raw)) + `</pre>`)
	}
	var b bytes.Buffer
	writeDoc(&b, v)
	return template.HTML(b.String())
}

// writeDoc writes v's HTML; depth is bounded by the inventory's own
// nesting limit (docs/hardening.md).
func writeDoc(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			b.WriteString(`<span class="empty">none</span>`)
			return
		}
		b.WriteString(`<table class="doc"><tbody>`)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b.WriteString(`<tr><th scope="row">` + html.EscapeString(k) + `</th><td>`)
			writeDoc(b, v[k])
			b.WriteString(`</td></tr>`)
		}
		b.WriteString(`</tbody></table>`)
	case []any:
		if len(v) == 0 {
			b.WriteString(`<span class="empty">none</span>`)
			return
		}
		if cols, ok := columns(v); ok {
			b.WriteString(`<table class="doc"><thead><tr>`)
			for _, c := range cols {
				b.WriteString(`<th scope="col">` + html.EscapeString(c) + `</th>`)
			}
			b.WriteString(`</tr></thead><tbody>`)
			for _, row := range v {
				b.WriteString(`<tr>`)
				for _, c := range cols {
					b.WriteString(`<td>`)
					if cell, ok := row.(map[string]any)[c]; ok {
						writeDoc(b, cell)
					}
					b.WriteString(`</td>`)
				}
				b.WriteString(`</tr>`)
			}
			b.WriteString(`</tbody></table>`)
			return
		}
		b.WriteString(`<ol class="doc">`)
		for _, it := range v {
			b.WriteString(`<li>`)
			writeDoc(b, it)
			b.WriteString(`</li>`)
		}
		b.WriteString(`</ol>`)
	case string:
		if strings.Contains(v, "\n") { // command output, a report: its lines as they are
			b.WriteString(`<pre class="log">` + html.EscapeString(v) + `</pre>`)
			return
		}
		b.WriteString(html.EscapeString(v))
	case json.Number:
		b.WriteString(html.EscapeString(v.String()))
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default: // null
		b.WriteString(`<span class="empty">null</span>`)
	}
}

// columns are the sorted keys of an array whose items are all objects.
func columns(items []any) ([]string, bool) {
	set := map[string]bool{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		for k := range m {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), len(set) > 0
}

// docView is docTable of a document that may be absent or empty ("" then).
func docView(raw []byte) template.HTML {
	if s := string(bytes.TrimSpace(raw)); s == "" || s == "null" || s == "{}" || s == "[]" {
		return ""
	}
	return docTable(raw)
}

// stepOutput is a step's outputs as the execution page shows them: a
// command's stdout and stderr as text in <pre>, everything else as tables.
type stepOutput struct {
	Stdout, Stderr string
	Rest           template.HTML
}

// Any reports whether there is something to show.
func (s stepOutput) Any() bool { return s.Stdout != "" || s.Stderr != "" || s.Rest != "" }

// stepOutputs splits a step's outputs (an exec step's carry stdout and
// stderr) for display.
func stepOutputs(raw json.RawMessage) stepOutput {
	if docView(raw) == "" {
		return stepOutput{}
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return stepOutput{Rest: docTable(raw)}
	}
	var s stepOutput
	if v, ok := m["stdout"].(string); ok {
		s.Stdout = v
		delete(m, "stdout")
	}
	if v, ok := m["stderr"].(string); ok {
		s.Stderr = v
		delete(m, "stderr")
	}
	if len(m) > 0 {
		var b bytes.Buffer
		writeDoc(&b, m)
		s.Rest = template.HTML(b.String())
	}
	return s
}
