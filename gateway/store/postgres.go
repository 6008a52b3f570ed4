package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type postgresBackend struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx] // insert-only
}

// migrationLockID is the advisory lock that serialises migrations run by
// several replicas at once.
const migrationLockID = 0x72656c616973 // "relais"

func openPostgres(ctx context.Context, dsn string, maxConns int32) (*postgresBackend, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx errors may echo the DSN, password included: say less.
		return nil, errors.New("parsing postgres DSN: malformed connection string")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating postgres pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("creating river client: %w", err)
	}
	return &postgresBackend{pool: pool, client: client}, nil
}

func (b *postgresBackend) name() string { return "postgres" }

func (b *postgresBackend) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *postgresBackend) close() { b.pool.Close() }

type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgQuerier struct{ q pgxQuerier }

func (p pgQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p pgQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (p pgQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	return pgRow{p.q.QueryRow(ctx, query, args...)}
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	} else if err != nil {
		return err
	}
	return nil
}

func (b *postgresBackend) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return pgQuerier{b.pool}.exec(ctx, query, args...)
}

func (b *postgresBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	return pgQuerier{b.pool}.query(ctx, query, args...)
}

func (b *postgresBackend) queryRow(ctx context.Context, query string, args ...any) row {
	return pgQuerier{b.pool}.queryRow(ctx, query, args...)
}

type pgTx struct {
	pgQuerier
	tx     pgx.Tx
	client *river.Client[pgx.Tx]
}

func (t pgTx) insertJobs(ctx context.Context, params []river.InsertManyParams) ([]int64, error) {
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

// pipeline sends the statements as one pgx batch: one round trip.
func (t pgTx) pipeline(ctx context.Context, query string, rows [][]any) ([]int64, error) {
	batch := &pgx.Batch{}
	for _, r := range rows {
		batch.Queue(query, r...)
	}
	results := t.tx.SendBatch(ctx, batch)
	affected := make([]int64, len(rows))
	for i := range rows {
		tag, err := results.Exec()
		if err != nil {
			_ = results.Close()
			return nil, err
		}
		affected[i] = tag.RowsAffected()
	}
	return affected, results.Close()
}

func (b *postgresBackend) inTx(ctx context.Context, fn func(tx txn) error) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		return fn(pgTx{pgQuerier{tx}, tx, b.client})
	})
}

func (b *postgresBackend) migrate(ctx context.Context, logger *slog.Logger) error {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring connection for migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("taking migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID) }()

	migrator, err := rivermigrate.New(riverpgxv5.New(b.pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("creating river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("applying river migrations: %w", err)
	}
	return applyMigrations(ctx, b, "postgres")
}

func (b *postgresBackend) pendingMigrations(ctx context.Context) ([]string, error) {
	migrator, err := rivermigrate.New(riverpgxv5.New(b.pool), nil)
	if err != nil {
		return nil, fmt.Errorf("creating river migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("validating river migrations: %w", err)
	}
	pending, err := pendingOwnMigrations(ctx, b, "postgres")
	return append(res.Messages, pending...), err
}

func (b *postgresBackend) startWorkers(ctx context.Context, cfg *river.Config) (func(context.Context) error, error) {
	client, err := river.NewClient(riverpgxv5.New(b.pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating river worker client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting river workers: %w", err)
	}
	return client.Stop, nil
}
