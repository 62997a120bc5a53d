package stats

import (
	"regexp"
	"strings"
)

// idLike matches a word holding a digit: a host number, an instance or
// volume ID, an IP octet, a percentage.
var idLike = regexp.MustCompile(`[A-Za-z0-9]*[0-9][A-Za-z0-9]*`)

// keepWord matches product names that carry one digit and no identity
// (EC2, S3, IPv6): they stay in a title pattern.
var keepWord = regexp.MustCompile(`^[A-Za-z]+[0-9]$`)

// TitlePattern is a title with its numbers and IDs replaced by "*", so
// "Disk almost full on web-03 (93%)" and "Disk almost full on web-11 (97%)"
// share the pattern "Disk almost full on web-* (*%)". Runs of spaces become
// one space.
func TitlePattern(title string) string {
	p := idLike.ReplaceAllStringFunc(title, func(w string) string {
		if keepWord.MatchString(w) {
			return w
		}
		return "*"
	})
	return strings.Join(strings.Fields(p), " ")
}

// Signature names recurring OpsItems for the hours-saved credit: the same
// area and title pattern.
func Signature(category, title string) string {
	return category + "\x00" + TitlePattern(title)
}
