package jira

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// errorBodies sits under the httpx transport. It rewrites the body of a
// failed response into the short message Atlassian put in it, so that the
// *engine.Error the transport builds carries "project: valid project is
// required" rather than a clipped JSON document, and scrubs credentials from
// it in case the server echoed them.
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
	msg := atlassianMessage(b)
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

// atlassianMessage flattens an Atlassian error body,
//
//	{"errorMessages":["..."],"errors":{"field":"..."}}
//
// (or the gateway's {"message":"..."}) into "msg; field: msg". It returns ""
// when b is not such a document.
func atlassianMessage(b []byte) string {
	var body struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(b, &body) != nil {
		return ""
	}
	var parts []string
	for _, m := range body.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			parts = append(parts, m)
		}
	}
	fields := make([]string, 0, len(body.Errors))
	for f := range body.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+strings.TrimSpace(body.Errors[f]))
	}
	if m := strings.TrimSpace(body.Message); m != "" {
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}
