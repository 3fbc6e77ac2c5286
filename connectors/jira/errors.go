package jira

import (
	"encoding/json"
	"fmt"
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
		return bulkMessage(b)
	}
	var parts []string
	for _, m := range body.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			parts = append(parts, m)
		}
	}
	for _, f := range sortedKeys(body.Errors) {
		parts = append(parts, f+": "+strings.TrimSpace(body.Errors[f]))
	}
	if m := strings.TrimSpace(body.Message); m != "" {
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}

// bulkMessage flattens the 400 of a bulk create that refused every
// element, {"issues":[],"errors":[{"elementErrors":{...},"failedElementNumber":0},...]},
// into "element 0: field: msg; ..."; "" when b is not such a document.
func bulkMessage(b []byte) string {
	var body bulkCreateResponse
	if json.Unmarshal(b, &body) != nil || len(body.Errors) == 0 {
		return ""
	}
	var parts []string
	for _, e := range body.Errors {
		m := e.message()
		if e.FailedElementNumber != nil {
			m = fmt.Sprintf("element %d: %s", *e.FailedElementNumber, m)
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
