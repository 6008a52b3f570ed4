package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-dev/relais/gateway/vault"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrNotFound: no such row for this tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrIdempotencyConflict: the idempotency key was used with another body.
	ErrIdempotencyConflict = errors.New("store: idempotency key reused with a different request")
	// ErrNotReplayable: only failed or dead deliveries can be replayed.
	ErrNotReplayable = errors.New("store: delivery is not failed or dead")
	// ErrStaleJob: the job is no longer the one the delivery waits for.
	ErrStaleJob = errors.New("store: job is not the delivery's current job")
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	StatusQueued    DeliveryStatus = "queued"
	StatusInFlight  DeliveryStatus = "in_flight"
	StatusRetrying  DeliveryStatus = "retrying"
	StatusDelivered DeliveryStatus = "delivered"
	StatusFailed    DeliveryStatus = "failed"
	StatusDead      DeliveryStatus = "dead"
)

// Terminal reports whether no more attempt will be made without a replay.
func (s DeliveryStatus) Terminal() bool {
	return s == StatusDelivered || s == StatusFailed || s == StatusDead
}

// DeliverArgs is the River job that makes one delivery attempt.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "relais.deliver" }

// ChunkSize is the size of the sealed chunks document content is stored in,
// so it can be streamed out without being held whole.
const ChunkSize = 256 << 10

// Options configure Open.
type Options struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// DSN is the SQLite file path or the PostgreSQL connection string.
	DSN string
	// MaxConns bounds the PostgreSQL pool. Default: pgx's default.
	MaxConns int32
	// Keyring seals payloads, content and error bodies. Required.
	Keyring *vault.Keyring
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives migration logs. Default: discarded.
	Logger *slog.Logger
}

// Store is the gateway's persistence.
type Store struct {
	b           backend
	submissions *groupCommit[*pendingSubmission]
	attempts    *groupCommit[*Attempt]
	profiles    *groupCommit[*pendingProfile]
	keys        *vault.Keyring
	now         func() time.Time
	logger      *slog.Logger
}

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Keyring == nil {
		return nil, errors.New("store: a keyring is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		b   backend
		err error
	)
	switch opts.Driver {
	case "sqlite":
		b, err = openSQLite(ctx, opts.DSN)
	case "postgres":
		b, err = openPostgres(ctx, opts.DSN, opts.MaxConns)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want sqlite or postgres)", opts.Driver)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{b: b, keys: opts.Keyring, now: opts.Now, logger: opts.Logger}
	s.submissions = newGroupCommit(b, (*pendingSubmission).size, s.insertSubmissions)
	s.attempts = newGroupCommit(b, (*Attempt).size, s.writeAttempts)
	s.profiles = newGroupCommit(b, (*pendingProfile).size, s.insertProfiles)
	return s, nil
}

// Close stops accepting submissions, lets the batch in progress commit, and
// releases the connections.
func (s *Store) Close() {
	s.submissions.close()
	s.attempts.close()
	s.profiles.close()
	s.b.close()
}

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.b.name() }

// Migrate applies every pending migration, River's first.
func (s *Store) Migrate(ctx context.Context) error { return s.b.migrate(ctx, s.logger) }

// Ready reports nil when the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.b.ping(ctx); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	pending, err := s.b.pendingMigrations(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("migrations pending: %s", strings.Join(pending, "; "))
	}
	return nil
}

