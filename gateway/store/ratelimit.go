package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Reserver returns the rate limiter shared through this store's database by
// every Relais process that uses it, for connectors.Deps.Reserver; nil with
// SQLite, whose one process keeps to the connectors' in-process buckets.
//
// It books send slots with the generic cell rate algorithm (GCRA) on the
// database's clock, so the processes' own clocks do not matter. Each key
// has a theoretical arrival time (TAT); a reservation is one INSERT ... ON
// CONFLICT DO UPDATE ... RETURNING that moves it, under the row's lock, to
//
//	tat = greatest(tat, now) + T                  (T = 1 / rate)
//
// and books the slot tat - B·T (B = burst), which the caller reaches at
// max(now, slot), after a wait of max(0, slot - now), now being read once.
// The slots of a key are at least T apart, so no second holds more than
// rate of them, whatever the number of processes; the times they are
// reached, a burst being spent at once, never more than rate + B - 1. There
// is no reject-and-retry loop. T is rounded up to the microsecond, so
// rounding never makes the rate higher.
//
// With a burst of 1, a platform that counts rate requests per second sees
// at most that, give or take the jitter between reaching a slot and the
// request arriving: a limit configured a little under the platform's
// absorbs it.
//
// When the context has a deadline and the key's next slot comes after it,
// nothing is booked, and the wait returned is longer than the time left: a
// caller that honours its deadline never sends on it, and a backlog of
// abandoned requests does not push every later slot away.
//
// Keys are stored as given, and must not be secrets: the connectors derive
// theirs from a hash of the credential (connectors.RateLimitKey).
func (s *Store) Reserver() connectors.Reserver {
	if s.b.name() != "postgres" {
		return nil
	}
	return &sharedLimiter{q: s.b}
}

// sharedLimiter is the PostgreSQL GCRA behind Store.Reserver.
type sharedLimiter struct{ q querier }

var _ connectors.Reserver = (*sharedLimiter)(nil)

// clockMicros is the database's clock in Unix microseconds, read when the
// expression is evaluated (clock_timestamp, not the transaction's now()).
const clockMicros = `(extract(epoch FROM clock_timestamp()) * 1000000)::bigint`

// reserveSQL books a slot: $1 the key, $2 T and $3 B·T in microseconds,
// $4 the longest wait the caller accepts (NULL: any). It returns the slot
// and the time it was booked, in Unix microseconds, or no row when the slot
// would come after the wait accepted (then nothing changed).
//
// The clock is read once, under the row's lock, for both the new TAT and
// the time booked, so that a slot given at once (an idle key) is reached
// when booked, and the next one T later, not T less the time between two
// readings of the clock.
const reserveSQL = `INSERT INTO relais_rate_limits AS r (key, tat, booked_at)
	SELECT $1, c.now + $2, c.now FROM (SELECT ` + clockMicros + ` AS now) c
ON CONFLICT (key) DO UPDATE
	SET (tat, booked_at) = (SELECT greatest(r.tat, c.now) + $2, c.now FROM (SELECT ` + clockMicros + ` AS now) c)
	WHERE $4::bigint IS NULL OR greatest(r.tat, ` + clockMicros + `) + $2 - $3 - ` + clockMicros + ` <= $4::bigint
RETURNING tat - $3, booked_at`

// nextSlotSQL reads when a key's next slot would be, without booking it:
// the slot and the clock in Unix microseconds.
const nextSlotSQL = `SELECT greatest(tat, ` + clockMicros + `) + $2 - $3, ` + clockMicros + ` FROM relais_rate_limits WHERE key = $1`

// Reserve implements connectors.Reserver; see Store.Reserver.
func (l *sharedLimiter) Reserve(ctx context.Context, key string, cfg connectors.RateLimitConfig) (time.Duration, error) {
	r, err := l.reserve(ctx, key, cfg)
	return r.wait, err
}

// reservation is the outcome of one Reserve.
type reservation struct {
	// slot is the time booked, on the database's clock; zero when nothing
	// was booked.
	slot time.Time
	// at is when the database booked it, on its clock: the slot is reached
	// at max(at, slot), at + wait.
	at   time.Time
	wait time.Duration
}

func (l *sharedLimiter) reserve(ctx context.Context, key string, cfg connectors.RateLimitConfig) (reservation, error) {
	if err := cfg.Validate(); err != nil {
		return reservation{}, fmt.Errorf("reserving a rate limit slot: %w", err)
	}
	interval := int64(math.Ceil(1e6 / cfg.RequestsPerSecond))
	interval = max(interval, 1)
	tolerance := interval * int64(cfg.Burst)
	var maxWait *int64
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		left := time.Until(deadline).Microseconds()
		maxWait = &left
	}
	var slot, now int64
	err := l.q.queryRow(ctx, reserveSQL, key, interval, tolerance, maxWait).Scan(&slot, &now)
	switch {
	case errors.Is(err, errNoRows) && hasDeadline:
		return l.tooLate(ctx, key, interval, tolerance, *maxWait)
	case err != nil:
		return reservation{}, fmt.Errorf("reserving a rate limit slot: %w", err)
	}
	return reservation{slot: fromMicros(slot), at: fromMicros(now), wait: time.Duration(max(slot-now, 0)) * time.Microsecond}, nil
}

// tooLate is the answer to a reservation whose slot would come after the
// caller's deadline, maxWait microseconds away when it was asked: nothing
// booked, and a wait longer than the time left.
func (l *sharedLimiter) tooLate(ctx context.Context, key string, interval, tolerance, maxWait int64) (reservation, error) {
	var slot, now int64
	if err := l.q.queryRow(ctx, nextSlotSQL, key, interval, tolerance).Scan(&slot, &now); err != nil && !errors.Is(err, errNoRows) {
		return reservation{}, fmt.Errorf("reading the next rate limit slot: %w", err)
	}
	return reservation{wait: time.Duration(max(slot-now, maxWait+1)) * time.Microsecond}, nil
}
