package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONTypes(t *testing.T) {
	raw, err := Build(small(t)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		t.Fatal(err)
	}
	s := j["summary"].(map[string]any)
	if s["completion_rate"] != nil || s["median_days_to_close"] != nil {
		t.Errorf("undefined rate and median are not null: %v", s)
	}
	if _, ok := s["coes_created"].(json.Number); !ok {
		t.Errorf("coes_created is %T", s["coes_created"])
	}
	// Empty lists are [], never null.
	for _, path := range [][]string{{"coes", "created"}, {"coes", "by_team"}, {"action_items", "overdue"}, {"action_items", "by_owner"}, {"health", "reasons"}} {
		v, ok := j[path[0]].(map[string]any)[path[1]].([]any)
		if !ok || len(v) != 0 {
			t.Errorf("%s is %#v, want []", strings.Join(path, "."), v)
		}
	}
	if !bytes.HasSuffix(raw, []byte("}\n")) || !bytes.Contains(raw, []byte("\n  \"summary\": {\n    \"coes_created\": 0,")) {
		t.Errorf("not indented:\n%s", raw[:200])
	}
}

// A report read back from its JSON renders the same.
func TestJSONRoundTrip(t *testing.T) {
	r := Build(seed(t))
	raw, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.Markdown(), r.Markdown(); got != want {
		t.Errorf("Markdown differs after a JSON round trip:\n%s", firstDiff([]byte(want), []byte(got)))
	}
	var a, b bytes.Buffer
	if err := r.HTML(&a); err != nil {
		t.Fatal(err)
	}
	if err := back.HTML(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("HTML differs after a JSON round trip:\n%s", firstDiff(a.Bytes(), b.Bytes()))
	}
	again, _ := back.JSON()
	if !bytes.Equal(raw, again) {
		t.Errorf("JSON differs after a round trip:\n%s", firstDiff(raw, again))
	}
}
