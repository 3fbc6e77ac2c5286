package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/server"
)

// coesync bench measures the webhook ingest path in one process, against
// the demo's fakes on loopback, with a built-in load generator.
//
// What "ingest" runs: the real App from NewApp (real config, SQLite file
// with synchronous=FULL, group committer, verifier, decoder, metrics), its
// Handler served by server.HTTPServer, with appOptions{workers: false}: the
// job workers are not started, so the numbers are ingest only (a 202 means
// the delivery and its draft_coe job are on disk), not ingest competing
// with COE drafting.
//
// The load generator shares the process: its CPU and memory are in the
// RSS figure and compete with coesync for cores.

// benchIDWidth is the width of the stamped id (the "0000000000" marker).
const benchIDWidth = 10

// Targets from the benchmark issue.
const (
	targetRatio     = 0.30
	targetRPS       = 5000.0
	targetP99At1000 = 10.0 // ms
	targetRSSMiB    = 80.0
	fixedRate       = 1000 // requests/s of the open-loop run
)

// benchResult is the --json output.
type benchResult struct {
	Ingest      ingestResult `json:"ingest"`
	RSSMiB      float64      `json:"rss_mib"`
	RSSScope    string       `json:"rss_scope"`
	BinaryMiB   float64      `json:"binary_mib"`
	Concurrency int          `json:"concurrency"`
	BodyBytes   int          `json:"body_bytes"`
	GOMAXPROCS  int          `json:"gomaxprocs"`
	Mode        string       `json:"mode"`
}

