package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.SHA256
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The JWE algorithms Relais accepts (FranceConnect+: ECDH-ES or RSA-OAEP(-256),
// A256GCM).
var (
	keyAlgorithms = []jose.KeyAlgorithm{jose.ECDH_ES, jose.RSA_OAEP, jose.RSA_OAEP_256}
	contentEncs   = []jose.ContentEncryption{jose.A256GCM}
)

// DecryptionKeys are Relais' private keys for the tokens an OP encrypts to
// it. Public publishes their public halves (the JWKS URL the OP reads).
type DecryptionKeys struct {
	keys []jose.JSONWebKey
}

// LoadDecryptionKeys reads a JWK Set of private keys from path.
func LoadDecryptionKeys(path string) (*DecryptionKeys, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading decryption keys: %w", err)
	}
	return ParseDecryptionKeys(raw)
}

// ParseDecryptionKeys parses a JWK Set of private keys (EC P-256 for ECDH-ES,
// RSA for RSA-OAEP-256).
func ParseDecryptionKeys(raw []byte) (*DecryptionKeys, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parsing decryption keys: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("parsing decryption keys: the set is empty")
	}
	for i, k := range set.Keys {
		if k.IsPublic() {
			return nil, fmt.Errorf("parsing decryption keys: key %d (%q) is public, a private key is needed", i, k.KeyID)
		}
		switch k.Key.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey:
		default:
			return nil, fmt.Errorf("parsing decryption keys: key %d (%q) is a %T, want EC or RSA", i, k.KeyID, k.Key)
		}
	}
	return &DecryptionKeys{keys: set.Keys}, nil
}

// GenerateDecryptionKeys returns one fresh ECDH-ES key on P-256 (the sandbox
// and tests use it).
func GenerateDecryptionKeys() (*DecryptionKeys, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating decryption key: %w", err)
	}
	k := jose.JSONWebKey{Key: priv, Algorithm: string(jose.ECDH_ES), Use: "enc"}
	pub := k.Public()
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("computing key thumbprint: %w", err)
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return &DecryptionKeys{keys: []jose.JSONWebKey{k}}, nil
}

// MarshalJSON writes the private set, for saving to an encryption key file.
func (d *DecryptionKeys) MarshalJSON() ([]byte, error) {
	return json.Marshal(jose.JSONWebKeySet{Keys: d.keys})
}

// Public returns the public halves, with use "enc".
func (d *DecryptionKeys) Public() jose.JSONWebKeySet {
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(d.keys))}
	for _, k := range d.keys {
		p := k.Public()
		p.Use = "enc"
		out.Keys = append(out.Keys, p)
	}
	return out
}

// Handler serves the public JWKS (GET /.well-known/jwks.json).
func (d *DecryptionKeys) Handler() http.Handler {
	body, err := json.Marshal(d.Public())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			http.Error(w, "keys unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	})
}

// isJWE reports whether a compact serialization has the five parts of a JWE.
func isJWE(token string) bool { return strings.Count(token, ".") == 4 }

// Decrypt opens a compact JWE addressed to one of the keys and returns its
// plaintext (a signed JWT for OIDC, which the caller then verifies).
func (d *DecryptionKeys) Decrypt(token string) ([]byte, error) {
	if !isJWE(token) {
		return nil, errors.New("not a compact JWE")
	}
	jwe, err := jose.ParseEncryptedCompact(token, keyAlgorithms, contentEncs)
	if err != nil {
		return nil, fmt.Errorf("parsing JWE: %w", err)
	}
	kid := jwe.Header.KeyID
	var last error = errors.New("no key matches the JWE")
	for _, k := range d.keys {
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		out, err := jwe.Decrypt(k.Key)
		if err == nil {
			return out, nil
		}
		last = err
	}
	return nil, fmt.Errorf("decrypting JWE: %w", last)
}
