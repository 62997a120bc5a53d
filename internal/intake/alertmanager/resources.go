package alertmanager

import (
	"net"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// kubeWorkloads are the workload labels kube-state-metrics alerts carry, in
// the order tried, with the resource type each names.
var kubeWorkloads = [...]struct{ label, typ string }{
	{"deployment", "k8s-deployment"},
	{"statefulset", "k8s-statefulset"},
	{"daemonset", "k8s-daemonset"},
}

// resourcesOf names the resources an alert's labels point at, most specific
// first, without duplicates:
//
//  1. instance_id "i-…" → ec2-instance (region/account from the region and
//     account_id labels, as EC2 service discovery relabelling names them);
//  2. host, hostname, nodename → host;
//  3. instance → host with the port stripped ("web-03:9100" → "web-03",
//     "[2001:db8::1]:9100" → "2001:db8::1"), or url when it is a URL
//     (blackbox probes), or ec2-instance when it is an instance id. Skipped for job="kube-state-metrics", whose instance
//     is the exporter, not the subject;
//  4. pod, then deployment/statefulset/daemonset → k8s-* as "namespace/name",
//     then namespace → k8s-namespace; the cluster label is their Account.
//
// Resolution to inventory resources happens later; this only reads labels.
func resourcesOf(l map[string]string) []event.ResourceRef {
	refs := make([]event.ResourceRef, 0, 4)
	add := func(r event.ResourceRef) {
		if r.ID == "" {
			return
		}
		for _, have := range refs {
			if have.Type == r.Type && have.ID == r.ID {
				return
			}
		}
		refs = append(refs, r)
	}

	if id := strings.TrimSpace(l["instance_id"]); isEC2InstanceID(id) {
		add(event.ResourceRef{Type: "ec2-instance", ID: id, Region: l["region"], Account: l["account_id"]})
	}
	for _, k := range [...]string{"host", "hostname", "nodename"} {
		if v, ok := l[k]; ok {
			add(event.ResourceRef{Type: "host", ID: hostOf(v)})
		}
	}
	if v, ok := l["instance"]; ok && l["job"] != "kube-state-metrics" {
		add(instanceRef(v))
	}

	cluster, ns := l["cluster"], l["namespace"]
	qualify := func(name string) string {
		if ns == "" {
			return name
		}
		return ns + "/" + name
	}
	if pod := l["pod"]; pod != "" {
		add(event.ResourceRef{Type: "k8s-pod", ID: qualify(pod), Account: cluster})
	}
	for _, w := range kubeWorkloads {
		if name := l[w.label]; name != "" {
			add(event.ResourceRef{Type: w.typ, ID: qualify(name), Account: cluster})
		}
	}
	if ns != "" {
		add(event.ResourceRef{Type: "k8s-namespace", ID: ns, Account: cluster})
	}
	if len(refs) == 0 {
		return nil
	}
	return refs
}

// instanceRef reads a Prometheus instance label: a URL for probes, otherwise
// a host, IP or [IPv6] with an optional port.
func instanceRef(v string) event.ResourceRef {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "://"); i > 0 && !strings.ContainsAny(v[:i], "/:[") {
		return event.ResourceRef{Type: "url", ID: v}
	}
	host := hostOf(v)
	if isEC2InstanceID(host) { // EC2 service discovery relabelled to the instance id
		return event.ResourceRef{Type: "ec2-instance", ID: host}
	}
	if host != v && isLoopback(host) {
		// Prometheus's label for a target on its own machine: the address
		// names no host, the port is what tells which exporter (and so
		// which agent's host) it is; fleet.ResolveHost reads it.
		return event.ResourceRef{Type: "host", ID: v}
	}
	return event.ResourceRef{Type: "host", ID: host}
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOf strips a port and IPv6 brackets and a trailing root dot:
// "web-03:9100" → "web-03", "[::1]:9100" → "::1", "db.example.com." →
// "db.example.com". A bare IPv6 address ("2001:db8::1") is kept whole, and
// so is anything whose "port" is not a number.
func hostOf(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(v, "["):
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return v
		}
		rest := v[end+1:]
		if rest == "" || (rest[0] == ':' && isPort(rest[1:])) {
			return v[1:end]
		}
		return v
	case strings.Count(v, ":") == 1:
		i := strings.IndexByte(v, ':')
		if i > 0 && isPort(v[i+1:]) {
			v = v[:i]
		}
	}
	if len(v) > 1 && strings.HasSuffix(v, ".") {
		v = v[:len(v)-1]
	}
	return v
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

// isEC2InstanceID matches "i-" followed by 8 or 17 lower-case hex digits.
func isEC2InstanceID(s string) bool {
	if !strings.HasPrefix(s, "i-") {
		return false
	}
	hexPart := s[2:]
	if len(hexPart) != 8 && len(hexPart) != 17 {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		c := hexPart[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
