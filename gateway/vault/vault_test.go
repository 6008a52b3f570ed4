package vault_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/vault"
)

func TestSealOpenRotate(t *testing.T) {
	t.Parallel()
	oldSpec := vault.GenerateKeySpec("k1")
	old, err := vault.ParseKeys(oldSpec, "")
	if err != nil {
		t.Fatalf("parsing keys: %v", err)
	}
	id, sealed := old.Seal([]byte("Élodie Dupont-Martin"), []byte("row-1"))
	if id != "k1" || bytes.Contains(sealed, []byte("Dupont")) {
		t.Fatalf("sealed with %q, ciphertext leaks plaintext: %v", id, bytes.Contains(sealed, []byte("Dupont")))
	}

	rotated, err := vault.ParseKeys(vault.GenerateKeySpec("k2")+","+oldSpec, "")
	if err != nil {
		t.Fatalf("parsing rotated keys: %v", err)
	}
	if rotated.ActiveKeyID() != "k2" {
		t.Fatalf("active key = %q, want k2", rotated.ActiveKeyID())
	}
	plain, err := rotated.Open(id, sealed, []byte("row-1"))
	if err != nil || string(plain) != "Élodie Dupont-Martin" {
		t.Fatalf("opening old ciphertext after rotation: %q, %v", plain, err)
	}
	if _, err := rotated.Open(id, sealed, []byte("row-2")); err == nil {
		t.Fatal("a ciphertext moved to another row opened")
	}
	if _, err := rotated.Open("k9", sealed, nil); !errors.Is(err, vault.ErrUnknownKey) {
		t.Fatalf("unknown key: got %v", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "nokey", "k1:!!!", "k1:AAAA", "bad id:" + strings.Repeat("A", 44), vault.GenerateKeySpec("a") + "," + vault.GenerateKeySpec("a")} {
		if _, err := vault.ParseKeys(spec, ""); err == nil {
			t.Errorf("ParseKeys(%q) accepted", spec)
		}
	}
	if _, err := vault.ParseKeys(vault.GenerateKeySpec("a"), "b"); err == nil {
		t.Error("an absent active key was accepted")
	}
}

func BenchmarkSeal4KiB(b *testing.B) {
	k, _ := vault.ParseKeys(vault.GenerateKeySpec("k1"), "")
	p := make([]byte, 4096)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		k.Seal(p, []byte("aad"))
	}
}
