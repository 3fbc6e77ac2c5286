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

func load(t *testing.T, files ...string) map[string]object {
	t.Helper()
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

// The manifests are rendered from the Helm chart (scripts/render-manifests.sh):
// PostgreSQL mode here, SQLite mode in sqlite/. The Secret is an example
// written by hand, shared by both.
func TestManifests(t *testing.T) {
	objs := load(t, "coesync.yaml", "secret.example.yaml")
	dep, ok := objs["Deployment/coesync"]
	if !ok {
		t.Fatal("no Deployment coesync")
	}
	if r, _ := get(dep.Spec, "replicas").(int); r < 2 {
		t.Errorf("Deployment runs %d replicas; the point is several", r)
	}
	checkWorkload(t, objs, dep)
	pdb, ok := objs["PodDisruptionBudget/coesync"]
	if !ok {
		t.Fatal("no PodDisruptionBudget coesync")
	}
	podLabels := labels(get(dep.Spec, "template", "metadata", "labels"))
	if sel := labels(get(pdb.Spec, "selector", "matchLabels")); !matches(sel, podLabels) {
		t.Errorf("PDB selector %v misses the server pods %v", sel, podLabels)
	}
	// The budget must leave room for a drain: minAvailable below replicas.
	if min, ok := get(pdb.Spec, "minAvailable").(int); ok {
		if r, _ := get(dep.Spec, "replicas").(int); min >= r {
			t.Errorf("PDB minAvailable %d with %d replicas blocks every voluntary eviction", min, r)
		}
	}
	jobs := 0
	for id, o := range objs {
		if o.Kind != "Job" {
			continue
		}
		jobs++
		jobPods := labels(get(o.Spec, "template", "metadata", "labels"))
		if sel := labels(get(pdb.Spec, "selector", "matchLabels")); matches(sel, jobPods) {
			t.Errorf("the PodDisruptionBudget selector %v also selects the pods of %s %v", sel, id, jobPods)
		}
	}
	if jobs != 1 {
		t.Errorf("%d migrate Jobs, want 1", jobs)
	}
	c := get(dep.Spec, "template", "spec", "containers", 0)
	if v := envValue(c, "COESYNC_AUTO_MIGRATE"); v != "false" {
		t.Errorf("replicas run with COESYNC_AUTO_MIGRATE=%q; the migrate Job migrates, they must not race it", v)
	}
	if get(dep.Spec, "template", "spec", "topologySpreadConstraints", 0, "topologyKey") != "kubernetes.io/hostname" {
		t.Error("the replicas are not spread across nodes")
	}
}

func TestSQLiteManifests(t *testing.T) {
	objs := load(t, "sqlite/coesync.yaml", "secret.example.yaml")
	sts, ok := objs["StatefulSet/coesync"]
	if !ok {
		t.Fatal("no StatefulSet coesync")
	}
	if r, _ := get(sts.Spec, "replicas").(int); r != 1 {
		t.Errorf("SQLite StatefulSet runs %d replicas; SQLite has one writer", r)
	}
	checkWorkload(t, objs, sts)
	for id, o := range objs {
		if o.Kind == "Job" || o.Kind == "PodDisruptionBudget" || o.Kind == "Deployment" {
			t.Errorf("SQLite mode renders %s", id)
		}
	}
	c := get(sts.Spec, "template", "spec", "containers", 0)
	if v := envValue(c, "COESYNC_DATABASE_URL"); !strings.HasPrefix(v, "/data/") {
		t.Errorf("COESYNC_DATABASE_URL = %q, want a file on the /data volume", v)
	}
	mounted := false
	for i := 0; get(c, "volumeMounts", i) != nil; i++ {
		if get(c, "volumeMounts", i, "name") == "data" && get(c, "volumeMounts", i, "mountPath") == "/data" {
			mounted = true
		}
	}
	if !mounted || get(sts.Spec, "volumeClaimTemplates", 0, "metadata", "name") != "data" {
		t.Error("the database is not on a persistent volume mounted at /data")
	}
	if v := envValue(c, "COESYNC_RULES_FILE"); v != "" {
		t.Errorf("COESYNC_RULES_FILE set in env (%q); it comes from the ConfigMap", v)
	}
	if objs["ConfigMap/coesync"].Data["COESYNC_RULES_FILE"] != "/etc/coesync/rules.yaml" || objs["ConfigMap/coesync-files"].Data["rules.yaml"] == "" {
		t.Error("the rules file is not mounted from a ConfigMap")
	}
	if _, ok := objs["PodMonitor/coesync"]; !ok {
		t.Error("no PodMonitor although serviceMonitor.enabled")
	}
}

func envValue(c any, name string) string {
	for i := 0; get(c, "env", i) != nil; i++ {
		if get(c, "env", i, "name") == name {
			v, _ := get(c, "env", i, "value").(string)
			return v
		}
	}
	return ""
}

// checkWorkload checks what both modes share: the pods, their ports and
// probes, what the Service and the Ingress expose, and every setting.
func checkWorkload(t *testing.T, objs map[string]object, dep object) {
	t.Helper()
	wantAPI := map[string]string{"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1",
		"ConfigMap": "v1", "Secret": "v1", "Job": "batch/v1", "Ingress": "networking.k8s.io/v1",
		"NetworkPolicy": "networking.k8s.io/v1", "PodMonitor": "monitoring.coreos.com/v1"}
	for id, o := range objs {
		if want, ok := wantAPI[o.Kind]; !ok || o.APIVersion != want {
			t.Errorf("%s (%s): apiVersion %q, want %q", id, o.file, o.APIVersion, want)
		}
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
		// /readyz is on the admin listener only; both probes use it.
		if port != "admin" {
			t.Errorf("%s on port %v, want the admin port", probe.name, port)
		}
	}
	if ports["http"] != 8080 || ports["admin"] != 9090 {
		t.Errorf("container ports %v, want http 8080 and admin 9090", ports)
	}
	if get(c, "args", 0) != "serve" {
		t.Errorf("the container runs %v, want serve", get(c, "args"))
	}
	// Every pod that the Service or the PDB select must be a server pod:
	// the migrate Job's pod would otherwise receive webhooks it cannot
	// serve and count towards the disruption budget.
	svc := objs["Service/coesync"]
	svcSel := labels(get(svc.Spec, "selector"))
	if !matches(svcSel, podLabels) {
		t.Errorf("Service selector %v misses the server pods %v", svcSel, podLabels)
	}
	for id, o := range objs {
		if o.Kind != "Job" {
			continue
		}
		jobPods := labels(get(o.Spec, "template", "metadata", "labels"))
		for name, sel := range map[string]map[string]string{"Service": svcSel, dep.Kind: selector} {
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
		// The admin port shows incident data: no Service exposes it.
		if tp := get(svc.Spec, "ports", i, "targetPort"); tp != "http" && tp != 8080 {
			t.Errorf("Service exposes port %v; only the webhook port (http) may be", tp)
		}
	}
	// The Ingress routes only /webhooks/ to the Service's webhook port.
	ing, ok := objs["Ingress/coesync"]
	if !ok {
		t.Fatal("no Ingress coesync example")
	}
	for r := 0; get(ing.Spec, "rules", r) != nil; r++ {
		for i := 0; get(ing.Spec, "rules", r, "http", "paths", i) != nil; i++ {
			p := get(ing.Spec, "rules", r, "http", "paths", i)
			if path, _ := get(p, "path").(string); !strings.HasPrefix(path, "/webhooks/") {
				t.Errorf("Ingress routes %q; only /webhooks/ may face the internet", path)
			}
			if get(p, "backend", "service", "port", "name") != "http" {
				t.Errorf("Ingress backend port %v, want the Service's http port", get(p, "backend", "service", "port"))
			}
		}
	}
	// The admin listener binds the pod IP (never 0.0.0.0 by default).
	env := map[string]any{}
	for i := 0; get(c, "env", i) != nil; i++ {
		name, _ := get(c, "env", i, "name").(string)
		env[name] = get(c, "env", i)
	}
	if v, _ := get(env["COESYNC_ADMIN_LISTEN_ADDR"], "value").(string); v != "$(POD_IP):9090" {
		t.Errorf("COESYNC_ADMIN_LISTEN_ADDR = %q, want $(POD_IP):9090", v)
	}
	if get(env["POD_IP"], "valueFrom", "fieldRef", "fieldPath") != "status.podIP" {
		t.Errorf("POD_IP is not the downward API's status.podIP")
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
		if !known[name] && name != "POD_IP" {
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
