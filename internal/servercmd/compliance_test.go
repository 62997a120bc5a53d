package servercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestComplianceScan replays the recorded account testdata/aws/acme and
// checks the CIS pack's controls against the table of known violations in
// its README.md (written when the recording was built), the JSON shape the
// issue names, and that each pack's percentage is its compliant share of
// the decided rule-resource pairs it lists.
func TestComplianceScan(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"compliance", "scan", "--recorded", "../../testdata/aws/acme", "--pack", "cis-aws-foundations-v3.0", "--json"},
		Env{Stdout: &out, Stderr: &errOut})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		Packs []struct {
			Name              string   `json:"name"`
			CompliancePercent *float64 `json:"compliance_percent"`
			Controls          []struct {
				ID        string `json:"id"`
				Status    string `json:"status"`
				Resources []struct {
					ID         string `json:"id"`
					Status     string `json:"status"`
					Annotation string `json:"annotation"`
				} `json:"resources"`
			} `json:"controls"`
		} `json:"packs"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(got.Packs) != 1 || got.Packs[0].Name != "cis-aws-foundations-v3.0" || got.Packs[0].CompliancePercent == nil {
		t.Fatalf("packs: %s", out.String())
	}
	p := got.Packs[0]
	status := map[string]string{}
	resource := map[string]string{} // control|resource id suffix → status
	var c, nc int
	for _, ctl := range p.Controls {
		status[strings.TrimPrefix(ctl.ID, "CIS-AWS-3.0:")] = ctl.Status
		for _, r := range ctl.Resources {
			resource[strings.TrimPrefix(ctl.ID, "CIS-AWS-3.0:")+"|"+r.ID[strings.LastIndexAny(r.ID, ":/")+1:]] = r.Status
			if r.Status == "NON_COMPLIANT" && r.Annotation == "" {
				t.Errorf("%s on %s: NON_COMPLIANT without an annotation", ctl.ID, r.ID)
			}
		}
	}
	// Pairs count once per rule even when a rule maps to two controls;
	// the acme pack maps each rule to one CIS control, so per control is
	// per rule here.
	for _, ctl := range p.Controls {
		for _, r := range ctl.Resources {
			switch r.Status {
			case "COMPLIANT":
				c++
			case "NON_COMPLIANT":
				nc++
			}
		}
	}
	if want := math.Round(float64(c)*10000/float64(c+nc)) / 100; *p.CompliancePercent != want {
		t.Errorf("compliance_percent %v, want %v (%d of %d)", *p.CompliancePercent, want, c, c+nc)
	}
	// README.md's table: ✗ is NON_COMPLIANT somewhere under the control,
	// a control with only ✓ is COMPLIANT.
	for ctl, want := range map[string]string{
		"1.4": "NON_COMPLIANT", "1.5": "COMPLIANT", "1.6": "NON_COMPLIANT", "1.7": "COMPLIANT", "1.8": "NON_COMPLIANT",
		"1.9": "COMPLIANT", "1.10": "NON_COMPLIANT", "1.12": "NON_COMPLIANT", "1.13": "NON_COMPLIANT", "1.16": "NON_COMPLIANT",
		"1.17": "COMPLIANT", "1.19": "NON_COMPLIANT", "2.1.1": "NON_COMPLIANT", "2.2.1": "NON_COMPLIANT", "2.3.1": "NON_COMPLIANT",
		"3.1": "COMPLIANT", "3.2": "COMPLIANT", "3.3": "NON_COMPLIANT", "3.5": "COMPLIANT", "3.6": "NON_COMPLIANT",
		"3.7": "NON_COMPLIANT", "3.8": "NON_COMPLIANT", "5.1": "NON_COMPLIANT", "5.2": "NON_COMPLIANT", "5.6": "NON_COMPLIANT",
	} {
		if status[ctl] != want {
			t.Errorf("control %s: %q, want %q (README.md)", ctl, status[ctl], want)
		}
	}
	for key, want := range map[string]string{
		"2.2.1|vol-0a": "NON_COMPLIANT", "2.2.1|vol-0b": "COMPLIANT",
		"2.1.1|acme-secure-data": "COMPLIANT", "2.1.1|acme-public-assets": "NON_COMPLIANT",
		"2.3.1|orders-db": "COMPLIANT", "2.3.1|legacy-db": "NON_COMPLIANT",
	} {
		if resource[key] != want {
			t.Errorf("%s: %q, want %q (README.md)", key, resource[key], want)
		}
	}
}

// TestComplianceCommands runs the compliance commands against a whole
// server: its start-up evaluation records the default tenant's score (no
// resources: 100 %), and exceptions are added, listed and deleted.
func TestComplianceCommands(t *testing.T) {
	run, _ := appServer(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := run("compliance", "trend", "--json")
		if code != 0 {
			t.Fatalf("trend: exit %d: %s", code, errOut)
		}
		if strings.Contains(out, `"compliance_percent": 100`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no score from the start-up evaluation: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, errOut, code := run("compliance", "exception", "add", "--rule", "linux-ip-forwarding-disabled", "--tag", "role=router",
		"--owner", "netops", "--reason", "routers forward", "--duration", "720h")
	if code != 0 || !strings.HasPrefix(out, "cx_") {
		t.Fatalf("add: %d %q %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	if out, _, _ := run("compliance", "exception", "list"); !strings.Contains(out, id) || !strings.Contains(out, "tag=role=router") || !strings.Contains(out, "netops") {
		t.Errorf("list:\n%s", out)
	}
	if _, errOut, code := run("compliance", "exception", "add", "--rule", "x", "--owner", "o", "--duration", "1h"); code == 0 || !strings.Contains(errOut, "reason is required") {
		t.Errorf("add without a reason: %d %s", code, errOut)
	}
	if _, errOut, code := run("compliance", "exception", "delete", id); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if out, _, _ := run("compliance", "results", "--json"); !strings.Contains(out, `"items": []`) {
		t.Errorf("results of a server without resources: %s", out)
	}
}
