package github

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// errorBodies sits under the httpx transport. It rewrites the body of a
// failed response into the short message GitHub put in it, so that the
// *engine.Error the transport builds carries "Validation Failed: Issue.title
// missing_field" rather than a clipped JSON document, and scrubs the token
// from it in case a server echoed it.
type errorBodies struct {
	base   http.RoundTripper
	redact *strings.Replacer
}

func (t errorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	msg := githubMessage(b)
	if msg == "" {
		msg = string(b)
	}
	msg = t.redact.Replace(msg)
	resp.Header = resp.Header.Clone()
	resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp.Header.Set("Content-Length", strconv.Itoa(len(msg)))
	resp.ContentLength = int64(len(msg))
	resp.Body = io.NopCloser(strings.NewReader(msg))
	return resp, nil
}

// githubMessage flattens a GitHub error body,
//
//	{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}]}
//
// into "Validation Failed: Issue.title missing_field". It returns "" when b
// is not such a document.
func githubMessage(b []byte) string {
	var body struct {
		Message string            `json:"message"`
		Errors  []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(b, &body) != nil || body.Message == "" {
		return ""
	}
	var parts []string
	for _, raw := range body.Errors {
		var e struct {
			Resource string `json:"resource"`
			Field    string `json:"field"`
			Code     string `json:"code"`
			Message  string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil {
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				parts = append(parts, s)
			}
			continue
		}
		p := e.Field
		if e.Resource != "" && e.Field != "" {
			p = e.Resource + "." + e.Field
		}
		for _, x := range []string{e.Code, e.Message} {
			if x != "" && x != "custom" {
				p = strings.TrimSpace(p + " " + x)
			}
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return body.Message
	}
	return body.Message + ": " + strings.Join(parts, "; ")
}
