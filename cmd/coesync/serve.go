package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	setMemoryLimit(log, os.Getenv, os.ReadFile)
	if cfg.InsecureSkipVerify {
		log.Warn("COESYNC_INSECURE_SKIP_VERIFY=true: webhooks are accepted without a signature; never do this in production")
	}
	app, err := NewApp(ctx, cfg, log, appOptions{workers: true})
	if err != nil {
		return err
	}
	defer app.Close()
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("COESYNC_LISTEN_ADDR: listen on %s: %w", cfg.ListenAddr, err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminListenAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("COESYNC_ADMIN_LISTEN_ADDR: listen on %s: %w", cfg.AdminListenAddr, err)
	}
	return app.Serve(ctx, ln, adminLn)
}

func runPreview(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if fs.NArg() != 1 {
		return &exitError{2, errors.New("usage: coesync preview <incident-id>")}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	c, err := newClients(cfg, nil)
	if err != nil {
		return err
	}
	d, err := newDrafter(cfg, log, c)
	if err != nil {
		return err
	}
	if st, ok := previewStore(ctx, cfg, log, stderr); ok { // history.go
		defer st.Close()
		d.History.Store = st
	}
	draft, desc, err := d.BuildDraft(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	r := draft.Route
	if r.Skip {
		fmt.Fprintf(stdout, "Routing: skipped by rule %q (no COE would be created)\n\n", r.Rule)
	} else {
		fmt.Fprintf(stdout, "Routing: project %s, issue type %s, rule %q\n\n", r.Project, r.IssueType, r.Rule)
	}
	fmt.Fprintln(stdout, desc)
	return nil
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "also list running, available and completed jobs")
	output := fs.String("o", "table", "output format: table or json")
	exitCode := fs.Bool("exit-code", false, "exit 1 when a job failed for good (discarded or cancelled)")
	jobID := fs.Int64("job", 0, "show this job with its whole last error")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if *output != "table" && *output != "json" {
		return &exitError{2, fmt.Errorf("-o: want table or json, got %q", *output)}
	}
	st, err := openCLIStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	states := []string{"retryable", "cancelled", "discarded", "scheduled"}
	if *all || *jobID != 0 {
		states = nil
	}
	jobs, err := st.Jobs(ctx, states...)
	if err != nil {
		return err
	}
	if *jobID != 0 {
		return printJob(stdout, jobs, *jobID, *output)
	}
	items, err := st.ActionItems(ctx, "")
	if err != nil {
		return err
	}
	var size int64 = -1
	if sz, ok := st.(store.Sizer); ok {
		if n, err := sz.Size(ctx); err == nil {
			size = n
		}
	}
	var problems []store.ActionItem
	for _, it := range items {
		if it.Problem != "" {
			problems = append(problems, it)
		}
	}
	if *output == "json" {
		err = printStatusJSON(stdout, size, jobs, problems)
	} else {
		err = printStatusTable(stdout, size, jobs, problems)
	}
	if err != nil {
		return err
	}
	if *exitCode {
		for _, j := range jobs {
			if j.State == "discarded" || j.State == "cancelled" {
				return &exitError{1, errors.New("failed jobs")}
			}
		}
	}
	return nil
}

func printStatusTable(stdout io.Writer, size int64, jobs []store.JobInfo, problems []store.ActionItem) error {
	if size >= 0 {
		fmt.Fprintf(stdout, "store size: %.1f MiB\n\n", float64(size)/(1<<20))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(jobs) == 0 {
		fmt.Fprintln(tw, "no failed or waiting jobs")
	} else {
		fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPT\tNEXT RUN\tARGS\tLAST ERROR")
		for _, j := range jobs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts, nextRun(j), j.Args, oneLine(j.LastError, 160))
		}
	}
	// Sync problems are not job failures (retrying cannot fix them) but
	// an operator must see them: missing transitions, deleted mirrors.
	for i, it := range problems {
		if i == 0 {
			fmt.Fprintln(tw, "\nACTION ITEM\tCOE\tGITHUB\tPROBLEM")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.JiraKey, it.COEKey, mirrorRef(it), oneLine(it.Problem, 160))
	}
	return tw.Flush()
}

