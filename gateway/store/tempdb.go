package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/jackc/pgx/v5"
)

var tempPrefixPattern = regexp.MustCompile(`^[a-z_]{1,20}$`)

// CreateTempDatabase creates an empty database on the PostgreSQL server of
// baseDSN, for a test or a benchmark, and returns its DSN and a function
// that drops it.
func CreateTempDatabase(ctx context.Context, baseDSN, prefix string) (dsn string, drop func(context.Context) error, err error) {
	if !tempPrefixPattern.MatchString(prefix) {
		return "", nil, fmt.Errorf("temporary database prefix %q: want 1 to 20 of a-z and _", prefix)
	}
	u, err := url.Parse(baseDSN)
	if err != nil || u.Scheme == "" {
		return "", nil, errors.New("temporary database: the base DSN must be a postgres:// URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if err := adminExec(ctx, baseDSN, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("creating temporary database: %w", err)
	}
	u.Path = "/" + name
	drop = func(ctx context.Context) error {
		return adminExec(ctx, baseDSN, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

func adminExec(ctx context.Context, dsn, statement string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, statement)
	return err
}
