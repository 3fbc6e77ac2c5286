package jira

import (
	"encoding/json"
	"sort"
	"strings"
)

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