func nextRun(j store.JobInfo) string {
	if j.State == "retryable" || j.State == "scheduled" || j.State == "available" {
		return j.ScheduledAt.UTC().Format(time.RFC3339)
	}
	return "-"
}

func mirrorRef(it store.ActionItem) string {
	if it.Number == 0 {
		return "-"
	}
	return fmt.Sprintf("%s#%d", it.Repo, it.Number)
}

type statusJob struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"max_attempts"`
	CreatedAt   time.Time `json:"created_at"`
	ScheduledAt time.Time `json:"scheduled_at"`
	Args        string    `json:"args"`
	LastError   string    `json:"last_error,omitempty"`
}

func toStatusJob(j store.JobInfo) statusJob {
	return statusJob{ID: j.ID, Kind: j.Kind, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC(), Args: j.Args, LastError: j.LastError}
}

func printStatusJSON(stdout io.Writer, size int64, jobs []store.JobInfo, problems []store.ActionItem) error {
	type problem struct {
		ActionItem string `json:"action_item"`
		COE        string `json:"coe"`
		Mirror     string `json:"mirror,omitempty"`
		Problem    string `json:"problem"`
	}
	out := struct {
		StoreBytes *int64      `json:"store_bytes,omitempty"`
		Jobs       []statusJob `json:"jobs"`
		Problems   []problem   `json:"action_item_problems"`
	}{Jobs: []statusJob{}, Problems: []problem{}}
	if size >= 0 {
		out.StoreBytes = &size
	}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, toStatusJob(j))
	}
	for _, it := range problems {
		m := mirrorRef(it)
		if m == "-" {
			m = ""
		}
		out.Problems = append(out.Problems, problem{ActionItem: it.JiraKey, COE: it.COEKey, Mirror: m, Problem: it.Problem})
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printJob shows one job with its whole last error (the table cuts it).
func printJob(stdout io.Writer, jobs []store.JobInfo, id int64, output string) error {
	for _, j := range jobs {
		if j.ID != id {
			continue
		}
		if output == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(toStatusJob(j))
		}
		fmt.Fprintf(stdout, "job %d: %s, %s, attempt %d of %d\ncreated %s, next run %s\nargs: %s\nlast error:\n%s\n",
			j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts, j.CreatedAt.UTC().Format(time.RFC3339), nextRun(j), j.Args, j.LastError)
		return nil
	}
	return &exitError{1, fmt.Errorf("no job %d", id)}
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	failed := fs.Bool("failed", false, "retry every failed (cancelled or discarded) job")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if *failed == (fs.NArg() == 1) {
		return &exitError{2, errors.New("usage: coesync replay <job-id> | --failed")}
	}
	st, err := openCLIStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var ids []int64
	if *failed {
		jobs, err := st.Jobs(ctx, "cancelled", "discarded")
		if err != nil {
			return err
		}
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
	} else {
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return &exitError{2, fmt.Errorf("job id %q is not a number", fs.Arg(0))}
		}
		ids = []int64{id}
	}
	for _, id := range ids {
		if err := st.RetryJob(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "job %d queued to run again\n", id)
	}
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "no failed jobs")
	}
	return nil
}

func oneLine(s string, max int) string {
	b := []rune(s)
	for i, r := range b {
		if r == '\n' || r == '\t' {
			b[i] = ' '
		}
	}
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

func storeOptionsCLI(cfg config.Config, stderr io.Writer) store.Options {
	return store.Options{Logger: newLogger(cfg, stderr)}
}

// openCLIStore opens the configured store insert-only, for commands that
// read it or queue jobs next to a running `coesync serve`.
func openCLIStore(ctx context.Context, stderr io.Writer) (store.Store, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg, storeOptionsCLI(cfg, stderr))
}

func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	st, err := openCLIStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	// Unique while queued: a pass already waiting absorbs this one.
	if err := st.Enqueue(ctx, store.Job{Args: engine.ReconcileArgs{}}); err != nil {
		return fmt.Errorf("queue reconcile: %w", err)
	}
	fmt.Fprintln(stdout, "reconcile queued; a running coesync serve picks it up")
	return nil
}
