// Package client is a small typed client for Flywheel's HTTP API, used by the
// CLI's client commands and by end-to-end tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to one Flywheel server with one token.
type Client struct {
	BaseURL string
	Token   string
	// Authorization, when set, is sent as the Authorization header in
	// place of "Bearer Token" (an agent's "Agent ID:SECRET").
	Authorization string
	HTTP          *http.Client
	// TokenSource says where Token came from ("--token", "FLYWHEEL_TOKEN",
	// a file); a 401 names it, so a token picked up from the wrong place
	// is found at once.
	TokenSource string
}

// New returns a client for baseURL ("http://127.0.0.1:8080").
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is an API error response.
type Error struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	// Hint is the client's own advice (where the token came from on a 401).
	Hint string `json:"-"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Do sends a request with an optional JSON body and decodes a JSON response
// into out (when non-nil). Non-2xx responses return *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.Authorization != "":
		req.Header.Set("Authorization", c.Authorization)
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error *Error `json:"error"`
		}
		e := &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(data))}
		if json.Unmarshal(data, &env) == nil && env.Error != nil {
			e = env.Error
			e.Status = resp.StatusCode
		}
		if resp.StatusCode == http.StatusUnauthorized {
			e.Hint = c.tokenHint()
		}
		return e
	}
	if out != nil && len(data) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], data...)
			return nil
		}
		return json.Unmarshal(data, out)
	}
	return nil
}

// tokenHint says, for a 401, where the token came from.
func (c *Client) tokenHint() string {
	switch {
	case c.Token == "" && c.TokenSource != "":
		return "no token was sent to " + c.BaseURL + ": " + c.TokenSource
	case c.Token == "":
		return "no token was sent to " + c.BaseURL
	case c.TokenSource != "":
		return "the token came from " + c.TokenSource + ", and " + c.BaseURL + " does not accept it"
	}
	return ""
}
