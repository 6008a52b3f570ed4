package oidc

import (
	"testing"
)

// FuzzTokenHeader feeds outside tokens to the first checks a token meets.
func FuzzTokenHeader(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
	f.Add("a.b.c.d.e")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		err := checkAlg(token)
		if err != nil && CodeOf(err) == "" {
			t.Fatalf("checkAlg error without a code: %v", err)
		}
		c, err := payloadOf(token)
		if err == nil {
			_ = c.hasAudience("client")
		}
	})
}

// FuzzDecrypt feeds outside JWEs to Relais' decryption.
func FuzzDecrypt(f *testing.F) {
	keys, err := GenerateDecryptionKeys()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9..iv.ct.tag")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, token string) {
		if out, err := keys.Decrypt(token); err == nil && out == nil {
			t.Fatal("nil plaintext without an error")
		}
	})
}
