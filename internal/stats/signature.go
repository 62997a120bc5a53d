package stats

import (
	"strings"
	"unicode/utf8"
)

// TitlePattern is a title with its numbers and IDs replaced by "*", so
// "Disk almost full on web-03 (93%)" and "Disk almost full on web-11 (97%)"
// share the pattern "Disk almost full on web-* (*%)": every word of ASCII
// letters and digits that holds a digit becomes "*", except product names
// of letters and one final digit (EC2, S3, IPv6). Runs of ASCII white
// space become one space, and the ends are trimmed.
func TitlePattern(title string) string {
	var b strings.Builder
	b.Grow(len(title))
	space := false
	for i := 0; i < len(title); {
		c := title[i]
		if isWordByte(c) {
			j, digits := i, 0
			for j < len(title) && isWordByte(title[j]) {
				if title[j] >= '0' && title[j] <= '9' {
					digits++
				}
				j++
			}
			w := title[i:j]
			if digits == 0 || digits == 1 && len(w) > 1 && w[len(w)-1] >= '0' && w[len(w)-1] <= '9' && !hasDigit(w[:len(w)-1]) {
				b.WriteString(w)
			} else {
				b.WriteByte('*')
			}
			i, space = j, false
			continue
		}
		r, n := utf8.DecodeRuneInString(title[i:])
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' { // RE2's \s, which drafted rules match with
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
		} else {
			b.WriteString(title[i : i+n])
			space = false
		}
		i += n
	}
	return strings.TrimRight(b.String(), " ")
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// Signature names recurring OpsItems for the hours-saved credit: the same
// area and title pattern.
func Signature(category, title string) string {
	return category + "\x00" + TitlePattern(title)
}
