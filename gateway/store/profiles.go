package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
)

var _ profile.Store = (*Store)(nil)

// profileNotFound is both this package's and the profile package's "not
// found", so callers of either test it.
var profileNotFound = errors.Join(ErrNotFound, profile.ErrNotFound)

func profileAAD(id string) []byte { return []byte("profile:" + id) }

func consentTokenAAD(consentID string) []byte { return []byte("consent-token:" + consentID) }

// ---- Prefills --------------------------------------------------------------

// SaveProfile implements profile.Store: the prefill sealed and the lookup's
// journal entries, in one transaction. Concurrent lookups' saves share transactions, as
// submissions do (group commit): a lookup's one write costs a share of a
// commit, not a place in the queue of a single writer.
func (s *Store) SaveProfile(ctx context.Context, r profile.Record, accesses []profile.Access) error {
	keyID, sealed := s.keys.Seal(r.Body, profileAAD(r.ID))
	return s.profiles.submit(ctx, &pendingProfile{r: r, keyID: keyID, sealed: sealed, accesses: accesses})
}

// pendingProfile is a prefill waiting for its transaction.
type pendingProfile struct {
	r        profile.Record
	keyID    string
	sealed   []byte
	accesses []profile.Access
}

func (p *pendingProfile) size() int { return len(p.sealed) }

// insertProfiles writes a batch of prefills and their journal entries.
func (s *Store) insertProfiles(ctx context.Context, tx txn, items []*pendingProfile) ([]error, error) {
	for _, p := range items {
		if _, err := tx.exec(ctx, `INSERT INTO relais_profiles (id, tenant_id, created_at, expires_at, key_id, data)
VALUES ($1, $2, $3, $4, $5, $6)`, p.r.ID, p.r.TenantID, micros(p.r.CreatedAt), micros(p.r.ExpiresAt), p.keyID, p.sealed); err != nil {
			return nil, fmt.Errorf("inserting profile: %w", err)
		}
		if err := appendAccesses(ctx, tx, p.accesses); err != nil {
			return nil, err
		}
	}
	return make([]error, len(items)), nil
}

