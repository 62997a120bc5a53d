package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDoctorExitCode: a failed check makes `flywheel doctor` exit 1 and
// print FAIL with what to do; setup tasks alone exit 0 (covered against a
// real server by TestFirstStartIsQuiet).
func TestDoctorExitCode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/doctor" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"checks":[{"name":"notifications","status":"ok","summary":"Every rule's notification channel is configured."},
			{"name":"aws","status":"fail","summary":"AWS credentials do not work: AWS did not accept the server's credentials.","details":["InvalidClientTokenId"],"fix":"Renew them."}]}`))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"doctor", "--server", srv.URL, "--token", "fw_x"}, Env{Stdout: &out, Stderr: &errOut, Lookup: noEnv})
	if code != 1 || !strings.Contains(out.String(), "FAIL  aws") || !strings.Contains(out.String(), "→ Renew them.") ||
		!strings.Contains(out.String(), "ok    notifications") || !strings.Contains(out.String(), "1 setup task") ||
		!strings.Contains(errOut.String(), "a setup check failed") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
