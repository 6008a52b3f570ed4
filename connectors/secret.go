package connectors

import (
	"fmt"
	"log/slog"
	"strconv"
)

// Secret is a credential that never prints: fmt, slog, JSON and text
// encoders all see "***" (or "" when the secret is empty, so an operator can
// tell a missing secret from a set one). Only Reveal returns the value, and
// only the transport stack calls it.
type Secret string

// Interfaces a Secret satisfies so that no encoder falls back to the raw
// string.
var (
	_ fmt.Stringer   = Secret("")
	_ fmt.GoStringer = Secret("")
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
)

const masked = "***"

func (s Secret) masked() string {
	if s == "" {
		return ""
	}
	return masked
}

// Reveal returns the secret's value, for putting it on the wire.
func (s Secret) Reveal() string { return string(s) }

// String returns "***", or "" for an empty secret.
func (s Secret) String() string { return s.masked() }

// GoString is String, so %#v does not print the value either.
func (s Secret) GoString() string { return s.masked() }

// Format prints the masked form for every verb, %x and %q included.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(s.masked())))
		return
	}
	_, _ = f.Write([]byte(s.masked()))
}

// LogValue makes slog print the masked form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.masked()) }

// MarshalJSON encodes the masked form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.masked())), nil }

// MarshalText encodes the masked form (YAML and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }
