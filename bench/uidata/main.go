// Command uidata fills a running Flywheel server with a realistic dataset
// through its API (internal/uidata): Prometheus alerts, a GuardDuty
// finding, generic events, OpsItems being worked, runbook executions,
// silences, maintenance windows, an automation candidate, and an agent
// (its enrolled host, inventory and patch scan, spoken from here over the
// agent protocol). The UI's screenshots in docs/img/ui show pages filled
// by it.
//
//	go run ./bench/uidata -write-content ./content-ui     # the runbooks it runs
//	flywheel serve --content ./content-ui ...
//	go run ./bench/uidata -url http://127.0.0.1:8080 -token "$(cat data/admin-token)"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/uidata"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server")
	token := flag.String("token", os.Getenv("FLYWHEEL_TOKEN"), "an admin token of the tenant to fill (default $FLYWHEEL_TOKEN)")
	empty := flag.String("empty-tenant", "", "also create this empty tenant (platform-admin token)")
	content := flag.String("write-content", "", "write the dataset's runbooks into this content directory and exit")
	wait := flag.Duration("wait", 2*time.Minute, "how long to wait for the pipeline, each execution and the patch-scan window's run")
	flag.Parse()
	if *content != "" {
		if err := os.MkdirAll(*content, 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(filepath.Join(*content, "ui-dataset.yaml"), []byte(uidata.Content), 0o644); err != nil {
			fail(err)
		}
		return
	}
	if *token == "" {
		fail(fmt.Errorf("no token: pass -token or set FLYWHEEL_TOKEN"))
	}
	c := client.New(*url, strings.TrimSpace(*token))
	d, err := uidata.Build(context.Background(), c, uidata.Options{Wait: *wait, EmptyTenant: *empty})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d OpsItems, %d executions, agent %s (host %s, window run %s), candidate %s; operator token %s\n",
		len(d.OpsItems), len(d.Executions), d.Agent, d.Host, d.WindowRun, d.Candidate, d.OperatorToken)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "uidata:", err)
	os.Exit(1)
}
