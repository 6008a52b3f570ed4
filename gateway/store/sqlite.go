package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

type sqliteBackend struct {
	db     *sql.DB
	client *river.Client[*sql.Tx] // insert-only
}

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
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to sqlite database: %w", err)
	}
	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("creating river client: %w", err)
	}
	return &sqliteBackend{db: db, client: client}, nil
}

func (b *sqliteBackend) name() string { return "sqlite" }

func (b *sqliteBackend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }

func (b *sqliteBackend) close() { _ = b.db.Close() }

// sqliteQuery rewrites PostgreSQL placeholders $N to SQLite's ?N.
func sqliteQuery(q string) string { return strings.ReplaceAll(q, "$", "?") }

type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type sqliteQuerier struct{ q sqlQuerier }

func (s sqliteQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, sqliteQuery(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqliteQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, sqliteQuery(query), args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s sqliteQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	return sqlRow{s.q.QueryRowContext(ctx, sqliteQuery(query), args...)}
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
	return sqliteQuerier{b.db}.exec(ctx, query, args...)
}

func (b *sqliteBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	return sqliteQuerier{b.db}.query(ctx, query, args...)
}

func (b *sqliteBackend) queryRow(ctx context.Context, query string, args ...any) row {
	return sqliteQuerier{b.db}.queryRow(ctx, query, args...)
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

func (b *sqliteBackend) inTx(ctx context.Context, fn func(tx txn) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(sqliteTx{sqliteQuerier{tx}, tx, b.client}); err != nil {
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
