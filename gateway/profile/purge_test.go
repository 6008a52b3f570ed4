package profile_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // reading the store's file as an outsider would

	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestPurgeLeavesNoPersonalData is the acceptance case of the prefill:
// after its TTL (injected clock) the purge job leaves nothing of what was
// pulled in the store, neither in clear (it never was: the prefill is
// sealed) nor sealed (the ciphertext itself is gone from the SQLite files,
// and from the PostgreSQL tables); GET answers gone; the journal stays.
func TestPurgeLeavesNoPersonalData(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			f := setupWith(t, options{driver: driver})
			ctx := context.Background()
			mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
			p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both()})
			body, err := f.svc.Get(ctx, f.a, p.ID)
			if err != nil || !strings.Contains(string(body), "987.65") || !strings.Contains(string(body), "LEFEVRE-QUINTAVAL") {
				t.Fatalf("the prefill before its TTL: %v %.200s", err, body)
			}

			sc := newScanner(t, f)
			sealed := sc.sealed(t, p.ID)
			// A piece of the ciphertext: finding it proves the scan sees
			// the prefill where it lies; not finding it after, that the
			// purge erased it.
			marker := sealed[len(sealed)/2-16 : len(sealed)/2+16]
			if found := sc.scan(t, marker); !slicesEqual(found, []string{"sealed prefill"}) {
				t.Fatalf("before the purge the scan finds %q, want only the sealed prefill (personal data in clear?)", found)
			}

			f.clock.Advance(15*time.Minute + time.Second)
			if _, err := f.svc.Get(ctx, f.a, p.ID); !errors.Is(err, profile.ErrExpired) {
				t.Fatalf("after the TTL, before the purge: %v", err)
			}
			_, worker := f.st.PeriodicPurgeJob(time.Minute, 24*time.Hour)
			if err := worker.Work(ctx, &river.Job[store.PurgeProfilesArgs]{JobRow: &rivertype.JobRow{}}); err != nil {
				t.Fatalf("purge job: %v", err)
			}
			if found := sc.scan(t, marker); len(found) > 0 {
				t.Fatalf("after the purge the store still holds %q", found)
			}
			if _, err := f.svc.Get(ctx, f.a, p.ID); !errors.Is(err, profile.ErrExpired) {
				t.Fatalf("after the purge: %v, want gone", err)
			}
			if pulls := entries(f.journal(t, f.a.TenantID), profile.OpPull); len(pulls) != 2 {
				t.Fatalf("the journal lost the lookup: %+v", pulls)
			}
			if n, err := f.st.VerifyJournal(ctx); err != nil {
				t.Fatalf("journal (%d checked): %v", n, err)
			}
		})
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// scanner reads the store from outside: the SQLite files, byte for byte,
// or every PostgreSQL table, row by row as text.
type scanner struct {
	driver, dsn string
}

func newScanner(tb testing.TB, f *fixture) *scanner {
	tb.Helper()
	return &scanner{driver: f.driver, dsn: f.dsn}
}

// sealed returns the prefill's sealed bytes as stored.
func (sc *scanner) sealed(tb testing.TB, id string) []byte {
	tb.Helper()
	ctx := context.Background()
	var data []byte
	switch sc.driver {
	case "sqlite":
		db, err := sql.Open("sqlite", "file:"+sc.dsn+"?mode=ro")
		if err != nil {
			tb.Fatal(err)
		}
		defer db.Close()
		err = db.QueryRowContext(ctx, `SELECT data FROM relais_profiles WHERE id = ?`, id).Scan(&data)
		if err != nil {
			tb.Fatalf("reading the sealed prefill: %v", err)
		}
	default:
		conn, err := pgx.Connect(ctx, sc.dsn)
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT data FROM relais_profiles WHERE id = $1`, id).Scan(&data); err != nil {
			tb.Fatalf("reading the sealed prefill: %v", err)
		}
	}
	if len(data) < 64 {
		tb.Fatalf("sealed prefill of %d bytes", len(data))
	}
	return data
}

// scan lists what it finds of the personal values and of marker.
func (sc *scanner) scan(tb testing.TB, marker []byte) []string {
	tb.Helper()
	var found []string
	look := func(where string, data []byte, hexed bool) {
		for _, v := range personalValues {
			if bytes.Contains(data, []byte(v)) {
				found = append(found, fmt.Sprintf("%q in %s", v, where))
			}
		}
		m := marker
		if hexed {
			m = []byte(hex.EncodeToString(marker))
		}
		if bytes.Contains(data, m) {
			found = append(found, "sealed prefill")
		}
	}
	switch sc.driver {
	case "sqlite":
		var all []byte
		for _, suffix := range []string{"", "-wal", "-journal"} {
			b, err := os.ReadFile(sc.dsn + suffix)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				tb.Fatal(err)
			}
			all = append(all, b...)
		}
		look("the SQLite files", all, false)
	default:
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, sc.dsn)
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			tb.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(tables) < 10 {
			tb.Fatalf("listing tables: %v %v", tables, err)
		}
		var all bytes.Buffer
		for _, table := range tables {
			rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			if err != nil {
				tb.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				tb.Fatal(err)
			}
			for _, s := range texts {
				all.WriteString(s)
				all.WriteByte('\n')
			}
		}
		look("the PostgreSQL tables", all.Bytes(), true)
	}
	return found
}
