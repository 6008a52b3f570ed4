package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationsFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number", e.Name())
		}
		body, err := fs.ReadFile(migrationsFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS relais_schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`

func appliedVersions(ctx context.Context, q querier) (map[int]bool, error) {
	r, err := q.query(ctx, `SELECT version FROM relais_schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("listing applied migrations: %w", err)
	}
	defer r.Close()
	applied := map[int]bool{}
	for r.Next() {
		var v int
		if err := r.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading applied migration: %w", err)
		}
		applied[v] = true
	}
	return applied, r.Err()
}

// applyMigrations applies, each in its own transaction, the embedded
// migrations of dialect that are not applied yet.
func applyMigrations(ctx context.Context, b backend, dialect string) error {
	all, err := loadMigrations(dialect)
	if err != nil {
		return err
	}
	if _, err := b.exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("creating migrations table: %w", err)
	}
	applied, err := appliedVersions(ctx, b)
	if err != nil {
		return err
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		err := b.inTx(ctx, func(tx txn) error {
			if _, err := tx.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			_, err := tx.exec(ctx, `INSERT INTO relais_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func pendingOwnMigrations(ctx context.Context, b backend, dialect string) ([]string, error) {
	all, err := loadMigrations(dialect)
	if err != nil {
		return nil, err
	}
	// Read only: readiness probes call this, and must not write. A store
	// never migrated has no migrations table: everything is pending.
	applied, err := appliedVersions(ctx, b)
	if err != nil {
		applied = map[int]bool{}
	}
	var pending []string
	for _, m := range all {
		if !applied[m.version] {
			pending = append(pending, "relais migration "+m.name+" is not applied")
		}
	}
	return pending, nil
}