type ingestResult struct {
	RPS         float64 `json:"rps"`
	BareRPS     float64 `json:"bare_rps"`
	Ratio       float64 `json:"ratio"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	P99msAt1000 float64 `json:"p99_ms_at_1000"`
	P50msAt1000 float64 `json:"p50_ms_at_1000"`
	BareP50ms   float64 `json:"bare_p50_ms"`
	BareP99ms   float64 `json:"bare_p99_ms"`
	// Requests counts measured requests of each run; Non202 those that
	// were not answered 202 (transport errors included) across all runs.
	Requests       int     `json:"requests"`
	BareRequests   int     `json:"bare_requests"`
	RateRequests   int     `json:"rate_requests"`
	AchievedAt1000 float64 `json:"achieved_rps_at_1000"`
	Non202         int     `json:"non_202"`
}

type benchFlags struct {
	quick       bool
	json        bool
	concurrency int
	duration    time.Duration
	requests    int
	rateFor     time.Duration
	cpuprofile  string
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f benchFlags
	fs.BoolVar(&f.quick, "quick", false, "small sizes: the whole run takes well under a minute")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of the table")
	fs.IntVar(&f.concurrency, "concurrency", 32, "load generator workers (and idle connections)")
	fs.DurationVar(&f.duration, "duration", 0, "length of each closed-loop run (default 10s, 3s with --quick)")
	fs.IntVar(&f.requests, "requests", 0, "at most this many requests per run (default 1000000, 200000 with --quick)")
	fs.DurationVar(&f.rateFor, "rate-duration", 0, "length of the fixed 1,000/s run (default 10s, 3s with --quick)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the closed-loop coesync run to this file")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))}
	}
	if f.concurrency < 1 {
		return &exitError{2, errors.New("bench: --concurrency must be at least 1")}
	}
	if f.duration == 0 {
		f.duration = 10 * time.Second
		if f.quick {
			f.duration = 3 * time.Second
		}
	}
	if f.rateFor == 0 {
		f.rateFor = 10 * time.Second
		if f.quick {
			f.rateFor = 3 * time.Second
		}
	}
	if f.requests == 0 {
		f.requests = 1_000_000
		if f.quick {
			f.requests = 200_000
		}
	}
	res, err := bench(ctx, f, stderr)
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBench(stdout, res, f)
	return nil
}

func bench(ctx context.Context, f benchFlags, stderr io.Writer) (benchResult, error) {
	res := benchResult{Concurrency: f.concurrency, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Mode: "App from NewApp, workers off (ingest only), Handler on server.HTTPServer, SQLite synchronous=FULL"}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	gen := newLoadGen(f.concurrency)
	defer gen.client.CloseIdleConnections()
	res.BodyBytes = len(gen.template)

	// Ceiling: the same generator against a handler that reads the body
	// and answers 202.
	bareURL, stopBare, err := serveOn(server.HTTPServer("127.0.0.1:0", http.HandlerFunc(bareHandler), log))
	if err != nil {
		return res, err
	}
	gen.warmup(ctx, bareURL)
	bare := gen.closedLoop(ctx, bareURL, f.duration, f.requests)
	stopBare()
	gen.client.CloseIdleConnections()

	// coesync: the fakes, the App, a temp SQLite file.
	dir, err := os.MkdirTemp("", "coesync-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	pd := pdtest.New(demoPDToken)
	defer pd.Close()
	jr := jiratest.New(jiratest.Options{User: demoJiraUser, Token: demoJiraToken, Transitions: demoWorkflow()})
	defer jr.Close()
	gh := ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	defer gh.Close()
	cfg := demoConfig(pd.URL(), jr.URL, gh.URL(), filepath.Join(dir, "coesync.db"), "")
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	app, err := NewApp(ctx, cfg, log, appOptions{workers: false})
	if err != nil {
		return res, err
	}
	defer app.Close()
	appURL, stopApp, err := serveOn(server.HTTPServer("127.0.0.1:0", app.Handler, log))
	if err != nil {
		return res, err
	}
	defer func() {
		stopApp()
		app.Committer.Close()
	}()
	gen.warmup(ctx, appURL)

	// Peak RSS of the coesync runs only: reset VmHWM after the bare run.
	res.RSSScope = "coesync runs (VmHWM reset after the bare run); load generator in the same process"
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		res.RSSScope = "whole process incl. bare run (could not reset VmHWM); load generator in the same process"
	}
	var stopProf func()
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return res, err
		}
		stopProf = func() { pprof.StopCPUProfile(); pf.Close() }
	}
	ing := gen.closedLoop(ctx, appURL, f.duration, f.requests)
	if stopProf != nil {
		stopProf()
	}
	rateN := min(int(f.rateFor.Seconds()*fixedRate), f.requests)
	rate := gen.openLoop(ctx, appURL, fixedRate, rateN)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.RSSMiB = peakRSSMiB()

	res.Ingest = ingestResult{
		RPS: ing.rps(), BareRPS: bare.rps(),
		P50ms: ing.pct(50), P99ms: ing.pct(99), BareP50ms: bare.pct(50), BareP99ms: bare.pct(99),
		P50msAt1000: rate.pct(50), P99msAt1000: rate.pct(99), AchievedAt1000: rate.rps(),
		Requests: len(ing.lat), BareRequests: len(bare.lat), RateRequests: len(rate.lat),
		Non202: ing.bad + bare.bad + rate.bad + int(gen.warmBad.Load()),
	}
	if res.Ingest.BareRPS > 0 {
		res.Ingest.Ratio = res.Ingest.RPS / res.Ingest.BareRPS
	}
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			res.BinaryMiB = float64(st.Size()) / (1 << 20)
		}
	}
	return res, nil
}

func bareHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusAccepted)
}

// serveOn serves hs on a loopback port and returns its URL and a stop.
func serveOn(hs *http.Server) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String() + "/webhooks/pagerduty", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	}, nil
}

// peakRSSMiB reads VmHWM from /proc/self/status (0 where there is none).
func peakRSSMiB() float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// loadGen sends signed incident.resolved webhooks, each for a distinct
// incident and event id (nothing is a duplicate). Bodies come from one
// 1.6 KB template: a worker stamps the next id into its own copy and signs
// it before starting the clock, so the generator's memory stays constant
// however many requests a run sends (pre-building every body would put
// hundreds of MB into the RSS being measured).
type loadGen struct {
	client   *http.Client
	workers  int
	template []byte
	marks    []int // offsets of the id marker in template
	next     atomic.Int64
	warmBad  atomic.Int64
}

func newLoadGen(workers int) *loadGen {
	marker := strings.Repeat("0", benchIDWidth)
	base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	tmpl := pdtest.ResolvedWebhook(pdtest.RichIncident("PB"+marker, base), "evt-bench-"+marker)
	var marks []int
	for off := 0; ; {
		i := bytes.Index(tmpl[off:], []byte(marker))
		if i < 0 {
			break
		}
		marks = append(marks, off+i)
		off += i + len(marker)
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &loadGen{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, workers: workers,
		template: tmpl, marks: marks}
}

// sender is one worker's body buffer and signer.
type sender struct {
	g    *loadGen
	body []byte
	mac  hash.Hash
	sig  []byte
	rd   bytes.Reader
}

func (g *loadGen) sender() *sender {
	return &sender{g: g, body: bytes.Clone(g.template), mac: hmac.New(sha256.New, []byte(demoSecret)),
		sig: make([]byte, 0, 3+2*sha256.Size)}
}

// prepare stamps id n into the body and signs it.
func (s *sender) prepare(n int64) {
	var digits [benchIDWidth]byte
	for i := benchIDWidth - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	for _, off := range s.g.marks {
		copy(s.body[off:], digits[:])
	}
	s.mac.Reset()
	s.mac.Write(s.body)
	var sum [sha256.Size]byte
	s.sig = hex.AppendEncode(append(s.sig[:0], "v1="...), s.mac.Sum(sum[:0]))
}

// do sends the prepared body and reports whether it was answered 202.
func (s *sender) do(ctx context.Context, url string) bool {
	s.rd.Reset(s.body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &s.rd)
	if err != nil {
		return false
	}
	req.ContentLength = int64(len(s.body))
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["X-Pagerduty-Signature"] = []string{string(s.sig)}
	resp, err := s.g.client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusAccepted
}

// runStats are the latencies and errors of one run.
type runStats struct {
	lat     []time.Duration
	bad     int
	elapsed time.Duration
}

func (r runStats) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

// pct is the p-th percentile latency in ms (nearest rank).
func (r runStats) pct(p float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.5) - 1
	i = max(0, min(i, len(r.lat)-1))
	return float64(r.lat[i]) / float64(time.Millisecond)
}

func merge(parts [][]time.Duration, bad int, elapsed time.Duration) runStats {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	all := make([]time.Duration, 0, n)
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return runStats{lat: all, bad: bad, elapsed: elapsed}
}

// warmup opens the connections and warms both sides (not measured).
func (g *loadGen) warmup(ctx context.Context, url string) {
	var wg sync.WaitGroup
	for range g.workers {
		wg.Go(func() {
			s := g.sender()
			for range 4 {
				s.prepare(g.next.Add(1))
				if !s.do(ctx, url) {
					g.warmBad.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// closedLoop runs the workers, each sending its next request as soon as the
// previous one is answered, until d has passed or max requests were sent.
func (g *loadGen) closedLoop(ctx context.Context, url string, d time.Duration, max int) runStats {
	parts := make([][]time.Duration, g.workers)
	per := max/g.workers + 1
	for i := range parts {
		parts[i] = make([]time.Duration, 0, per)
	}
	var sent atomic.Int64
	var bad atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range g.workers {
		wg.Go(func() {
			s := g.sender()
			lat := parts[w]
			for ctx.Err() == nil && sent.Add(1) <= int64(max) {
				s.prepare(g.next.Add(1))
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				ok := s.do(ctx, url)
				lat = append(lat, time.Since(t0))
				if !ok {
					bad.Add(1)
				}
			}
			parts[w] = lat
		})
	}
	wg.Wait()
	return merge(parts, int(bad.Load()), time.Since(start))
}

// openLoop offers n requests at rate/s on a fixed schedule, whatever the
// answers; latency is measured from each request's scheduled time, so a
// stall shows up in the percentiles instead of slowing the offer down.
func (g *loadGen) openLoop(ctx context.Context, url string, rate, n int) runStats {
	interval := time.Second / time.Duration(rate)
	sched := make(chan time.Time, n)
	parts := make([][]time.Duration, g.workers)
	var bad atomic.Int64
	var wg sync.WaitGroup
	for w := range g.workers {
		parts[w] = make([]time.Duration, 0, n/g.workers+1)
		wg.Go(func() {
			s := g.sender()
			lat := parts[w]
			for at := range sched {
				s.prepare(g.next.Add(1))
				ok := s.do(ctx, url)
				lat = append(lat, time.Since(at))
				if !ok {
					bad.Add(1)
				}
			}
			parts[w] = lat
		})
	}
	start := time.Now()
	tick := time.NewTicker(interval)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		// The ticker only paces; the scheduled time is computed, so a
		// dropped tick does not shift the schedule.
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		sched <- at
	}
	tick.Stop()
	close(sched)
	wg.Wait()
	return merge(parts, int(bad.Load()), time.Since(start))
}

func printBench(w io.Writer, r benchResult, f benchFlags) {
	in := r.Ingest
	check := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "coesync bench: %d workers, %s closed-loop runs, %d requests at %d/s, %d-byte signed incident.resolved bodies, GOMAXPROCS %d\n",
		r.Concurrency, f.duration, in.RateRequests, fixedRate, r.BodyBytes, r.GOMAXPROCS)
	fmt.Fprintf(w, "ingest: %s\n\n", r.Mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tvalue\ttarget\t")
	row := func(s, m, v, t string) { fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", s, m, v, t) }
	row("1 ingest", "coesync webhooks/s (202)", fmt.Sprintf("%.0f", in.RPS),
		fmt.Sprintf("≥ 5,000/s  %s", check(in.RPS >= targetRPS)))
	row("1 ingest", "bare net/http 202/s (ceiling)", fmt.Sprintf("%.0f", in.BareRPS), "")
	row("1 ingest", "ratio coesync / bare", fmt.Sprintf("%.2f", in.Ratio),
		fmt.Sprintf("≥ 0.30  %s", check(in.Ratio >= targetRatio)))
	row("1 ingest", "p50 / p99 latency (closed loop)", fmt.Sprintf("%.2f / %.2f ms", in.P50ms, in.P99ms), "")
	row("1 ingest", "bare p50 / p99 latency", fmt.Sprintf("%.2f / %.2f ms", in.BareP50ms, in.BareP99ms), "")
	row("1 ingest", fmt.Sprintf("p99 at %d/s offered (p50)", fixedRate), fmt.Sprintf("%.2f ms (%.2f ms)", in.P99msAt1000, in.P50msAt1000),
		fmt.Sprintf("< 10 ms  %s", check(in.P99msAt1000 < targetP99At1000)))
	row("1 ingest", "requests not answered 202", strconv.Itoa(in.Non202), "0")
	row("2 footprint", "peak RSS (VmHWM; incl. load generator)", fmt.Sprintf("%.1f MiB", r.RSSMiB),
		fmt.Sprintf("< 80 MiB  %s", check(r.RSSMiB < targetRSSMiB)))
	row("2 footprint", "binary size", fmt.Sprintf("%.1f MiB", r.BinaryMiB), "")
	tw.Flush()
	fmt.Fprintf(w, "\nrequests measured: coesync %d, bare %d, at %d/s %d (achieved %.0f/s). RSS scope: %s.\n",
		in.Requests, in.BareRequests, fixedRate, in.RateRequests, in.AchievedAt1000, r.RSSScope)
}
