// Package store keeps coesync's durable state: webhook deliveries, the
// incident→COE mapping, and the job queue (River) in the same database, so
// that storing an event and enqueuing its job is one transaction.
//
// SQLite (pure Go, modernc.org/sqlite) is the embedded default; PostgreSQL
// serves several replicas. Both implement Store and pass one conformance
// suite (storetest).
package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// Job is a job to enqueue together with a delivery.
type Job struct {
	Args river.JobArgs
	Opts *river.InsertOpts
}

// Delivery is one webhook delivery as received.
type Delivery struct {
	Source string // "pagerduty", "github", "jira"
	ID     string // event id / delivery id: the deduplication key
	// ContentKey, when set, is a second deduplication key: a delivery of
	// the same source with a content key stored before is a duplicate
	// too. GitHub's is the SHA-256 of the signed body, so that a captured
	// body replayed under a fresh X-GitHub-Delivery (a header the
	// signature does not cover) is not acted on again.
	ContentKey string
	EventType  string
	ResourceID string // incident id, issue key, ...
	ReceivedAt time.Time
	Body       []byte
	// Jobs are stored with the delivery, only when it is new, and reach
	// the job queue through the dispatch job committed with them.
	Jobs []Job

	// pending is the stored, not yet dispatched form of Jobs (Dump/Load).
	pending []byte
}

// COEState is where a COE stands in the exactly-once protocol.
type COEState string

const (
	// COEIntent: a ticket is about to be (or may have been) created;
	// a retry must look for it in Jira before creating another.
	COEIntent COEState = "intent"
	// COECreated: the ticket exists and its key is stored.
	COECreated COEState = "created"
	// COESkipped: a routing rule said no COE.
	COESkipped COEState = "skipped"
)

// COE is the mapping from a PagerDuty incident to its Jira ticket.
type COE struct {
	IncidentID  string
	State       COEState
	Label       string // the Jira label that identifies the incident
	Rule        string
	Project     string
	TicketKey   string
	TicketID    string
	TicketURL   string
	Title       string
	ServiceID   string
	ServiceName string
	Teams       string // comma-separated team names
	IntentAt    time.Time
	CreatedAt   time.Time // when the ticket was created; zero before
	LinkedAt    time.Time // remote link to PagerDuty ensured
	NotedAt     time.Time // note with the COE link added to the incident
	// RollupComment is the id of the Jira comment holding the action-item
	// table, edited in place.
	RollupComment string
	// CompletedAt is when the last action item closed; zero while any is open.
	CompletedAt time.Time
	// Repo is the GitHub repository a routing rule chose for the action
	// items ("" when no rule chose one).
	Repo           string
	IncidentURL    string
	IncidentNumber int
	// TicketCategory is the Jira status category of the COE ticket as last
	// seen ("new" while it is a draft nobody picked up, "" if never seen).
	TicketCategory string
	// IncidentKey is the PagerDuty incident_key (de-duplication key).
	IncidentKey string
	// RecurrenceOf is the ticket key of an earlier COE of the same service
	// or incident key within the recurrence window ("" when none).
	RecurrenceOf string
}

// COEStep is a follow-up step after the ticket exists.
type COEStep string

const (
	StepLinked COEStep = "linked"
	StepNoted  COEStep = "noted"
)

// JobInfo describes a job for operators (coesync status).
type JobInfo struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	Args        string
	LastError   string
	CreatedAt   time.Time
	ScheduledAt time.Time
}