// StartWorkers starts working delivery jobs. The returned function stops
// them, waiting for jobs in progress.
func (s *Store) StartWorkers(ctx context.Context, cfg QueueConfig) (stop func(context.Context) error, err error) {
	if cfg.Workers == nil {
		return nil, errors.New("store: QueueConfig.Workers is required")
	}
	return s.b.startWorkers(ctx, cfg.riverConfig())
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix_ followed by 80 random bits.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ---- Tenants and API keys ----------------------------------------------

// Tenant is one customer of the gateway: an ESMS or a software vendor.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a tenant's credential; its secret is only ever stored hashed.
type APIKey struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// EnsureTenant returns the tenant named name, creating it if needed.
func (s *Store) EnsureTenant(ctx context.Context, name string) (Tenant, error) {
	t := Tenant{ID: newID("ten"), Name: name, CreatedAt: s.now().UTC()}
	if _, err := s.b.exec(ctx, `INSERT INTO relais_tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		t.ID, t.Name, micros(t.CreatedAt)); err != nil {
		return Tenant{}, fmt.Errorf("inserting tenant: %w", err)
	}
	var created int64
	if err := s.b.queryRow(ctx, `SELECT id, created_at FROM relais_tenants WHERE name = $1`, name).Scan(&t.ID, &created); err != nil {
		return Tenant{}, fmt.Errorf("reading tenant: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// TenantByName returns the tenant named name.
func (s *Store) TenantByName(ctx context.Context, name string) (Tenant, error) {
	t := Tenant{Name: name}
	var created int64
	err := s.b.queryRow(ctx, `SELECT id, created_at FROM relais_tenants WHERE name = $1`, name).Scan(&t.ID, &created)
	if errors.Is(err, errNoRows) {
		return Tenant{}, ErrNotFound
	} else if err != nil {
		return Tenant{}, fmt.Errorf("reading tenant: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// APIKeyPrefix starts every generated API key, so that secret scanners and
// people recognise one.
const APIKeyPrefix = "rls_"

// GenerateAPIKeySecret returns a fresh random API key.
func GenerateAPIKeySecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIKey stores a new key for tenantID. When secret is empty one is
// generated. The secret is returned once and stored only as a SHA-256 hash,
// which is enough for a high-entropy random key.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID, name, secret string) (APIKey, string, error) {
	if secret == "" {
		secret = GenerateAPIKeySecret()
	}
	if len(secret) < 16 {
		return APIKey{}, "", errors.New("store: an API key must be at least 16 characters")
	}
	k := APIKey{ID: newID("key"), TenantID: tenantID, Name: name, CreatedAt: s.now().UTC()}
	if _, err := s.b.exec(ctx, `INSERT INTO relais_api_keys (id, tenant_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.TenantID, k.Name, hashSecret(secret), micros(k.CreatedAt)); err != nil {
		return APIKey{}, "", fmt.Errorf("inserting api key: %w", err)
	}
	return k, secret, nil
}

// EnsureAPIKey stores secret for tenantID unless that exact secret is
// already stored, and returns its key. The sandbox uses it for a key given
// by the environment.
func (s *Store) EnsureAPIKey(ctx context.Context, tenantID, name, secret string) (APIKey, error) {
	k, err := s.Authenticate(ctx, secret)
	if err == nil {
		if k.TenantID != tenantID {
			return APIKey{}, errors.New("store: that API key belongs to another tenant")
		}
		return k, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return APIKey{}, err
	}
	k, _, err = s.CreateAPIKey(ctx, tenantID, name, secret)
	return k, err
}

func scanAPIKey(r row) (APIKey, error) {
	var (
		k       APIKey
		created int64
		revoked *int64
	)
	if err := r.Scan(&k.ID, &k.TenantID, &k.Name, &created, &revoked); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	if revoked != nil {
		t := fromMicros(*revoked)
		k.RevokedAt = &t
	}
	return k, nil
}

const apiKeyColumns = `id, tenant_id, name, created_at, revoked_at`

// Authenticate returns the live key whose secret is secret, or ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, secret string) (APIKey, error) {
	k, err := scanAPIKey(s.b.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM relais_api_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, hashSecret(secret)))
	if errors.Is(err, errNoRows) {
		return APIKey{}, ErrNotFound
	} else if err != nil {
		return APIKey{}, fmt.Errorf("reading api key: %w", err)
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys, revoked ones included, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error) {
	r, err := s.b.query(ctx, `SELECT `+apiKeyColumns+` FROM relais_api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("listing api keys: %w", err)
	}
	defer r.Close()
	var keys []APIKey
	for r.Next() {
		k, err := scanAPIKey(r)
		if err != nil {
			return nil, fmt.Errorf("reading api key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, r.Err()
}

// RevokeAPIKey revokes a tenant's key. Revoking twice is not an error.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID string) error {
	n, err := s.b.exec(ctx, `UPDATE relais_api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND tenant_id = $3`,
		micros(s.now()), keyID, tenantID)
	if err != nil {
		return fmt.Errorf("revoking api key: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ---- Blobs ---------------------------------------------------------------

func chunkAAD(blobID string, seq int) []byte {
	return fmt.Appendf(nil, "blob:%s:%d", blobID, seq)
}

// contentReader streams a submission's content, one sealed chunk at a
// time: it never holds more than one chunk, nor a database connection
// between reads. The first chunk comes preloaded (still sealed) with the
// delivery's work.
type contentReader struct {
	s        *Store
	ctx      context.Context //nolint:containedctx // the reader is used within one call
	blobID   string
	chunks   int
	seq      int
	buf      []byte
	firstKey string
	first    []byte
	closed   bool
}

// Read implements io.Reader.
func (r *contentReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.closed || r.seq >= r.chunks {
			return 0, io.EOF
		}
		keyID, sealed := r.firstKey, r.first
		if r.seq > 0 || sealed == nil {
			err := r.s.b.queryRow(r.ctx, `SELECT key_id, data FROM relais_blob_chunks WHERE blob_id = $1 AND seq = $2`, r.blobID, r.seq).Scan(&keyID, &sealed)
			if errors.Is(err, errNoRows) {
				return 0, fmt.Errorf("reading content: chunk %d of %d is missing", r.seq, r.chunks)
			} else if err != nil {
				return 0, fmt.Errorf("reading content chunk: %w", err)
			}
		}
		plain, err := r.s.keys.Open(keyID, sealed, chunkAAD(r.blobID, r.seq))
		if err != nil {
			return 0, err
		}
		r.buf = plain
		r.seq++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close implements io.Closer.
func (r *contentReader) Close() error { r.closed, r.buf = true, nil; return nil }

// ---- Journal -------------------------------------------------------------

// JournalEntry records one access to personal data or one outcome. It
// never holds a payload.
type JournalEntry struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	TenantID     string    `json:"tenant_id"`
	APIKeyID     string    `json:"api_key_id"`
	Operation    string    `json:"operation"`
	SubmissionID string    `json:"submission_id,omitempty"`
	DeliveryID   string    `json:"delivery_id,omitempty"`
	Destination  string    `json:"destination,omitempty"`
	Categories   []string  `json:"categories,omitempty"`
	Outcome      string    `json:"outcome"`
	// Detail is a short, payload-free note, e.g. "HTTP 503".
	Detail   string `json:"detail,omitempty"`
	ChainPos *int64 `json:"chain_pos,omitempty"`
	Hash     []byte `json:"hash,omitempty"`
}

func appendJournal(ctx context.Context, tx txn, e JournalEntry) error {
	if err := insertRows(ctx, tx, "relais_journal", journalInsertColumns, [][]any{journalRow(e)}); err != nil {
		return fmt.Errorf("appending to journal: %w", err)
	}
	return nil
}

// insertJournalReturningSeq appends one entry and returns its seq.
var insertJournalReturningSeq = insertSQL("relais_journal", journalInsertColumns, " RETURNING seq")

// appendIndexedJournal appends e and indexes it: insertIndex inserts into
// an index table (relais_mandate_journal, relais_consent_journal) the
// entry's seq, as $1, then args.
func appendIndexedJournal(ctx context.Context, tx txn, e JournalEntry, insertIndex string, args ...any) error {
	var seq int64
	if err := tx.queryRow(ctx, insertJournalReturningSeq, journalRow(e)...).Scan(&seq); err != nil {
		return fmt.Errorf("appending to journal: %w", err)
	}
	if _, err := tx.exec(ctx, insertIndex, append([]any{seq}, args...)...); err != nil {
		return fmt.Errorf("indexing journal entry: %w", err)
	}
	return nil
}

// AppendJournal appends entries outside any other write.
func (s *Store) AppendJournal(ctx context.Context, entries ...JournalEntry) error {
	return s.b.inTx(ctx, func(tx txn) error {
		for _, e := range entries {
			if e.At.IsZero() {
				e.At = s.now()
			}
			if err := appendJournal(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

const journalColumns = `seq, at, tenant_id, api_key_id, operation, submission_id, delivery_id, destination, categories, outcome, detail, chain_pos, hash`

// scanJournal reads journalColumns, then any extra columns into extra.
func scanJournal(r row, extra ...any) (JournalEntry, error) {
	var (
		e          JournalEntry
		at         int64
		categories string
	)
	dest := append([]any{&e.Seq, &at, &e.TenantID, &e.APIKeyID, &e.Operation, &e.SubmissionID, &e.DeliveryID,
		&e.Destination, &categories, &e.Outcome, &e.Detail, &e.ChainPos, &e.Hash}, extra...)
	if err := r.Scan(dest...); err != nil {
		return JournalEntry{}, err
	}
	e.At = fromMicros(at)
	if categories != "" {
		e.Categories = strings.Split(categories, ",")
	}
	return e, nil
}

// Journal lists a tenant's journal entries after seq, oldest first; an
// empty tenantID lists every tenant's.
func (s *Store) Journal(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]JournalEntry, error) {
	r, err := s.b.query(ctx, `SELECT `+journalColumns+` FROM relais_journal
WHERE seq > $1 AND ($2 = '' OR tenant_id = $3) ORDER BY seq LIMIT $4`, afterSeq, tenantID, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing journal: %w", err)
	}
	return collectJournal(r)
}

// collectJournal reads every row of r, journalColumns each, and closes it.
// It returns nil for no rows.
func collectJournal(r rows) ([]JournalEntry, error) {
	defer r.Close()
	var out []JournalEntry
	for r.Next() {
		e, err := scanJournal(r)
		if err != nil {
			return nil, fmt.Errorf("reading journal entry: %w", err)
		}
		out = append(out, e)
	}
	return out, r.Err()
}

// journalHash chains an entry to the hash before it.
func journalHash(prev []byte, e JournalEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s",
		e.Seq, micros(e.At), e.TenantID, e.APIKeyID, e.Operation, e.SubmissionID, e.DeliveryID,
		e.Destination, strings.Join(e.Categories, ","), e.Outcome, e.Detail)
	return h.Sum(nil)
}

// SealJournal chains up to limit unsealed entries to the journal's hash
// chain, making later edits detectable. It must run in one process at a
// time (a River periodic job: the leader only). It returns how many it
// sealed.
func (s *Store) SealJournal(ctx context.Context, limit int) (int, error) {
	sealed := 0
	err := s.b.inTx(ctx, func(tx txn) error {
		var (
			pos  int64
			prev []byte
		)
		err := tx.queryRow(ctx, `SELECT chain_pos, hash FROM relais_journal WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1`).Scan(&pos, &prev)
		if err != nil && !errors.Is(err, errNoRows) {
			return fmt.Errorf("reading chain head: %w", err)
		}
		r, err := tx.query(ctx, `SELECT `+journalColumns+` FROM relais_journal WHERE chain_pos IS NULL ORDER BY seq LIMIT $1`, limit)
		if err != nil {
			return fmt.Errorf("listing unsealed entries: %w", err)
		}
		pending, err := collectJournal(r)
		if err != nil {
			return err
		}
		seqs, positions := make([]int64, len(pending)), make([]int64, len(pending))
		prevs, hashes := make([][]byte, len(pending)), make([][]byte, len(pending))
		for i, e := range pending {
			pos++
			hash := journalHash(prev, e)
			seqs[i], positions[i], prevs[i], hashes[i] = e.Seq, pos, prev, hash
			prev = hash
		}
		if err := sealRows(ctx, tx, s.b.name(), seqs, positions, prevs, hashes); err != nil {
			return fmt.Errorf("sealing journal entries: %w", err)
		}
		sealed = len(pending)
		return nil
	})
	return sealed, err
}

// sealRows writes the chain columns: in one statement on PostgreSQL, one
// statement per row on SQLite (in process, no round trips).
func sealRows(ctx context.Context, tx txn, driver string, seqs, positions []int64, prevs, hashes [][]byte) error {
	if driver == "postgres" {
		_, err := tx.exec(ctx, `UPDATE relais_journal j SET chain_pos = v.pos, prev_hash = v.prev, hash = v.hash
FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS v(seq, pos, prev, hash) WHERE j.seq = v.seq`,
			seqs, positions, prevs, hashes)
		return err
	}
	for i := range seqs {
		if _, err := tx.exec(ctx, `UPDATE relais_journal SET chain_pos = $1, prev_hash = $2, hash = $3 WHERE seq = $4`,
			positions[i], prevs[i], hashes[i], seqs[i]); err != nil {
			return err
		}
	}
	return nil
}

// VerifyJournal walks the hash chain and returns the number of sealed
// entries checked, or an error naming the first entry that does not match.
func (s *Store) VerifyJournal(ctx context.Context) (int, error) {
	r, err := s.b.query(ctx, `SELECT `+journalColumns+`, prev_hash FROM relais_journal WHERE chain_pos IS NOT NULL ORDER BY chain_pos`)
	if err != nil {
		return 0, fmt.Errorf("listing sealed journal: %w", err)
	}
	defer r.Close()
	var (
		prev []byte
		n    int
	)
	for r.Next() {
		var prevHash []byte
		e, err := scanJournal(r, &prevHash)
		if err != nil {
			return n, fmt.Errorf("reading journal entry: %w", err)
		}
		if !bytes.Equal(prevHash, prev) || !bytes.Equal(e.Hash, journalHash(prev, e)) {
			return n, fmt.Errorf("journal entry %d (chain position %d) does not match the chain", e.Seq, *e.ChainPos)
		}
		prev = e.Hash
		n++
	}
	return n, r.Err()
}

// ---- Queue ---------------------------------------------------------------

// QueueDepth counts River jobs by state.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int64, error) {
	r, err := s.b.query(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting jobs: %w", err)
	}
	defer r.Close()
	out := map[string]int64{}
	for r.Next() {
		var (
			state string
			n     int64
		)
		if err := r.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("reading job count: %w", err)
		}
		out[state] = n
	}
	return out, r.Err()
}

// PeriodicSealJob returns the River periodic job that seals the journal
// every interval, and its worker.
func (s *Store) PeriodicSealJob(interval time.Duration) (*river.PeriodicJob, river.Worker[SealJournalArgs]) {
	job := river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return SealJournalArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
	return job, &sealWorker{s: s}
}

// SealJournalArgs is the periodic job that seals the journal.
type SealJournalArgs struct{}

// Kind implements river.JobArgs.
func (SealJournalArgs) Kind() string { return "relais.seal_journal" }

type sealWorker struct {
	river.WorkerDefaults[SealJournalArgs]
	s *Store
}

// sealBatch bounds one sealing transaction, so that it never holds
// SQLite's single writer long enough to be felt by the API.
const sealBatch = 100

func (w *sealWorker) Work(ctx context.Context, _ *river.Job[SealJournalArgs]) error {
	for {
		n, err := w.s.SealJournal(ctx, sealBatch)
		if err != nil || n < sealBatch {
			return err
		}
	}
}