// Profile implements profile.Store: a tenant's prefill while it lives;
// profile.ErrExpired from its TTL until its tombstone is purged; not found
// otherwise, another tenant's included.
func (s *Store) Profile(ctx context.Context, tenantID, id string, now time.Time) (profile.Record, error) {
	r := profile.Record{ID: id, TenantID: tenantID}
	var (
		created, expires int64
		keyID            *string
		sealed           []byte
	)
	err := s.b.queryRow(ctx, `SELECT created_at, expires_at, key_id, data FROM relais_profiles WHERE id = $1 AND tenant_id = $2`,
		id, tenantID).Scan(&created, &expires, &keyID, &sealed)
	if errors.Is(err, errNoRows) {
		return profile.Record{}, profileNotFound
	} else if err != nil {
		return profile.Record{}, fmt.Errorf("reading profile: %w", err)
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	if keyID == nil || sealed == nil || !now.Before(r.ExpiresAt) {
		return profile.Record{}, profile.ErrExpired
	}
	if r.Body, err = s.keys.Open(*keyID, sealed, profileAAD(id)); err != nil {
		return profile.Record{}, fmt.Errorf("opening profile %s: %w", id, err)
	}
	return r, nil
}

// AppendAccesses implements profile.Store.
func (s *Store) AppendAccesses(ctx context.Context, accesses []profile.Access) error {
	return s.b.inTx(ctx, func(tx txn) error { return appendAccesses(ctx, tx, accesses) })
}

func appendAccesses(ctx context.Context, tx txn, accesses []profile.Access) error {
	if len(accesses) == 0 {
		return nil
	}
	rows := make([][]any, len(accesses))
	for i, a := range accesses {
		rows[i] = journalRow(JournalEntry{
			At: a.At, TenantID: a.TenantID, APIKeyID: a.APIKeyID, Operation: a.Operation, Destination: a.Source,
			Categories: a.Categories, Outcome: a.Outcome, Detail: a.Detail,
		})
	}
	if err := insertRows(ctx, tx, "relais_journal", journalInsertColumns, rows); err != nil {
		return fmt.Errorf("appending to journal: %w", err)
	}
	return nil
}

// PurgeResult counts what a purge removed.
type PurgeResult struct {
	// Profiles is the number of prefills whose data was erased.
	Profiles int64
	// Tombstones is the number of expired prefills' rows deleted.
	Tombstones int64
	// Tokens is the number of FranceConnect tokens deleted.
	Tokens int64
}

// PurgeProfiles erases the data of every prefill expired at now (keeping a
// tombstone), deletes tombstones expired for goneFor, and deletes the
// FranceConnect tokens expired at now. On SQLite the freed space is zeroed
// (secure_delete) and the write-ahead log truncated after a purge that
// erased something, so that no sealed copy is left in the files either.
func (s *Store) PurgeProfiles(ctx context.Context, now time.Time, goneFor time.Duration) (PurgeResult, error) {
	var res PurgeResult
	sqlite := s.b.name() == "sqlite"
	err := s.b.inTx(ctx, func(tx txn) error {
		if sqlite {
			// Per connection: on for this transaction only, back to the
			// previous setting at the end, for the other tables' sake.
			var prev int
			if err := tx.queryRow(ctx, `PRAGMA secure_delete`).Scan(&prev); err != nil {
				return fmt.Errorf("reading secure_delete: %w", err)
			}
			if _, err := tx.exec(ctx, `PRAGMA secure_delete = ON`); err != nil {
				return fmt.Errorf("setting secure_delete: %w", err)
			}
			defer func() { _, _ = tx.exec(ctx, fmt.Sprintf(`PRAGMA secure_delete = %d`, prev)) }()
		}
		var err error
		if res.Profiles, err = tx.exec(ctx, `UPDATE relais_profiles SET key_id = NULL, data = NULL WHERE data IS NOT NULL AND expires_at <= $1`,
			micros(now)); err != nil {
			return fmt.Errorf("erasing expired profiles: %w", err)
		}
		if res.Tombstones, err = tx.exec(ctx, `DELETE FROM relais_profiles WHERE expires_at <= $1`, micros(now.Add(-goneFor))); err != nil {
			return fmt.Errorf("deleting profile tombstones: %w", err)
		}
		if res.Tokens, err = tx.exec(ctx, `DELETE FROM relais_consent_tokens WHERE expires_at <= $1`, micros(now)); err != nil {
			return fmt.Errorf("deleting expired consent tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, err
	}
	if sqlite && (res.Profiles > 0 || res.Tokens > 0) {
		// The log still holds the pages as they were before: checkpoint them
		// all into the (zeroed) database and truncate it.
		if _, err := s.b.exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return res, fmt.Errorf("checkpointing after purge: %w", err)
		}
	}
	return res, nil
}

// PeriodicPurgeJob returns the River periodic job that purges expired
// prefills and FranceConnect tokens every interval, keeping tombstones
// goneFor, and its worker.
func (s *Store) PeriodicPurgeJob(interval, goneFor time.Duration) (*river.PeriodicJob, river.Worker[PurgeProfilesArgs]) {
	job := river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return PurgeProfilesArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
	return job, &purgeWorker{s: s, goneFor: goneFor}
}

// PurgeProfilesArgs is the periodic job that purges expired prefills.
type PurgeProfilesArgs struct{}

// Kind implements river.JobArgs.
func (PurgeProfilesArgs) Kind() string { return "relais.purge_profiles" }

type purgeWorker struct {
	river.WorkerDefaults[PurgeProfilesArgs]
	s       *Store
	goneFor time.Duration
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeProfilesArgs]) error {
	res, err := w.s.PurgeProfiles(ctx, w.s.now(), w.goneFor)
	if err != nil {
		return err
	}
	if res != (PurgeResult{}) {
		w.s.logger.Debug("purged expired profiles", slog.Int64("profiles", res.Profiles),
			slog.Int64("tombstones", res.Tombstones), slog.Int64("tokens", res.Tokens))
	}
	return nil
}

// ---- FranceConnect tokens of consents --------------------------------------

// SaveConsentToken keeps c's FranceConnect access token, sealed, until
// expiresAt: lookups under c use it while it is alive, the purge deletes it
// after. A token without an expiry is not kept. Saving again replaces it.
func (s *Store) SaveConsentToken(ctx context.Context, c mandate.Consent, token string, expiresAt time.Time) error {
	if token == "" || expiresAt.IsZero() {
		return nil
	}
	keyID, sealed := s.keys.Seal([]byte(token), consentTokenAAD(c.ID))
	if _, err := s.b.exec(ctx, `INSERT INTO relais_consent_tokens (consent_id, tenant_id, key_id, token, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (consent_id) DO UPDATE SET key_id = excluded.key_id, token = excluded.token, expires_at = excluded.expires_at`,
		c.ID, c.TenantID, keyID, sealed, micros(expiresAt)); err != nil {
		return fmt.Errorf("inserting consent token: %w", err)
	}
	return nil
}

// ConsentToken implements profile.Store: the consent's token while it is
// alive at now, "" otherwise (expired, never kept, another tenant's).
func (s *Store) ConsentToken(ctx context.Context, tenantID, consentID string, now time.Time) (connectors.Secret, error) {
	var (
		keyID  string
		sealed []byte
	)
	err := s.b.queryRow(ctx, `SELECT key_id, token FROM relais_consent_tokens WHERE consent_id = $1 AND tenant_id = $2 AND expires_at > $3`,
		consentID, tenantID, micros(now)).Scan(&keyID, &sealed)
	if errors.Is(err, errNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("reading consent token: %w", err)
	}
	plain, err := s.keys.Open(keyID, sealed, consentTokenAAD(consentID))
	if err != nil {
		return "", fmt.Errorf("opening consent token: %w", err)
	}
	return connectors.Secret(plain), nil
}

// ---- Consent uses ------------------------------------------------------------

// consentUseEntry is how a consent use is journaled: the consent id, the
// person reference and the operation go in Detail, so that the hash chain
// covers them, and relais_consent_journal indexes them.
func consentUseEntry(u profile.ConsentUse) JournalEntry {
	detail := "consent=" + u.ConsentID + " person=" + u.PersonRef + " operation=" + u.Operation
	if u.Reason != "" {
		detail += " reason=" + u.Reason
	}
	return JournalEntry{
		At: u.At, TenantID: u.TenantID, APIKeyID: u.APIKeyID, Operation: profile.OpConsentUse, Destination: u.Source,
		Categories: []string{string(u.Category)}, Outcome: u.Outcome, Detail: detail,
	}
}

// AppendConsentUses implements profile.Store: each use journaled and
// indexed, in one transaction.
func (s *Store) AppendConsentUses(ctx context.Context, uses []profile.ConsentUse) error {
	return s.b.inTx(ctx, func(tx txn) error {
		for _, u := range uses {
			if err := appendIndexedJournal(ctx, tx, consentUseEntry(u),
				`INSERT INTO relais_consent_journal (seq, tenant_id, person_ref, consent_id) VALUES ($1, $2, $3, $4)`,
				u.TenantID, u.PersonRef, u.ConsentID); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConsentJournal lists a tenant's journal entries of uses of one consent,
// in journal order.
func (s *Store) ConsentJournal(ctx context.Context, tenantID, consentID string) ([]JournalEntry, error) {
	r, err := s.b.query(ctx, `SELECT j.seq, j.at, j.tenant_id, j.api_key_id, j.operation, j.submission_id, j.delivery_id,
j.destination, j.categories, j.outcome, j.detail, j.chain_pos, j.hash
FROM relais_consent_journal cj JOIN relais_journal j ON j.seq = cj.seq
WHERE cj.tenant_id = $1 AND cj.consent_id = $2 ORDER BY cj.seq`, tenantID, consentID)
	if err != nil {
		return nil, fmt.Errorf("listing consent journal: %w", err)
	}
	out, err := collectJournal(r)
	if out == nil && err == nil {
		out = []JournalEntry{} // an empty list, not none
	}
	return out, err
}
