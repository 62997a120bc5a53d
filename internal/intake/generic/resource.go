package generic

import (
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// idPrefixes are AWS resource ids recognisable on their own.
var idPrefixes = [...]struct{ prefix, typ string }{
	{"i-", "ec2-instance"},
	{"vol-", "ebs-volume"},
	{"sg-", "security-group"},
}

// inferResource types a resource named by a string, using the same
// vocabulary as the AWS adapters: URL → url; EC2 instance, EBS volume and
// security-group ids; ARNs by service (with region and account); else a host,
// with a port and IPv6 brackets stripped.
func inferResource(s string) event.ResourceRef {
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], "/:[") {
		return event.ResourceRef{Type: "url", ID: s}
	}
	if strings.HasPrefix(s, "arn:") {
		if ref, ok := arnResource(s); ok {
			return ref
		}
	}
	for _, p := range idPrefixes {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok && isHexID(rest) {
			return event.ResourceRef{Type: p.typ, ID: s}
		}
	}
	return event.ResourceRef{Type: "host", ID: hostOf(s)}
}

// arnResource reads arn:partition:service:region:account:resource. Known
// kinds get their short id; other ARNs keep the whole ARN under
// "<service>-<kind>".
func arnResource(s string) (event.ResourceRef, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[2] == "" || parts[5] == "" {
		return event.ResourceRef{}, false
	}
	service, res := parts[2], parts[5]
	ref := event.ResourceRef{ID: s, Region: parts[3], Account: parts[4]}
	kind, name, _ := strings.Cut(res, "/")
	switch {
	case service == "s3" && !strings.Contains(res, "/"):
		ref.Type, ref.ID = "s3-bucket", res
	case service == "s3":
		ref.Type, ref.ID = "s3-object", res
	case service == "ec2" && kind == "instance":
		ref.Type, ref.ID = "ec2-instance", name
	case service == "ec2" && kind == "volume":
		ref.Type, ref.ID = "ebs-volume", name
	case service == "ec2" && kind == "security-group":
		ref.Type, ref.ID = "security-group", name
	case name != "":
		ref.Type = service + "-" + kind
	default:
		ref.Type = service
	}
	return ref, true
}

// isHexID matches the 8 or 17 lower-case hex digits of an AWS resource id.
func isHexID(s string) bool {
	if len(s) != 8 && len(s) != 17 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hostOf strips a numeric port and IPv6 brackets: "web-03:9100" → "web-03",
// "[2001:db8::1]:22" → "2001:db8::1"; a bare IPv6 address stays whole.
func hostOf(s string) string {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			if rest := s[end+1:]; rest == "" || (rest[0] == ':' && isPort(rest[1:])) {
				return s[1:end]
			}
		}
		return s
	}
	if host, port, ok := strings.Cut(s, ":"); ok && host != "" && !strings.Contains(port, ":") && isPort(port) {
		return host
	}
	return s
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
