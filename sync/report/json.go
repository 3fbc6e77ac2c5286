package report

import (
	"bytes"
	"encoding/json"
)

// JSON renders the report as indented JSON with a trailing newline. Field
// order follows the struct definitions and every list is sorted, so equal
// reports give identical bytes. Numbers are JSON numbers; unknown rates
// and medians are null. HTML-significant characters are escaped (\u003c),
// so the output can be embedded in a page.
func (r Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
