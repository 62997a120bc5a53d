package placebo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// recordCall passes the call on to AWS and writes what came back.
func (p *Pill) recordCall(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	c, _ := p.call(ctx, in)
	out, meta, err := next.HandleDeserialize(ctx, in)
	c.File = p.take(c)
	p.keep(c)
	r := Response{StatusCode: 200}
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Response != nil {
		r.StatusCode = resp.StatusCode
	}
	var apiErr smithy.APIError
	switch {
	case err == nil:
		r.Data, _ = json.Marshal(out.Result)
	case errors.As(err, &apiErr):
		if r.StatusCode < 300 {
			r.StatusCode = 400
		}
		r.Data, _ = json.Marshal(map[string]any{"Error": map[string]string{"Code": apiErr.ErrorCode(), "Message": apiErr.ErrorMessage()}})
	default:
		return out, meta, err // a network failure is not a response
	}
	if werr := p.write(c.File, r); werr != nil {
		return out, meta, errors.Join(err, werr)
	}
	return out, meta, err
}

func (p *Pill) write(name string, r Response) error {
	data, err := Scrub(r.Data)
	if err != nil {
		return fmt.Errorf("placebo: scrub %s: %w", name, err)
	}
	r.Data = data
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(p.dir, MetaFile)); errors.Is(err, os.ErrNotExist) {
		meta, _ := json.Marshal(Meta{RecordedAt: time.Now().UTC().Truncate(time.Second)})
		if err := os.WriteFile(filepath.Join(p.dir, MetaFile), append(meta, '\n'), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(p.dir, name), append(b, '\n'), 0o644)
}

// ScrubbedAccount replaces every account ID in a recording.
const ScrubbedAccount = "123456789012"

// Redacted replaces the value of every secret member.
const Redacted = "REDACTED"

// secretMembers are API members whose value is a secret.
var secretMembers = map[string]bool{
	"SecretAccessKey": true, "SessionToken": true, "Password": true, "PrivateKey": true,
	"SecretString": true, "SecretBinary": true, "MasterUserPassword": true,
	"Plaintext": true, "CiphertextBlob": true,
}

// digits finds runs of digits; a run of exactly 12 is an account ID (in an
// ARN, a principal, an owner field).
var digits = regexp.MustCompile(`[0-9]+`)

// Scrub returns data (JSON) with secret members' values replaced by
// Redacted and every account ID by ScrubbedAccount, inside base64 blobs
// of text too (the IAM credential report is one).
func Scrub(data json.RawMessage) (json.RawMessage, error) {
	if len(data) == 0 {
		return data, nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(scrub(v))
}

func scrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretMembers[k] && e != nil {
				x[k] = Redacted
				continue
			}
			x[k] = scrub(e)
		}
	case []any:
		for i, e := range x {
			x[i] = scrub(e)
		}
	case string:
		return scrubString(x)
	}
	return v
}

func scrubString(s string) string {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(s) >= 16 && utf8.Valid(b) && scrubIDs(string(b)) != string(b) {
		return base64.StdEncoding.EncodeToString([]byte(scrubIDs(string(b))))
	}
	return scrubIDs(s)
}

func scrubIDs(s string) string {
	return digits.ReplaceAllStringFunc(s, func(d string) string {
		if len(d) == 12 {
			return ScrubbedAccount
		}
		return d
	})
}
