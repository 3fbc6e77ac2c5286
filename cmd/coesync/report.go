package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
	_ "time/tzdata" // report time zones work in a static image without zoneinfo

	"github.com/coesync/coesync/sync/report"
)

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	week := fs.String("week", "", "ISO week, e.g. 2026-W47 (default: the last full week)")
	since := fs.String("since", "", "start date (YYYY-MM-DD or RFC 3339)")
	until := fs.String("until", "", "end date, exclusive (default: now)")
	format := fs.String("format", "markdown", "markdown, html or json")
	fs.StringVar(format, "o", "markdown", "the same as -format")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if *format != "markdown" && *format != "html" && *format != "json" {
		return &exitError{2, fmt.Errorf("-format: want markdown, html or json, got %q", *format)}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	p, err := report.ParsePeriod(*week, *since, *until, time.Now(), cfg.ReportLocation())
	if err != nil {
		return &exitError{2, err}
	}
	st, err := openStore(ctx, cfg, storeOptionsCLI(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := newClients(cfg, nil)
	if err != nil {
		return err
	}
	rp, err := newReporter(cfg, c, newLogger(cfg, stderr), nil)
	if err != nil {
		return err
	}
	rp.Store = st
	rep, err := rp.Build(ctx, p)
	if err != nil {
		return err
	}
	return writeReport(stdout, rep, *format)
}

func writeReport(w io.Writer, rep report.Report, format string) error {
	switch format {
	case "markdown":
		_, err := io.WriteString(w, rep.Markdown())
		return err
	case "html":
		return rep.HTML(w)
	case "json":
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	return errors.New("unknown format " + format)
}
