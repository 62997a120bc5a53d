package pack

import (
	"bytes"
	"strings"
)

// Change is how one document differs between two versions of a pack.
type Change struct {
	// Kind is the document's kind, "Pack" for the manifest and
	// "PrometheusRules" for a rule file (Name is then its path).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Change is added, removed or changed.
	Change string `json:"change"`
	// Lines are the changed lines, "- " removed and "+ " added, in order.
	Lines []string `json:"lines,omitempty"`
}

// Diff lists what changes, document by document, from installed to
// available; documents that are equal are left out.
func Diff(installed, available *Pack) []Change {
	from, to := texts(installed), texts(available)
	var out []Change
	for _, k := range unionKeys(from, to) {
		a, inA := from[k]
		b, inB := to[k]
		kind, name, _ := strings.Cut(k, "/")
		c := Change{Kind: kind, Name: name}
		switch {
		case !inA:
			c.Change = "added"
		case !inB:
			c.Change = "removed"
		case a == b:
			continue
		default:
			c.Change, c.Lines = "changed", lineDiff(a, b)
		}
		out = append(out, c)
	}
	return out
}

// texts maps Kind/name to text: the documents, the manifest and the
// Prometheus rule files.
func texts(p *Pack) map[string]string {
	m := map[string]string{}
	for _, d := range p.Documents {
		m[d.Key()] = d.Text
	}
	for _, f := range p.Files {
		switch {
		case f.Path == ManifestFile:
			m[KindName+"/"+p.Name] = string(f.Data)
		case strings.HasPrefix(f.Path, PrometheusDir+"/"):
			m["PrometheusRules/"+f.Path] = string(f.Data)
		}
	}
	return m
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sortStrings(keys)
	return keys
}

// lineDiff is the changed lines between a and b by their longest common
// subsequence of lines.
func lineDiff(a, b string) []string {
	x, y := splitLines(a), splitLines(b)
	// lcs[i][j]: the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+x[i])
			i++
		default:
			out = append(out, "+ "+y[j])
			j++
		}
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(string(bytes.TrimSuffix([]byte(s), []byte("\n"))), "\n")
}
