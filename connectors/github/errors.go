package github

import (
	"encoding/json"
	"strings"
)

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
