package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// openAPIPath converts a ServeMux pattern path to an OpenAPI path:
// "{name...}" becomes "{name}", and a trailing "{$}" (exact match) is
// dropped, leaving the path ending in "/".
func openAPIPath(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	return restWildcard.ReplaceAllString(p, "{$1}")
}

var restWildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`)

func TestOpenAPIPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/api/v1/opsitems":                "/api/v1/opsitems",
		"/api/v1/opsitems/{id}":           "/api/v1/opsitems/{id}",
		"/api/v1/files/{path...}":         "/api/v1/files/{path}",
		"/api/v1/{$}":                     "/api/v1/",
		"/api/v1/a/{x}/b/{y}":             "/api/v1/a/{x}/b/{y}",
		"/api/v1/runbooks/{id}/{rest...}": "/api/v1/runbooks/{id}/{rest}",
	} {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenAPIMatchesRoutes holds the served document against the
// registered routes.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.call("GET", "/api/v1/openapi.json", "", nil)
	r.ok(t, http.StatusOK, nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(r.Body, api.OpenAPI()) {
		t.Error("served document differs from api.OpenAPI()")
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	for _, p := range openAPIProblems(doc, h.srv.Routes()) {
		t.Error(p)
	}
}

// TestOpenAPICheckCatchesDrift proves the comparison is not vacuous: an
// undocumented route, a documented path without a route, a wrong method,
// an undeclared path parameter and a dangling $ref are all reported.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.srv.Handle(api.Route{Method: "POST", Pattern: "/api/v1/widgets/{id}/{rest...}", MinRole: "viewer"},
		func(w http.ResponseWriter, r *http.Request) error { return nil })
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	delete(paths, "/healthz")
	paths["/api/v1/ghost"] = map[string]any{"get": map[string]any{"responses": map[string]any{"200": map[string]any{"description": "OK"}}, "security": []any{}}}
	tokens := paths["/api/v1/tokens/{id}"].(map[string]any)
	tokens["put"], tokens["delete"] = tokens["delete"], nil
	delete(tokens, "delete")
	paths["/api/v1/tenants/{id}"].(map[string]any)["get"].(map[string]any)["parameters"] = []any{}
	paths["/api/v1/opsitems"].(map[string]any)["get"].(map[string]any)["parameters"] = []any{map[string]any{"$ref": "#/components/parameters/nope"}}
	got := strings.Join(openAPIProblems(doc, h.srv.Routes()), "\n")
	for _, want := range []string{
		"route post /api/v1/widgets/{id}/{rest} is registered but not in openapi.json",
		"route get /healthz is registered but not in openapi.json",
		"openapi.json documents get /api/v1/ghost, which is not a registered route",
		"openapi.json documents put /api/v1/tokens/{id}",
		"route delete /api/v1/tokens/{id} is registered but not",
		"get /api/v1/tenants/{id}: path parameters declared [], in path [id]",
		`$ref "#/components/parameters/nope": no "nope"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems do not report %q; got:\n%s", want, got)
		}
	}
}

// openAPIProblems compares doc with routes: the same paths and methods in
// both directions, path parameters declared, security matching
// authentication, 401/403 documented where they can happen, request
// bodies where the method takes one, and every $ref resolving.
func openAPIProblems(doc map[string]any, routes []api.Route) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if doc["openapi"] != "3.1.0" {
		bad("openapi = %v, want 3.1.0", doc["openapi"])
	}
	if info, _ := doc["info"].(map[string]any); info["title"] == nil || info["version"] == nil {
		bad("info needs title and version: %v", doc["info"])
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		return append(probs, "no paths")
	}

	registered := map[string]api.Route{}
	for _, rt := range routes {
		key := strings.ToLower(rt.Method) + " " + openAPIPath(rt.Pattern)
		if _, dup := registered[key]; dup {
			bad("route %s registered twice", key)
		}
		registered[key] = rt
	}
	documented := map[string]map[string]any{}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	for p, item := range paths {
		item, _ := item.(map[string]any)
		for k, op := range item {
			if !slices.Contains(methods, k) {
				if !slices.Contains([]string{"parameters", "summary", "description", "servers"}, k) {
					bad("paths[%s] has unexpected key %q", p, k)
				}
				continue
			}
			m, _ := op.(map[string]any)
			documented[k+" "+p] = m
		}
	}
	for _, key := range slices.Sorted(maps.Keys(registered)) {
		if documented[key] == nil {
			bad("route %s is registered but not in openapi.json", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(documented)) {
		if _, ok := registered[key]; !ok {
			bad("openapi.json documents %s, which is not a registered route", key)
		}
	}

	for _, key := range slices.Sorted(maps.Keys(documented)) {
		op := documented[key]
		rt, ok := registered[key]
		if !ok {
			continue
		}
		_, p, _ := strings.Cut(key, " ")
		// Every {param} of the path is declared as a required in:path parameter.
		declared := []string{}
		params, _ := paths[p].(map[string]any)["parameters"].([]any)
		opParams, _ := op["parameters"].([]any)
		for _, prm := range append(slices.Clone(params), opParams...) {
			m := resolve(doc, prm, bad)
			if m["in"] == "path" {
				name, _ := m["name"].(string)
				declared = append(declared, name)
				if m["required"] != true {
					bad("%s: path parameter %q must be required", key, name)
				}
			}
		}
		inPath := []string{}
		for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
			inPath = append(inPath, m[1])
		}
		if !sameSet(declared, inPath) {
			bad("%s: path parameters declared %v, in path %v", key, declared, inPath)
		}
		// Public routes say security: []; authenticated ones inherit the
		// bearer requirement and document 401 and 403.
		sec, hasSec := op["security"].([]any)
		if public := hasSec && len(sec) == 0; public != (rt.MinRole == "") {
			bad("%s: security %v, but the route's MinRole is %q", key, op["security"], rt.MinRole)
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			bad("%s: no responses", key)
		}
		if rt.MinRole != "" {
			for _, code := range []string{"401", "403"} {
				if responses[code] == nil {
					bad("%s: does not document %s", key, code)
				}
			}
		}
		hasBody := op["requestBody"] != nil
		if wantBody := rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT"; hasBody != wantBody {
			bad("%s: requestBody documented = %v", key, hasBody)
		}
	}

	refs := 0
	walk(doc, func(ref string) {
		refs++
		resolvePointer(doc, ref, bad)
	})
	if refs < 20 {
		bad("only %d $refs found; the walk is broken", refs)
	}
	return probs
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// walk calls fn with every "$ref" value in v.
func walk(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				fn(s)
				continue
			}
			walk(x, fn)
		}
	case []any:
		for _, x := range v {
			walk(x, fn)
		}
	}
}

// resolve follows v's $ref, if it has one.
func resolve(doc map[string]any, v any, bad func(string, ...any)) map[string]any {
	m, _ := v.(map[string]any)
	for i := 0; m != nil && m["$ref"] != nil && i < 10; i++ {
		ref, _ := m["$ref"].(string)
		m, _ = resolvePointer(doc, ref, bad).(map[string]any)
	}
	return m
}

// resolvePointer resolves a local reference "#/a/b~1c" (RFC 6901).
func resolvePointer(doc map[string]any, ref string, bad func(string, ...any)) any {
	if !strings.HasPrefix(ref, "#/") {
		bad("$ref %q is not local to the document", ref)
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				bad("$ref %q: no %q", ref, tok)
				return nil
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				bad("$ref %q: bad index %q", ref, tok)
				return nil
			}
			cur = c[i]
		default:
			bad("$ref %q: %q is inside a scalar", ref, tok)
			return nil
		}
	}
	return cur
}
