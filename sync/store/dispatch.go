package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

type (
	pgxTx = pgx.Tx
	sqlTx = *sql.Tx
)

// Jobs of a delivery do not go into River's job table on the webhook's hot
// path. Ingest stores them in the delivery row itself (column jobs) and, in
// the batch's transaction, makes sure a dispatch_deliveries job will read
// them: it adds one (PostgreSQL: always; SQLite: unless one not yet started
// is waiting, see SQLite.ingestTx). That job moves the pending rows' jobs
// into River. Measured with `coesync bench --only ingest --cpuprofile`:
// River's SQLite insert of one job per delivery took 58% of the single
// writer's time, which capped ingest at about 0.13 of bare net/http.
// Durability is unchanged: a row with pending jobs and the job that will
// dispatch it are committed (and fsync'd) together, and dispatching is
// idempotent (it clears what it moved in the transaction that inserts it).
// A periodic dispatch (every minute) is the safety net.

// DispatchArgs is the job that moves pending delivery jobs into the queue.
// It carries nothing: every run dispatches whatever is pending, so a run
// that finds its batch already moved by an earlier run is a cheap no-op.
type DispatchArgs struct{}

// Kind implements river.JobArgs.
func (DispatchArgs) Kind() string { return "dispatch_deliveries" }

// dispatchQueue is the River queue of dispatch jobs.
const dispatchQueue = "dispatch"

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DispatchArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: dispatchQueue} }

// dispatchBatch bounds the rows one dispatch transaction moves.
const dispatchBatch = 256

// pendingJob is a job as kept in deliveries.jobs until it is dispatched.
type pendingJob struct {
	Kind string            `json:"kind"`
	Args json.RawMessage   `json:"args"`
	Opts *river.InsertOpts `json:"opts,omitempty"`
}

// jobTypes maps a job kind to its args type, so that a dispatched job is
// inserted with its own type: River reads unique-key struct tags and
// InsertOpts from the type, not from the JSON.
var jobTypes sync.Map // kind → reflect.Type

// RegisterJobArgs makes kinds of delivery jobs known to every store of this
// process. Ingest registers the types it sees; a process that dispatches
// jobs another process ingested (serve after `coesync replay`, a replica)
// needs them registered up front, which the engine does in its init.
func RegisterJobArgs(args ...river.JobArgs) {
	for _, a := range args {
		jobTypes.Store(a.Kind(), reflect.TypeOf(a))
	}
}

// encodeJobs is the value of deliveries.jobs for jobs (nil for none).
func encodeJobs(jobs []Job) ([]byte, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	pj := make([]pendingJob, len(jobs))
	for i, j := range jobs {
		args, err := json.Marshal(j.Args)
		if err != nil {
			return nil, fmt.Errorf("%w: encode %s job: %w", ErrUnstorable, j.Args.Kind(), err)
		}
		if _, ok := jobTypes.Load(j.Args.Kind()); !ok {
			RegisterJobArgs(j.Args)
		}
		pj[i] = pendingJob{Kind: j.Args.Kind(), Args: args, Opts: j.Opts}
	}
	return json.Marshal(pj)
}

// decodeJobs turns deliveries.jobs back into insert parameters.
func decodeJobs(raw []byte) ([]river.InsertManyParams, error) {
	var pj []pendingJob
	if err := json.Unmarshal(raw, &pj); err != nil {
		return nil, err
	}
	params := make([]river.InsertManyParams, 0, len(pj))
	for _, p := range pj {
		t, ok := jobTypes.Load(p.Kind)
		if !ok {
			return nil, fmt.Errorf("unknown job kind %q (not registered in this version of coesync)", p.Kind)
		}
		typ := t.(reflect.Type)
		v := reflect.New(typ)
		if err := json.Unmarshal(p.Args, v.Interface()); err != nil {
			return nil, fmt.Errorf("decode %s job: %w", p.Kind, err)
		}
		args, ok := v.Elem().Interface().(river.JobArgs)
		if !ok {
			return nil, fmt.Errorf("decode %s job: %s is not a job", p.Kind, typ)
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: p.Opts})
	}
	return params, nil
}

// dispatchSet collects the jobs of pending rows for one insert. River
// refuses a batch that repeats a unique job (SQLite) or cannot insert it
// (PostgreSQL's ON CONFLICT may not touch a row twice), and two deliveries
// of one incident in one batch are common in a storm; so identical jobs are
// inserted once: the queue would have kept only one of them anyway.
type dispatchSet struct {
	params []river.InsertManyParams
	seen   map[string]bool
	bad    []string
}

// add takes the jobs of a pending row; false means they cannot be read and
// the row stays pending (see err).
func (d *dispatchSet) add(source, id string, raw []byte) bool {
	params, err := decodeJobs(raw)
	if err != nil {
		d.bad = append(d.bad, fmt.Sprintf("%s/%s: %v", source, id, err))
		return false
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	for _, p := range params {
		args, _ := json.Marshal(p.Args)
		opts, _ := json.Marshal(p.InsertOpts)
		k := p.Args.Kind() + "\x00" + string(args) + "\x00" + string(opts)
		if d.seen[k] {
			continue
		}
		d.seen[k] = true
		d.params = append(d.params, p)
	}
	return true
}

// dispatchPasses runs pass, one transaction moving up to dispatchBatch
// pending rows into set and the queue, until a pass reads fewer rows or
// finds rows it cannot dispatch (they would come first again).
func dispatchPasses(pass func(set *dispatchSet) (rows, moved int, err error)) (int, error) {
	total := 0
	for {
		var set dispatchSet
		rows, moved, err := pass(&set)
		if err != nil {
			return total, fmt.Errorf("store: dispatch delivery jobs: %w", err)
		}
		total += moved
		if rows < dispatchBatch || len(set.bad) > 0 {
			return total, set.err()
		}
	}
}

// err reports rows that could not be dispatched (left pending).
func (d *dispatchSet) err() error {
	if len(d.bad) == 0 {
		return nil
	}
	return fmt.Errorf("store: %d deliveries kept pending: %s", len(d.bad), strings.Join(d.bad, "; "))
}

// dispatchers maps a River client to the dispatch of the store that owns it:
// the worker is registered once in the caller's river.Workers, which several
// stores (replicas in one test process) may share.
var dispatchers sync.Map // *river.Client[TTx] → func(context.Context) (int, error)

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
}

func (dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	var client any
	if c, err := river.ClientFromContextSafely[pgxTx](ctx); err == nil {
		client = c
	} else if c, err := river.ClientFromContextSafely[sqlTx](ctx); err == nil {
		client = c
	}
	f, ok := dispatchers.Load(client)
	if !ok {
		return errors.New("store: dispatch: no store for this job's client")
	}
	_, err := f.(func(context.Context) (int, error))(ctx)
	return err
}

// registerDispatch adds the dispatch worker to ws (once) before a client is
// made from it.
func registerDispatch(ws *river.Workers) error {
	if ws == nil {
		return nil
	}
	err := river.AddWorkerSafely(ws, dispatchWorker{})
	if err != nil && !strings.Contains(err.Error(), "already registered") {
		return fmt.Errorf("store: register dispatch worker: %w", err)
	}
	return nil
}
