package store

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

// backend is the seam between the dialect-free Store and one database. Each
// backend owns its connection pool and its River clients, whose generic
// transaction type differs (*sql.Tx for SQLite, pgx.Tx for PostgreSQL).
type backend interface {
	querier
	// inTx runs fn in one transaction, committed when fn returns nil.
	inTx(ctx context.Context, fn func(tx txn) error) error
	// migrate applies River's migrations then ours, embedded in migrations/.
	migrate(ctx context.Context, logger *slog.Logger) error
	// pendingMigrations describes what is not applied yet, nil when all is.
	pendingMigrations(ctx context.Context) ([]string, error)
	// startWorkers starts a River client that works jobs.
	startWorkers(ctx context.Context, cfg *river.Config) (stop func(context.Context) error, err error)
	ping(ctx context.Context) error
	close()
	name() string
}

// txn is a transaction that can also enqueue River jobs.
type txn interface {
	querier
	insertJobs(ctx context.Context, params []river.InsertManyParams) ([]int64, error)
	// pipeline runs query once per argument list, in one round trip where
	// the database allows, and returns the rows affected by each.
	pipeline(ctx context.Context, query string, args [][]any) ([]int64, error)
}

// querier runs SQL written with PostgreSQL's $N placeholders; the SQLite
// backend rewrites them to SQLite's equivalent ?N.
type querier interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	query(ctx context.Context, query string, args ...any) (rows, error)
	queryRow(ctx context.Context, query string, args ...any) row
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface {
	Scan(dest ...any) error
}

// errNoRows is what row.Scan returns when the query matched nothing, in
// every backend.
var errNoRows = errors.New("store: no rows")

// QueueConfig sets up the River client that works delivery jobs.
type QueueConfig struct {
	// Workers holds the job workers; required.
	Workers *river.Workers
	// MaxWorkers is the number of jobs worked at once. Default 50.
	MaxWorkers int
	// JobTimeout bounds one job. Default 1m.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when a job still running (its process died) is
	// worked again. Must exceed JobTimeout. Default JobTimeout + 30s.
	RescueStuckJobsAfter time.Duration
	// FetchCooldown and FetchPollInterval tune how often idle workers look
	// for jobs. Defaults 20ms and 200ms.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// PeriodicJobs run on the elected leader only.
	PeriodicJobs []*river.PeriodicJob
	// Logger receives River's own logs.
	Logger *slog.Logger
}

func (c QueueConfig) riverConfig() *river.Config {
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 50
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = time.Minute
	}
	if c.RescueStuckJobsAfter <= c.JobTimeout {
		c.RescueStuckJobsAfter = c.JobTimeout + 30*time.Second
	}
	if c.FetchCooldown <= 0 {
		c.FetchCooldown = 20 * time.Millisecond
	}
	if c.FetchPollInterval <= c.FetchCooldown {
		c.FetchPollInterval = max(200*time.Millisecond, c.FetchCooldown)
	}
	return &river.Config{
		Workers:              c.Workers,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: c.MaxWorkers}},
		JobTimeout:           c.JobTimeout,
		RescueStuckJobsAfter: c.RescueStuckJobsAfter,
		FetchCooldown:        c.FetchCooldown,
		FetchPollInterval:    c.FetchPollInterval,
		PeriodicJobs:         c.PeriodicJobs,
		Logger:               c.Logger,
		// Delivery attempts are counted by the delivery worker itself;
		// River's count only grows through crash rescues.
		MaxAttempts: 1000,
	}
}

// insertRows inserts rows into table, in one round trip where the
// database allows.
func insertRows(ctx context.Context, tx txn, table string, columns []string, rows [][]any) error {
	_, err := tx.pipeline(ctx, insertSQL(table, columns, ""), rows)
	return err
}

// insertIgnoringConflicts inserts rows whose first column is an id, skips
// those that violate the unique constraint on conflictColumns, and returns
// the ids inserted.
func insertIgnoringConflicts(ctx context.Context, tx txn, table string, columns []string, conflictColumns string, rows [][]any) (map[string]bool, error) {
	affected, err := tx.pipeline(ctx, insertSQL(table, columns, " ON CONFLICT ("+conflictColumns+") DO NOTHING"), rows)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(rows))
	for i, n := range affected {
		if n == 1 {
			ids[rows[i][0].(string)] = true
		}
	}
	return ids, nil
}

// insertSQL is a one-row INSERT of columns into table, with a suffix such as
// an ON CONFLICT clause.
func insertSQL(table string, columns []string, suffix string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(columns, ", "))
	b.WriteString(") VALUES (")
	for i := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1))
	}
	b.WriteString(")")
	b.WriteString(suffix)
	return b.String()
}
