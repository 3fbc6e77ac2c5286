package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/longtest"
)

// coesyncProc is a `coesync serve` subprocess.
type coesyncProc struct {
	cmd *exec.Cmd
	url string
	// admin is the admin listener's base URL (/readyz, /metrics).
	admin string
	logs  *syncBuffer
	done  chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServe runs the binary with the COESYNC_* environment of a real
// deployment pointed at the fakes, and waits until it is ready.
func startServe(t *testing.T, bin string, env map[string]string) *coesyncProc {
	t.Helper()
	addr, adminAddr := freeAddr(t), freeAddr(t)
	p := &coesyncProc{url: "http://" + addr, admin: "http://" + adminAddr, logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COESYNC_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Env = append(p.cmd.Env, "COESYNC_LISTEN_ADDR="+addr, "COESYNC_ADMIN_LISTEN_ADDR="+adminAddr)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("coesync %s output:\n%s", addr, p.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("coesync exited before it was ready: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("coesync not ready after 20s:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakesEnv is the COESYNC_* environment of a deployment on the database
// db pointed at the fakes, for a `coesync serve` subprocess.
func fakesEnv(db string, pd *pdtest.Server, jira *jiratest.Server, gh *ghtest.Server) map[string]string {
	return map[string]string{
		"COESYNC_DATABASE_URL":              db,
		"COESYNC_PAGERDUTY_API_URL":         pd.URL(),
		"COESYNC_PAGERDUTY_TOKEN":           demoPDToken,
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS": demoSecret,
		"COESYNC_JIRA_URL":                  jira.URL,
		"COESYNC_JIRA_USER":                 demoJiraUser,
		"COESYNC_JIRA_TOKEN":                demoJiraToken,
		"COESYNC_JIRA_PROJECT":              "OPS",
		"COESYNC_GITHUB_API_URL":            gh.URL(),
		"COESYNC_GITHUB_TOKEN":              ghtest.DefaultToken,
		"COESYNC_GITHUB_REPO":               demoRepo,
		"COESYNC_GITHUB_WEBHOOK_SECRET":     demoGHSecret,
		"COESYNC_JIRA_WEBHOOK_SECRET":       demoJiraHook,
		"COESYNC_RECONCILE_INTERVAL":        "1h",
	}
}

// wait wants the process (sent SIGTERM) to exit with status 0 in time.
func (p *coesyncProc) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("coesync exited with %v, want status 0", err)
		}
	case <-time.After(timeout):
		t.Fatalf("coesync did not exit within %s of SIGTERM", timeout)
	}
}

// TestSIGTERMUnderLoadLosesNoAcceptedWebhook sends 200 signed
// incident.resolved webhooks to the real binary from several goroutines and
// SIGTERMs it halfway. It must exit 0; after a restart on the same
// database every incident whose webhook was answered 202 has exactly one
// COE ticket in Jira, and no webhook sent after SIGTERM was answered 202
// and then lost.
func TestSIGTERMUnderLoadLosesNoAcceptedWebhook(t *testing.T) {
	longtest.Require(t) // builds the binary and runs it under load
	dir := t.TempDir()
	bin := filepath.Join(dir, "coesync")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	pd := pdtest.New(demoPDToken)
	defer pd.Close()
	jira := jiratest.New(jiratest.Options{User: demoJiraUser, Token: demoJiraToken, Transitions: demoWorkflow()})
	defer jira.Close()
	gh := ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	defer gh.Close()
	// Slow enough that jobs are still queued and running at SIGTERM.
	pd.Latency(5 * time.Millisecond)

	env := fakesEnv(filepath.Join(dir, "coesync.db"), pd, jira, gh)
	env["COESYNC_WORKERS"], env["COESYNC_HTTP_TIMEOUT"], env["COESYNC_LOG_LEVEL"] = "4", "10s", "info"

	const n = 200
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	incidents := make([]pdtest.Incident, n)
	for i := range incidents {
		incidents[i] = pdtest.SimpleIncident(fmt.Sprintf("PTERM%03d", i), base.Add(time.Duration(i)*time.Minute))
		pd.AddIncident(incidents[i])
	}

	p := startServe(t, bin, env)

	type result struct {
		status   int // 0: transport error
		err      error
		afterSig bool // answered (or failed) after SIGTERM was sent
	}
	results := make([]result, n)
	var next, finished atomic.Int32
	var sigSent atomic.Bool
	sigOnce := sync.Once{}
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				body := pdtest.ResolvedWebhook(incidents[i], "evt-term-"+incidents[i].ID)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.url+"/webhooks/pagerduty", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-PagerDuty-Signature", pdtest.Sign(demoSecret, body))
				resp, err := client.Do(req)
				r := result{err: err, afterSig: sigSent.Load()}
				if err == nil {
					r.status = resp.StatusCode
					resp.Body.Close()
				}
				results[i] = r
				if finished.Add(1) == n/2 {
					sigOnce.Do(func() {
						sigSent.Store(true)
						if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
							t.Errorf("SIGTERM: %v", err)
						}
					})
				}
				// Keep the load on while the process shuts down.
				if sigSent.Load() {
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	t0 := time.Now()
	p.wait(t, 30*time.Second)
	t.Logf("first process exited %s after the load ended", time.Since(t0).Round(time.Millisecond))

	var accepted []pdtest.Incident
	var refusedAfter, acceptedAfter, other int
	for i, r := range results {
		switch {
		case r.status == http.StatusAccepted:
			accepted = append(accepted, incidents[i])
			if r.afterSig {
				acceptedAfter++
			}
		case r.afterSig && (r.err != nil || r.status >= 500):
			refusedAfter++
		default:
			other++
			t.Errorf("webhook %d (%s): status %d, err %v, after SIGTERM %v", i, incidents[i].ID, r.status, r.err, r.afterSig)
		}
	}
	t.Logf("%d answered 202 (%d of them sent after SIGTERM), %d refused after SIGTERM; Jira held %d issues at exit",
		len(accepted), acceptedAfter, refusedAfter, len(jira.Issues()))
	if len(accepted) < n/2 {
		t.Fatalf("only %d of %d webhooks answered 202 before shutdown, want at least %d", len(accepted), n, n/2)
	}
	if refusedAfter == 0 {
		t.Errorf("no webhook was refused after SIGTERM: the shutdown did not happen under load")
	}
	if !strings.Contains(p.logs.String(), "shutting down") {
		t.Errorf("coesync did not log its graceful shutdown")
	}

	// Restart on the same database: what was accepted and not yet done runs now.
	t0 = time.Now()
	p2 := startServe(t, bin, env)
	perIncident := func() map[string]int {
		m := map[string]int{}
		for _, is := range jira.Issues() {
			if is.Parent != "" {
				continue
			}
			for _, l := range is.Labels {
				if strings.HasPrefix(l, "pd-incident-") {
					m[strings.ToUpper(strings.TrimPrefix(l, "pd-incident-"))]++
				}
			}
		}
		return m
	}
	waitFor(t, "a COE ticket for every accepted webhook", 90*time.Second, func() bool {
		m := perIncident()
		for _, fx := range accepted {
			if m[fx.ID] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("restarted process caught up in %s", time.Since(t0).Round(time.Millisecond))
	// Let any wrongly queued second job run before counting.
	time.Sleep(500 * time.Millisecond)
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p2.wait(t, 30*time.Second)

	m := perIncident()
	for _, fx := range accepted {
		if m[fx.ID] != 1 {
			t.Errorf("incident %s (answered 202) has %d COE tickets, want exactly 1", fx.ID, m[fx.ID])
		}
	}
	for id, c := range m {
		if c > 1 {
			t.Errorf("incident %s has %d COE tickets", id, c)
		}
	}
	// Every issue (COE or sub-task) was created once: no create was cut
	// off and repeated.
	if got, want := countJiraCreates(jira), len(jira.Issues()); got != want {
		t.Errorf("%d create calls for %d issues", got, want)
	}
	for _, is := range jira.Issues() {
		if is.Parent == "" && len(is.RemoteLinks) != 1 {
			t.Errorf("%s has %d remote links, want 1", is.Key, len(is.RemoteLinks))
		}
	}
	if err := p2.logs.String(); strings.Contains(err, "panic") {
		t.Errorf("coesync panicked:\n%s", err)
	}
}

func countJiraCreates(j *jiratest.Server) int {
	n := 0
	for _, r := range j.Requests() {
		if r.Method == http.MethodPost && r.Path == "/rest/api/2/issue" {
			n++
		}
	}
	return n
}
