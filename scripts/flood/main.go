// Command flood measures coesync serve under unsigned traffic: it starts
// the binary given, holds N connections open each mid-way through a body
// of SIZE bytes (unsigned, as anyone on the internet can), then sends one
// valid signed PagerDuty delivery and reports its status and latency and
// the process's peak RSS (VmHWM).
//
//	go build -o /tmp/coesync ./cmd/coesync
//	go run ./scripts/flood -bin /tmp/coesync            # 300 × 1 MB
//	go run ./scripts/flood -bin /tmp/coesync -n 300 -size 1000000
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

const secret = "flood-secret"

func main() {
	bin := flag.String("bin", "", "coesync binary")
	n := flag.Int("n", 300, "connections held open")
	size := flag.Int("size", 1_000_000, "declared body size of each")
	flag.Parse()
	if err := run(*bin, *n, *size); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func run(bin string, n, size int) error {
	dir, err := os.MkdirTemp("", "flood")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, admin := freeAddr(), freeAddr()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"COESYNC_LISTEN_ADDR=" + addr, "COESYNC_ADMIN_LISTEN_ADDR=" + admin,
		"COESYNC_DATABASE_URL=" + filepath.Join(dir, "coesync.db"),
		"COESYNC_PAGERDUTY_API_URL=http://127.0.0.1:9", "COESYNC_PAGERDUTY_TOKEN=t",
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS=" + secret,
		"COESYNC_JIRA_URL=http://127.0.0.1:9", "COESYNC_JIRA_TOKEN=t", "COESYNC_JIRA_PROJECT=OPS",
		"COESYNC_LOG_LEVEL=error",
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	if err := waitHealthy(base); err != nil {
		return fmt.Errorf("%v; output:\n%s", err, logs.String())
	}
	rssBefore := hwm(cmd.Process.Pid)

	// N connections, each sends its headers and all but 1 KB of the body,
	// then holds.
	held, refused := 0, 0
	conns := make([]net.Conn, 0, n)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Flood: %d\r\n\r\n", size, i)
		go func() {
			for sent := 0; sent < size-1024; {
				k := min(len(chunk), size-1024-sent)
				if _, err := c.Write(chunk[:k]); err != nil {
					return
				}
				sent += k
			}
		}()
	}
	// Let the writers reach their hold point (or be refused).
	time.Sleep(3 * time.Second)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			resp.Body.Close()
			refused++
		} else {
			held++
		}
	}

	body := []byte(`{"event":{"id":"evt-flood-1","event_type":"service.updated","resource_type":"service","occurred_at":"2026-11-20T08:00:00Z","data":{"id":"PSVC1","type":"service"}}}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/pagerduty", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-PagerDuty-Signature", pdtest.Sign(secret, body))
	t0 := time.Now()
	status := 0
	for time.Since(t0) < 30*time.Second {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err == nil {
			resp.Body.Close()
			status = resp.StatusCode
			if status == http.StatusAccepted {
				break
			}
			if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra > 0 {
				time.Sleep(time.Duration(ra) * time.Second)
			}
		}
		req.Body = nopCloser{bytes.NewReader(body)}
	}
	latency := time.Since(t0)
	rss := hwm(cmd.Process.Pid)
	for _, c := range conns {
		c.Close()
	}
	fmt.Printf("| connections held | body bytes | held by server | answered early | peak RSS MiB (before flood) | signed delivery | latency |\n")
	fmt.Printf("|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d | %d | %d | %.1f (%.1f) | %d | %s |\n", n, size, held, refused, rss, rssBefore, status, latency.Round(time.Millisecond))
	return nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func waitHealthy(base string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("coesync not healthy at %s", base)
}

// hwm is the process's peak resident set in MiB (VmHWM).
func hwm(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
