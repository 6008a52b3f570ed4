package profile

import (
	"errors"
	"time"
)

// Defaults of Config.
const (
	DefaultDeadline      = 10 * time.Second
	DefaultTTL           = 15 * time.Minute
	DefaultGoneFor       = 24 * time.Hour
	DefaultPurgeInterval = time.Minute
)

// Config tunes lookups and their prefills. Every field says its default.
type Config struct {
	// Deadline bounds a lookup: every source runs in parallel within it,
	// and a source that has not answered by then is timeout. Default 10s.
	Deadline time.Duration `yaml:"deadline"`
	// TTL is how long a lookup's answer is kept, sealed, for
	// GET /v1/profiles/{id}: the prefill. After it the data is purged and
	// only the journal entries remain. Default 15m.
	TTL time.Duration `yaml:"ttl"`
	// GoneFor is how long, after its TTL, a prefill's tombstone (its id,
	// tenant and times, no data) lets GET answer 410 profile_expired
	// rather than 404 not_found. Default 24h.
	GoneFor time.Duration `yaml:"gone_for"`
	// PurgeInterval is how often the periodic job purges expired prefills
	// and FranceConnect tokens. Default 1m.
	PurgeInterval time.Duration `yaml:"purge_interval"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Deadline == 0 {
		c.Deadline = DefaultDeadline
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.GoneFor == 0 {
		c.GoneFor = DefaultGoneFor
	}
	if c.PurgeInterval == 0 {
		c.PurgeInterval = DefaultPurgeInterval
	}
	return c
}

// Validate names the first faulty field.
func (c Config) Validate() error {
	switch {
	case c.Deadline < 10*time.Millisecond || c.Deadline > 5*time.Minute:
		return errors.New("deadline: must be between 10ms and 5m")
	case c.TTL < time.Minute || c.TTL > 24*time.Hour:
		return errors.New("ttl: must be between 1m and 24h")
	case c.GoneFor < time.Minute || c.GoneFor > 30*24*time.Hour:
		return errors.New("gone_for: must be between 1m and 720h")
	case c.PurgeInterval < time.Second || c.PurgeInterval > time.Hour:
		return errors.New("purge_interval: must be between 1s and 1h")
	}
	return nil
}
