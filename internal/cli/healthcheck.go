package cli

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd probes a server's /healthz: for container HEALTHCHECKs
// and service monitors on the server's own machine, where no curl is at
// hand (the container image holds the flywheel binary alone).
func newHealthcheckCmd(g *globals) *cobra.Command {
	var timeout, wait time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server's /healthz answers 200, 1 otherwise",
		Long: `Probe GET /healthz of the server at --server, FLYWHEEL_SERVER, or, when
neither is set, the server this environment's FLYWHEEL_ADDR configures
(an unspecified host such as 0.0.0.0 is probed on 127.0.0.1); by default
http://127.0.0.1:8080. No token is needed. With --wait it keeps probing
until the server answers or the time is up, for scripts that have just
started one.`,
		Example: `  flywheel healthcheck
  flywheel healthcheck --timeout 2s
  flywheel healthcheck --wait 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := g.client()
			if g.server == "" {
				if _, ok := g.env.Lookup("FLYWHEEL_SERVER"); !ok {
					if addr, ok := g.env.Lookup("FLYWHEEL_ADDR"); ok && addr != "" {
						c.BaseURL = "http://" + probeAddr(addr)
					}
				}
			}
			c.HTTP.Timeout = timeout
			url := c.BaseURL + "/healthz"
			probe := func() error {
				resp, err := c.HTTP.Get(url)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s: %s", url, resp.Status)
				}
				return nil
			}
			deadline := time.Now().Add(wait)
			err := probe()
			for err != nil && time.Now().Before(deadline) {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(250 * time.Millisecond):
				}
				err = probe()
			}
			if err != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("unhealthy: %w", err)}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "healthy:", url)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for each answer")
	cmd.Flags().DurationVar(&wait, "wait", 0, "keep probing until healthy, for at most this long")
	return cmd
}

// probeAddr turns a listen address into one to connect to: an unspecified
// host (0.0.0.0, ::, "") becomes the loopback address.
func probeAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
