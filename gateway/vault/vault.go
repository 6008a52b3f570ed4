package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// ErrUnknownKey is returned when a ciphertext names a key the keyring lacks.
var ErrUnknownKey = errors.New("vault: unknown key id")

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// Keyring seals with its active key and opens with any of its keys.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// New builds a keyring from raw 32-byte keys by id. active names the key that
// seals new data.
func New(keys map[string][]byte, active string) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("vault: no key given")
	}
	k := &Keyring{active: active, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, raw := range keys {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("vault: key id %q: must be 1 to 32 letters, digits or _.-", id)
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("vault: key %q: must be %d bytes, got %d", id, KeySize, len(raw))
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("vault: building cipher for key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("vault: building GCM for key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[active]; !ok {
		return nil, fmt.Errorf("vault: active key %q is not in the keyring", active)
	}
	return k, nil
}

// ParseKeys reads a keyring spec "id:base64key[,id:base64key...]"; the first
// key is the active one unless active is non-empty.
func ParseKeys(spec, active string) (*Keyring, error) {
	keys := make(map[string][]byte)
	first := ""
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, enc, ok := strings.Cut(item, ":")
		if !ok {
			return nil, errors.New("vault: key spec items must be id:base64key")
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("vault: decoding key %q: not standard base64", id)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("vault: key %q given twice", id)
		}
		keys[id] = raw
		if first == "" {
			first = id
		}
	}
	if active == "" {
		active = first
	}
	return New(keys, active)
}

// GenerateKeySpec returns a fresh key spec with one random key named id.
func GenerateKeySpec(id string) string {
	raw := make([]byte, KeySize)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms.
	return id + ":" + base64.StdEncoding.EncodeToString(raw)
}

// ActiveKeyID returns the id of the key that seals new data.
func (k *Keyring) ActiveKeyID() string { return k.active }

// KeyIDs returns the ids of every key in the keyring, sorted.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Seal encrypts plaintext with the active key, binding it to aad (for
// example the row it belongs to, so a ciphertext cannot be moved to another
// row). It returns the key id and nonce||ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte) {
	aead := k.aeads[k.active]
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(out) // the nonce
	return k.active, aead.Seal(out, out, plaintext, aad)
}

// Open decrypts what Seal returned.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("vault: ciphertext too short")
	}
	nonce, ct := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("vault: opening with key %q: %w", keyID, err)
	}
	return plain, nil
}
