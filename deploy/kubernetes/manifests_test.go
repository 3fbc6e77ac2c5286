// Package kubernetes_test checks the manifests in this directory for the
// mistakes kubectl would not catch before they bite in production: probes
// on the wrong path or port, selectors that match the wrong pods, secret
// and config keys that name no coesync setting, a PodDisruptionBudget that
// blocks every drain.
package kubernetes_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/coesync/coesync/config"
)

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec       map[string]any    `yaml:"spec"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	file       string
}

func load(t *testing.T) map[string]object {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	objs := map[string]object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o object
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			o.file = f
			if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: an object without apiVersion, kind or metadata.name", f)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs
}

// get walks a decoded YAML tree: keys for maps, ints for lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func labels(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// settings are the COESYNC_* variables coesync reads.
func settings() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(config.Config{})
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("envconfig"); name != "" {
			out[name] = true
		}
	}
	return out
}

func TestManifests(t *testing.T) {
	objs := load(t)
	wantAPI := map[string]string{"Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1",
		"ConfigMap": "v1", "Secret": "v1", "Job": "batch/v1"}
	for id, o := range objs {
		if want, ok := wantAPI[o.Kind]; !ok || o.APIVersion != want {
			t.Errorf("%s (%s): apiVersion %q, want %q", id, o.file, o.APIVersion, want)
		}
	}
	dep, ok := objs["Deployment/coesync"]
	if !ok {
		t.Fatal("no Deployment coesync")
	}
	if r, _ := get(dep.Spec, "replicas").(int); r < 2 {
		t.Errorf("Deployment runs %d replicas; the point is several", r)
	}
	podLabels := labels(get(dep.Spec, "template", "metadata", "labels"))
	selector := labels(get(dep.Spec, "selector", "matchLabels"))
	if !matches(selector, podLabels) {
		t.Errorf("Deployment selector %v does not match its pods %v", selector, podLabels)
	}
	c := get(dep.Spec, "template", "spec", "containers", 0)
	ports := map[string]int{}
	for i := 0; get(c, "ports", i) != nil; i++ {
		n, _ := get(c, "ports", i, "name").(string)
		p, _ := get(c, "ports", i, "containerPort").(int)
		ports[n] = p
	}
	for _, probe := range []struct{ name, path string }{{"readinessProbe", "/readyz"}, {"livenessProbe", "/healthz"}} {
		if got := get(c, probe.name, "httpGet", "path"); got != probe.path {
			t.Errorf("%s path %v, want %s", probe.name, got, probe.path)
		}
		port := get(c, probe.name, "httpGet", "port")
		if name, ok := port.(string); ok && ports[name] == 0 {
			t.Errorf("%s on port %q, which the container does not name", probe.name, name)
		}
	}
	if get(c, "args", 0) != "serve" {
		t.Errorf("the container runs %v, want serve", get(c, "args"))
	}
	// Every pod that the Service or the PDB select must be a server pod:
	// the migrate Job's pod would otherwise receive webhooks it cannot
	// serve and count towards the disruption budget.
	svc := objs["Service/coesync"]
	pdb := objs["PodDisruptionBudget/coesync"]
	svcSel := labels(get(svc.Spec, "selector"))
	pdbSel := labels(get(pdb.Spec, "selector", "matchLabels"))
	if !matches(svcSel, podLabels) || !matches(pdbSel, podLabels) {
		t.Errorf("Service %v or PDB %v selector misses the server pods %v", svcSel, pdbSel, podLabels)
	}
	for id, o := range objs {
		if o.Kind != "Job" {
			continue
		}
		jobPods := labels(get(o.Spec, "template", "metadata", "labels"))
		for name, sel := range map[string]map[string]string{"Service": svcSel, "PodDisruptionBudget": pdbSel, "Deployment": selector} {
			if matches(sel, jobPods) {
				t.Errorf("the %s selector %v also selects the pods of %s %v", name, sel, id, jobPods)
			}
		}
		if get(o.Spec, "template", "spec", "containers", 0, "args", 0) != "migrate" {
			t.Errorf("%s does not run coesync migrate", id)
		}
	}
	for i := 0; get(svc.Spec, "ports", i) != nil; i++ {
		if tp, ok := get(svc.Spec, "ports", i, "targetPort").(string); ok && ports[tp] == 0 {
			t.Errorf("Service targets port %q, which the container does not name", tp)
		}
	}
	// The budget must leave room for a drain: minAvailable below replicas.
	if min, ok := get(pdb.Spec, "minAvailable").(int); ok {
		if r, _ := get(dep.Spec, "replicas").(int); min >= r {
			t.Errorf("PDB minAvailable %d with %d replicas blocks every voluntary eviction", min, r)
		}
	}
	// Config and secret keys are coesync settings, and secrets are in
	// the Secret, not the ConfigMap.
	known := settings()
	for _, id := range []string{"ConfigMap/coesync", "Secret/coesync"} {
		o, ok := objs[id]
		if !ok {
			t.Fatalf("no %s", id)
		}
		kv := o.Data
		if o.Kind == "Secret" {
			kv = o.StringData
		}
		for k := range kv {
			if !known[k] {
				t.Errorf("%s sets %s, which coesync does not read", id, k)
			}
			secret := strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET") || k == "COESYNC_DATABASE_URL" || k == "COESYNC_REPORT_SLACK_WEBHOOK_URL"
			if o.Kind == "ConfigMap" && secret {
				t.Errorf("%s holds %s, a secret", id, k)
			}
		}
	}
	for i := 0; get(c, "env", i) != nil; i++ {
		name, _ := get(c, "env", i, "name").(string)
		if !known[name] {
			t.Errorf("the container sets %s, which coesync does not read", name)
		}
		if ref := get(c, "env", i, "valueFrom", "secretKeyRef"); ref != nil {
			sec := objs["Secret/"+get(ref, "name").(string)]
			if _, ok := sec.StringData[get(ref, "key").(string)]; !ok {
				t.Errorf("env %s refers to a key the Secret example lacks", name)
			}
		}
	}
}
