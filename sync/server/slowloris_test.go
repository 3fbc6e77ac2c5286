package server_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/server"
)

// TestSlowHeadersAreCutOff opens connections that dribble their request
// headers one byte at a time, as a slow-loris client does, against the
// server HTTPServer configures: each is closed within ReadHeaderTimeout
// (plus a margin) while normal requests on other connections are served
// all along.
func TestSlowHeadersAreCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ReadHeaderTimeout (5 s)")
	}
	t.Parallel()
	h := http.NewServeMux()
	h.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	hs := server.HTTPServer("127.0.0.1:0", h, slog.New(slog.NewTextHandler(io.Discard, nil)))

	// The timeouts that matter against slow clients are all set.
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second {
		t.Fatalf("ReadHeaderTimeout = %s, want a few seconds", hs.ReadHeaderTimeout)
	}
	if hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 {
		t.Fatalf("ReadTimeout %s, WriteTimeout %s, IdleTimeout %s: all must be set", hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Fatalf("MaxHeaderBytes = %d", hs.MaxHeaderBytes)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	const slow = 5
	limit := hs.ReadHeaderTimeout + 2*time.Second
	start := time.Now()
	var wg sync.WaitGroup
	cut := make([]time.Duration, slow)
	errs := make([]error, slow)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cut[i], errs[i] = dribble(addr, limit+3*time.Second)
		}()
	}

	// Meanwhile, normal requests on new connections are answered promptly.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for time.Since(start) < hs.ReadHeaderTimeout-time.Second {
		t0 := time.Now()
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("normal request while slow clients hold connections: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("normal request: status %d", resp.StatusCode)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("normal request took %s", d)
		}
		time.Sleep(250 * time.Millisecond)
	}

	wg.Wait()
	for i := range slow {
		if errs[i] != nil {
			t.Errorf("slow client %d: %v", i, errs[i])
			continue
		}
		if cut[i] > limit {
			t.Errorf("slow client %d was cut off after %s, want within %s", i, cut[i].Round(time.Millisecond), limit)
		}
		if cut[i] < hs.ReadHeaderTimeout-500*time.Millisecond {
			t.Errorf("slow client %d was cut off after only %s, before ReadHeaderTimeout %s", i, cut[i].Round(time.Millisecond), hs.ReadHeaderTimeout)
		}
	}
}

// dribble sends a request line and endless headers one byte every 100 ms
// and returns how long the server kept the connection open. It fails when
// the server answers anything but a 400 or 408 or keeps the connection past max.
func dribble(addr string, max time.Duration) (time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan error, 1)
	go func() {
		// The server closes the connection (EOF or reset), perhaps
		// after a 400 or 408; anything else it says is a failure.
		br := bufio.NewReader(conn)
		line, err := br.ReadString('\n')
		if err == nil {
			if !strings.Contains(line, " 408 ") && !strings.Contains(line, " 400 ") {
				closed <- errors.New("server answered " + strings.TrimSpace(line))
				return
			}
			_, err = io.Copy(io.Discard, br)
		}
		closed <- err
	}()
	msg := "POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n", 1000)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(max)
	for i := 0; ; i++ {
		select {
		case err := <-closed:
			if err != nil && !isClosedErr(err) {
				return 0, err
			}
			return time.Since(start), nil
		case <-deadline:
			return 0, errors.New("server still holds the connection after " + max.String())
		case <-tick.C:
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte{msg[i%len(msg)]}); err != nil {
				// Writing fails once the server has closed: wait for the
				// reader to see it.
				select {
				case <-closed:
				case <-time.After(time.Second):
				}
				return time.Since(start), nil
			}
		}
	}
}

func isClosedErr(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "connection reset")
}
