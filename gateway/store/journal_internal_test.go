package store

import (
	"context"
	"strings"
	"testing"
)

// TestJournalTamperEvident edits a sealed entry behind the triggers' back,
// as someone with direct database access could, and expects VerifyJournal
// to name it: any column the hash covers, and a deletion.
func TestJournalTamperEvident(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t, nil)
	for _, op := range []string{"submission.accept", "delivery.attempt", "delivery.replay"} {
		if err := s.AppendJournal(ctx, JournalEntry{TenantID: "t1", Operation: op, Outcome: "ok"}); err != nil {
			t.Fatalf("appending: %v", err)
		}
	}
	if n, err := s.SealJournal(ctx, 100); err != nil || n != 3 {
		t.Fatalf("sealing: %d, %v", n, err)
	}
	if n, err := s.VerifyJournal(ctx); err != nil || n != 3 {
		t.Fatalf("verifying an intact journal: %d, %v", n, err)
	}
	if _, err := s.b.exec(ctx, `UPDATE relais_journal SET outcome = 'forged' WHERE seq = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the trigger let a sealed entry change: %v", err)
	}
	if _, err := s.b.exec(ctx, `DELETE FROM relais_journal WHERE seq = 3`); err == nil {
		t.Fatal("the trigger let an entry be deleted")
	}
	if _, err := s.b.exec(ctx, `DROP TRIGGER relais_journal_seal_only`); err != nil {
		t.Fatalf("dropping the trigger: %v", err)
	}
	// Every column the hash covers: forge it, expect the entry named, undo.
	for _, forge := range []struct{ col, set, undo string }{
		{"at", "at + 1", "at - 1"},
		{"tenant_id", "tenant_id || 'x'", "substr(tenant_id, 1, length(tenant_id) - 1)"},
		{"api_key_id", "'x'", "''"},
		{"operation", "'x'", "'delivery.attempt'"},
		{"submission_id", "'x'", "''"},
		{"delivery_id", "'x'", "''"},
		{"destination", "'x'", "''"},
		{"categories", "'x'", "''"},
		{"outcome", "'forged'", "'ok'"},
		{"detail", "'x'", "''"},
	} {
		if _, err := s.b.exec(ctx, `UPDATE relais_journal SET `+forge.col+` = `+forge.set+` WHERE seq = 2`); err != nil {
			t.Fatalf("forging %s: %v", forge.col, err)
		}
		if _, err := s.VerifyJournal(ctx); err == nil || !strings.Contains(err.Error(), "entry 2") {
			t.Fatalf("VerifyJournal missed a forged %s: %v", forge.col, err)
		}
		if _, err := s.b.exec(ctx, `UPDATE relais_journal SET `+forge.col+` = `+forge.undo+` WHERE seq = 2`); err != nil {
			t.Fatalf("undoing %s: %v", forge.col, err)
		}
		if n, err := s.VerifyJournal(ctx); err != nil || n != 3 {
			t.Fatalf("verifying after undoing %s: %d, %v", forge.col, n, err)
		}
	}
	// A careful forger deletes an entry and relinks the next one's
	// prev_hash: the next hash, chained to the deleted one, gives it away.
	if _, err := s.b.exec(ctx, `DROP TRIGGER relais_journal_no_delete`); err != nil {
		t.Fatalf("dropping the trigger: %v", err)
	}
	if _, err := s.b.exec(ctx, `DELETE FROM relais_journal WHERE seq = 2`); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	if _, err := s.b.exec(ctx, `UPDATE relais_journal SET prev_hash = (SELECT hash FROM relais_journal WHERE seq = 1), chain_pos = 2 WHERE seq = 3`); err != nil {
		t.Fatalf("relinking: %v", err)
	}
	if _, err := s.VerifyJournal(ctx); err == nil || !strings.Contains(err.Error(), "entry 3") {
		t.Fatalf("VerifyJournal missed the deleted entry: %v", err)
	}
}
