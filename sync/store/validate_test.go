package store

import (
	"errors"
	"math"
	"strings"
	"testing"
)

type argsText struct{ S string }

func (argsText) Kind() string { return "test_text" }

type argsNaN struct{ F float64 }

func (argsNaN) Kind() string { return "test_nan" }

func TestCheckDelivery(t *testing.T) {
	ok := Delivery{Source: "github", ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", EventType: "issues.opened",
		ResourceID: "acme/api#12", Body: []byte(`{"title":"caf\u00e9 \u0000 ok"}`)}
	tests := []struct {
		name string
		edit func(*Delivery)
		want string // "" for nil, else a part of the message
	}{
		{"a GitHub delivery", func(*Delivery) {}, ""},
		{"non-ASCII id", func(d *Delivery) { d.ID = "évt-1" }, ""},
		{"id of 200 bytes", func(d *Delivery) { d.ID = strings.Repeat("a", 200) }, ""},
		{"NUL escape in the body (bytea)", func(d *Delivery) { d.Body = []byte(`{"a":"\u0000"}`) }, ""},
		{"job arg with an escaped backslash", func(d *Delivery) { d.Jobs = []Job{{Args: argsText{`\u0000`}}} }, ""},
		{"empty id", func(d *Delivery) { d.ID = "" }, "empty delivery id"},
		{"id evt-\\xff", func(d *Delivery) { d.ID = "evt-\xff" }, "delivery id is not valid UTF-8"},
		{"id evt-\\xfe", func(d *Delivery) { d.ID = "evt-\xfe" }, "delivery id is not valid UTF-8"},
		{"id evt-\\xc0", func(d *Delivery) { d.ID = "evt-\xc0" }, "delivery id is not valid UTF-8"},
		{"id with NUL", func(d *Delivery) { d.ID = "evt-\x00" }, "delivery id holds a control character"},
		{"id with a newline", func(d *Delivery) { d.ID = "evt\n1" }, "control character"},
		{"id with DEL", func(d *Delivery) { d.ID = "evt\x7f" }, "control character"},
		{"id a decoder rewrote", func(d *Delivery) { d.ID = "evt-\uFFFD" }, "U+FFFD"},
		{"id of 201 bytes", func(d *Delivery) { d.ID = strings.Repeat("a", 201) }, "longer than 200 bytes"},
		{"event type with NUL", func(d *Delivery) { d.EventType = "issues\x00" }, "event type holds a control character"},
		{"event type too long", func(d *Delivery) { d.EventType = strings.Repeat("x", 513) }, "event type is longer"},
		{"resource id invalid", func(d *Delivery) { d.ResourceID = "P\xff" }, "resource id is not valid UTF-8"},
		{"body invalid UTF-8", func(d *Delivery) { d.Body = []byte("{\"id\":\"evt-\xff\"}") }, "body is not valid UTF-8"},
		{"job arg with NUL", func(d *Delivery) { d.Jobs = []Job{{Args: argsText{"P\x00"}}} }, "test_text job argument holds NUL"},
		{"job arg after escaped backslash", func(d *Delivery) { d.Jobs = []Job{{Args: argsText{"\\\x00"}}} }, "holds NUL"},
		{"job arg not encodable", func(d *Delivery) { d.Jobs = []Job{{Args: argsNaN{math.NaN()}}} }, "encode test_nan job"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.edit(&d)
			err := CheckDelivery(d)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckDelivery = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnstorable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckDelivery = %v, want ErrUnstorable with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), d.ID) && d.ID != "" {
				t.Errorf("the message quotes the id: %v", err)
			}
		})
	}
}