// Store is coesync's durable state.
type Store interface {
	// Ingest stores deliveries and enqueues the jobs of the new ones in a
	// single transaction (one fsync for the batch). dup[i] reports that
	// deliveries[i] had been stored before. Duplicates inside the batch
	// count as duplicates of the first.
	Ingest(ctx context.Context, deliveries []Delivery) (dup []bool, err error)
	// DispatchDeliveries moves the jobs of stored deliveries into the job
	// queue and returns how many deliveries it dispatched. Ingest leaves a
	// job that calls it; it is idempotent and safe to run concurrently.
	DispatchDeliveries(ctx context.Context) (int, error)
	// Enqueue inserts jobs outside of any delivery.
	Enqueue(ctx context.Context, jobs ...Job) error

	// COE returns the mapping for an incident, or ErrNotFound.
	COE(ctx context.Context, incidentID string) (COE, error)
	// BeginCOE records the intent to create a ticket unless a record
	// exists; it returns the record now stored and whether it was new.
	BeginCOE(ctx context.Context, c COE) (stored COE, created bool, err error)
	// SetCOETicket stores the ticket of a COE (state created).
	SetCOETicket(ctx context.Context, incidentID, key, id, url string, at time.Time) error
	// RenewCOEIntent moves the intent time of an unfinished COE to at,
	// just before another create is tried; a zero at records that no
	// create is in flight (Jira refused the last one).
	RenewCOEIntent(ctx context.Context, incidentID string, at time.Time) error
	// SkipCOE records that a rule skipped the incident.
	SkipCOE(ctx context.Context, c COE) error
	// MarkCOE records that a follow-up step is done.
	MarkCOE(ctx context.Context, incidentID string, step COEStep, at time.Time) error
	// SetCOECategory records the status category of a COE ticket.
	SetCOECategory(ctx context.Context, ticketKey, category string) error
	// DeliveryCounts counts stored webhook deliveries by source in [since, until).
	DeliveryCounts(ctx context.Context, since, until time.Time) (map[string]int, error)
	// ListCOEs returns COEs created in [since, until), newest first.
	ListCOEs(ctx context.Context, since, until time.Time) ([]COE, error)
	// EarlierCOEs returns up to q.Limit created COEs of incidents of
	// q.ServiceID or with q.IncidentKey that were triggered before the
	// incident q describes, newest first.
	EarlierCOEs(ctx context.Context, q EarlierQuery) ([]COE, error)

	ItemStore

	// Jobs lists jobs in the given states ("available", "retryable",
	// "running", "scheduled", "cancelled", "discarded", "completed").
	Jobs(ctx context.Context, states ...string) ([]JobInfo, error)
	// JobsOfKind is Jobs for one kind of job (at most 1,000, oldest first).
	JobsOfKind(ctx context.Context, kind string, states ...string) ([]JobInfo, error)
	// RetryJob makes a failed or waiting job run now.
	RetryJob(ctx context.Context, id int64) error
	// QueueStats counts unfinished and failed (discarded) jobs by kind and
	// state, for the queue gauges on /metrics.
	QueueStats(ctx context.Context) ([]QueueStat, error)

	// Start runs the job workers until Stop.
	Start(ctx context.Context) error
	// Stop stops fetching jobs and waits for running ones (until ctx ends,
	// after which they are cancelled and handed back to the queue).
	Stop(ctx context.Context) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Options configure the job queue of a store.
type Options struct {
	// Workers run jobs; nil makes an insert-only store (CLI commands).
	Workers *river.Workers
	// MaxWorkers bounds concurrent jobs.
	MaxWorkers int
	// ErrorHandler sees job errors and panics; may be nil.
	ErrorHandler river.ErrorHandler
	Logger       *slog.Logger
	// JobTimeout bounds one job run.
	JobTimeout time.Duration
	// PeriodicJobs are enqueued by the elected leader only: once per
	// period cluster-wide.
	PeriodicJobs []*river.PeriodicJob
	// FetchPollInterval is how often idle workers look for jobs; small in
	// tests and the demo.
	FetchPollInterval time.Duration
	// SkipMigrate opens without migrating (COESYNC_AUTO_MIGRATE=false):
	// the schema must already be at the latest version of both River and
	// coesync, or opening fails with ErrSchemaOutdated and the operator
	// runs `coesync migrate`. The zero value migrates on open.
	SkipMigrate bool
	// Retention is how long delivery bodies and failed (cancelled,
	// discarded) jobs are kept (COESYNC_RETENTION); zero means
	// DefaultRetention. Deduplication keys are kept KeyRetention.
	Retention time.Duration
}
