package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// rsaBits is the size of the RSA keys generated.
const rsaBits = 2048

// SigningKey is a private signing key of a provider. Its methods
// SignatureAlgorithm, Key and ID are those of op.SigningKey in
// github.com/zitadel/oidc/v3/pkg/op, so a full OpenID Provider can sign
// with it.
type SigningKey struct {
	alg jose.SignatureAlgorithm
	id  string
	key crypto.Signer // *ecdsa.PrivateKey or *rsa.PrivateKey
}

// SignatureAlgorithm is the JWS algorithm the key signs with.
func (k *SigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key is the private key (*ecdsa.PrivateKey or *rsa.PrivateKey).
func (k *SigningKey) Key() any { return k.key }

// ID is the key id ("kid"): the key's RFC 7638 thumbprint (SHA-256,
// base64url).
func (k *SigningKey) ID() string { return k.id }

// Public is the key as published in the JWKS: public part, "sig" use, its
// algorithm and id.
func (k *SigningKey) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.key.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig"}
}

// Signer returns a JWS signer with the key, whose signatures carry its
// "kid" and the type "JWT".
func (k *SigningKey) Signer() (jose.Signer, error) {
	s, err := jose.NewSigner(
		jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.key, KeyID: k.id, Algorithm: string(k.alg)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("building a %s signer: %w", k.alg, err)
	}
	return s, nil
}

// KeySet is a provider's signing keys, one per algorithm.
type KeySet struct {
	keys []*SigningKey
}

// GenerateKeySet generates one key per algorithm: a P-256, P-384 or P-521
// ECDSA key for ES256, ES384 or ES512, a 2048-bit RSA key for RS* and PS*.
func GenerateKeySet(algs ...jose.SignatureAlgorithm) (*KeySet, error) {
	if len(algs) == 0 {
		return nil, fmt.Errorf("generating a key set: no algorithm")
	}
	ks := &KeySet{}
	for _, alg := range algs {
		if _, dup := ks.Key(alg); dup {
			return nil, fmt.Errorf("generating a key set: %s twice", alg)
		}
		k, err := generateKey(alg)
		if err != nil {
			return nil, err
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

func generateKey(alg jose.SignatureAlgorithm) (*SigningKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("generating a %s key: unsupported algorithm", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generating a %s key: %w", alg, err)
	}
	pub := jose.JSONWebKey{Key: priv.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("computing the thumbprint of a %s key: %w", alg, err)
	}
	return &SigningKey{alg: alg, id: base64.RawURLEncoding.EncodeToString(tp), key: priv}, nil
}

// Keys returns the keys, in the order of GenerateKeySet's algorithms.
func (s *KeySet) Keys() []*SigningKey {
	return append([]*SigningKey(nil), s.keys...)
}

// Key returns the key that signs with alg.
func (s *KeySet) Key(alg jose.SignatureAlgorithm) (*SigningKey, bool) {
	for _, k := range s.keys {
		if k.alg == alg {
			return k, true
		}
	}
	return nil, false
}

// Public is the JWK Set a provider publishes: the public keys only.
func (s *KeySet) Public() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.keys))}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// Algorithms lists the keys' algorithms.
func (s *KeySet) Algorithms() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k.alg)
	}
	return out
}
