package content

import "errors"

// maxNameLen matches a DNS name, the longest identifier names end up in.
const maxNameLen = 253

var errBadName = errors.New("is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 253 characters")

// checkName enforces the one name syntax every kind shares, so names are
// safe in URLs, CLI arguments, file names and log lines without quoting.
func checkName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen || !isAlnum(name[0]) {
		return errBadName
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return errBadName
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ValidName reports whether name has the syntax of a document's
// metadata.name (for names other documents give, like a pack's scenarios).
func ValidName(name string) bool { return checkName(name) == nil }
