package web

import (
	"errors"
	"fmt"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Defaults of Config.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultConsentTTL = 24 * time.Hour
	DefaultReturnTo   = "/compte"
)

// Config tunes the browser routes. Every field says its default.
type Config struct {
	// SessionTTL caps every session; within it a session lives as long as
	// the provider's own (30 min FranceConnect, 10 min FranceConnect+, 12 h
	// ProConnect, 30 min otherwise). Default: 12h.
	SessionTTL time.Duration
	// Secure sets Secure on every cookie and names the session cookie
	// with the __Host- prefix. Default: false here; the gateway sets it
	// outside the sandbox.
	Secure bool
	// ConsentTTL is how long a consent given at a FranceConnect login lasts.
	// Default: 24h.
	ConsentTTL time.Duration
	// ConsentCategories are the data categories (mapping.DataCategory) a
	// FranceConnect login consents to; a lookup under the consent runs the
	// operations of these categories only. Default: household (the
	// quotient familial and the allocataires).
	ConsentCategories []string
	// ConsentPlatforms are the platforms the data may come from. Default:
	// apiparticulier.
	ConsentPlatforms []string
	// DefaultReturnTo is where a login without return_to lands. Default:
	// /compte.
	DefaultReturnTo string
	// SandboxSMSOutbox serves /pro/sandbox/sms, the last SMS of the
	// professional's organisation, so that a tester reads the confirmation
	// codes the sandbox never sends. Default: false; only the sandbox sets
	// it, never a production gateway (the gateway refuses it with Secure
	// cookies).
	SandboxSMSOutbox bool
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.ConsentTTL == 0 {
		c.ConsentTTL = DefaultConsentTTL
	}
	if len(c.ConsentCategories) == 0 {
		c.ConsentCategories = []string{string(mapping.DataHousehold)}
	}
	if len(c.ConsentPlatforms) == 0 {
		c.ConsentPlatforms = []string{"apiparticulier"}
	}
	if c.DefaultReturnTo == "" {
		c.DefaultReturnTo = DefaultReturnTo
	}
	return c
}

// Validate names the first faulty field.
func (c Config) Validate() error {
	switch {
	case c.SessionTTL < time.Minute:
		return errors.New("session_ttl: must be at least 1m")
	case c.ConsentTTL < time.Minute:
		return errors.New("consent_ttl: must be at least 1m")
	}
	if _, ok := LocalPath(c.DefaultReturnTo); !ok {
		return errors.New("default_return_to: must be a local path")
	}
	for i, cat := range c.ConsentCategories {
		if _, known := categoryLabels[cat]; !known {
			return fmt.Errorf("consent_categories[%d]: %q is not a data category (household, benefit, employment, ...)", i, cat)
		}
	}
	return nil
}
