package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
)

type sqliteBackend struct {
	// db is the single writer connection, shared with River.
	db *sql.DB
	// readers serve reads outside transactions: in WAL mode they run
	// alongside the writer instead of queueing behind it.
	readers *sql.DB
	client  *river.Client[*sql.Tx] // insert-only
	queries queryCache
	// checkpointer moves the WAL into the database in the background, so
	// that no commit pays for a checkpoint.
	stopCheckpointer context.CancelFunc
	checkpointerDone chan struct{}
}

// sqliteCheckpointInterval is how often the background checkpoint runs.
const sqliteCheckpointInterval = 500 * time.Millisecond

// sqliteReaders is the size of the read pool.
const sqliteReaders = 4

// openSQLite opens (creating it if needed) the SQLite database at path, in
// WAL mode. SQLite allows one writer at a time, so the pool holds a single
// connection, as River's SQLite driver recommends.
func openSQLite(ctx context.Context, path string) (*sqliteBackend, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	q := url.Values{}
	// Automatic checkpoints would stall whichever commit crosses the
	// threshold; the backend's checkpointer does them instead.
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	db := sql.OpenDB(dsnConnector{dsn: dsn})
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to sqlite database: %w", err)
	}
	readers := sql.OpenDB(dsnConnector{dsn: dsn + "&" + url.Values{"_pragma": {"query_only(1)"}}.Encode()})
	readers.SetMaxOpenConns(sqliteReaders)
	readers.SetMaxIdleConns(sqliteReaders)
	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		_ = db.Close()
		_ = readers.Close()
		return nil, fmt.Errorf("creating river client: %w", err)
	}
	b := &sqliteBackend{db: db, readers: readers, client: client, checkpointerDone: make(chan struct{})}
	var cctx context.Context
	cctx, b.stopCheckpointer = context.WithCancel(context.WithoutCancel(ctx))
	go b.checkpoint(cctx, dsn)
	return b, nil
}

// checkpoint runs PASSIVE checkpoints on a connection of its own until ctx
// ends. A PASSIVE checkpoint never blocks the writer nor the readers.
func (b *sqliteBackend) checkpoint(ctx context.Context, dsn string) {
	defer close(b.checkpointerDone)
	conn, err := stmtCacheDriver{base: &sqlite.Driver{}}.Open(dsn)
	if err != nil {
		return
	}
	defer conn.Close()
	cc := conn.(*cachedConn)
	tick := time.NewTicker(sqliteCheckpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_, _ = cc.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)", nil)
		}
	}
}

// dsnConnector opens connections of the statement-caching SQLite driver.
type dsnConnector struct{ dsn string }

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) {
	return stmtCacheDriver{base: &sqlite.Driver{}}.Open(c.dsn)
}

func (c dsnConnector) Driver() driver.Driver { return stmtCacheDriver{base: &sqlite.Driver{}} }

func (b *sqliteBackend) name() string { return "sqlite" }

func (b *sqliteBackend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }

func (b *sqliteBackend) close() {
	b.stopCheckpointer()
	<-b.checkpointerDone
	_ = b.readers.Close()
	_ = b.db.Close()
}

// queryCache remembers rewritten queries: the store's queries are a fixed
// set, and the rewrite would otherwise run on every call.
type queryCache struct{ m sync.Map } // string → string

// rewrite turns PostgreSQL placeholders $N into SQLite's ?N.
func (c *queryCache) rewrite(q string) string {
	if r, ok := c.m.Load(q); ok {
		return r.(string)
	}
	r := strings.ReplaceAll(q, "$", "?")
	c.m.Store(q, r)
	return r
}

type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type sqliteQuerier struct {
	q     sqlQuerier
	cache *queryCache
}

func (s sqliteQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, s.cache.rewrite(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqliteQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, s.cache.rewrite(query), args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s sqliteQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	return sqlRow{s.q.QueryRowContext(ctx, s.cache.rewrite(query), args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	} else if err != nil {
		return err
	}
	return nil
}

func (b *sqliteBackend) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return sqliteQuerier{b.db, &b.queries}.exec(ctx, query, args...)
}

func (b *sqliteBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	return sqliteQuerier{b.readers, &b.queries}.query(ctx, query, args...)
}

func (b *sqliteBackend) queryRow(ctx context.Context, query string, args ...any) row {
	return sqliteQuerier{b.readers, &b.queries}.queryRow(ctx, query, args...)
}

type sqliteTx struct {
	sqliteQuerier
	tx     *sql.Tx
	client *river.Client[*sql.Tx]
}

func (t sqliteTx) insertJobs(ctx context.Context, params []river.InsertManyParams) ([]int64, error) {
	res, err := t.client.InsertManyTx(ctx, t.tx, params)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// pipeline runs the statements one by one: SQLite runs in process, so
// there is no round trip to save, and the statement cache prepares each
// query once.
func (t sqliteTx) pipeline(ctx context.Context, query string, args [][]any) ([]int64, error) {
	affected := make([]int64, len(args))
	for i, a := range args {
		n, err := t.exec(ctx, query, a...)
		if err != nil {
			return nil, err
		}
		affected[i] = n
	}
	return affected, nil
}

func (b *sqliteBackend) inTx(ctx context.Context, fn func(tx txn) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(sqliteTx{sqliteQuerier{tx, &b.queries}, tx, b.client}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

func (b *sqliteBackend) migrate(ctx context.Context, logger *slog.Logger) error {
	migrator, err := rivermigrate.New(riversqlite.New(b.db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("creating river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("applying river migrations: %w", err)
	}
	return applyMigrations(ctx, b, "sqlite")
}

func (b *sqliteBackend) pendingMigrations(ctx context.Context) ([]string, error) {
	migrator, err := rivermigrate.New(riversqlite.New(b.db), nil)
	if err != nil {
		return nil, fmt.Errorf("creating river migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("validating river migrations: %w", err)
	}
	pending, err := pendingOwnMigrations(ctx, b, "sqlite")
	return append(res.Messages, pending...), err
}

func (b *sqliteBackend) startWorkers(ctx context.Context, cfg *river.Config) (func(context.Context) error, error) {
	client, err := river.NewClient(riversqlite.New(b.db), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating river worker client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting river workers: %w", err)
	}
	return client.Stop, nil
}
