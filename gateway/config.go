package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/cafpsu"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/connectors/indicateurs"
	"github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/delivery"
	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/report"
)

// Config is the whole gateway configuration: one YAML file, with
// environment overrides for what differs per deployment (see ApplyEnv).
type Config struct {
	// Listen is the API's address. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// Store selects and reaches the database.
	Store StoreConfig `yaml:"store"`
	// Encryption holds the keys that seal personal data at rest.
	Encryption EncryptionConfig `yaml:"encryption"`
	// API tunes the HTTP API.
	API api.Config `yaml:"api"`
	// Delivery tunes retries.
	Delivery delivery.Config `yaml:"delivery"`
	// Queue tunes the durable job queue.
	Queue QueueConfig `yaml:"queue"`
	// Connectors configures each destination; an absent one is disabled.
	Connectors ConnectorsConfig `yaml:"connectors"`
	// Mandates enables the mandates API (/v1/mandates).
	Mandates MandatesConfig `yaml:"mandates"`
	// Profiles configures profile lookups (POST /v1/profiles:lookup, GET
	// /v1/profiles/{id}) and the platforms they pull from. Lookups are on
	// when mandates are (mandates.person_key): person references bind each
	// lookup to its mandate or consent.
	Profiles ProfilesConfig `yaml:"profiles"`
	// Reports enables activity reports (/v1/reports): TDDUI chunk size,
	// the routes of each output to a destination (connectors), the
	// establishments that are crèches. Absent (the default): disabled, the
	// routes answer 503 reports_not_configured.
	Reports *report.Config `yaml:"reports"`
	// Log sets the log level and format.
	Log LogConfig `yaml:"log"`
	// Identity configures browser sign-in (/auth, /compte); without
	// providers those routes are off.
	Identity IdentityConfig `yaml:"identity"`
}

// IdentityConfig configures the OpenID Providers people sign in with and
// their browser sessions.
type IdentityConfig struct {
	// Providers are the relying parties, one per provider; their Name routes
	// /auth/{name}/login. Default: none (sign-in off).
	Providers []oidc.Config `yaml:"providers"`
	// SessionTTL caps every browser session (each lives as long as its
	// provider's own session within it). Default 12h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// SecureCookies sets Secure on the session and login cookies. Default
	// true; only the sandbox, on plain HTTP over loopback, turns it off.
	SecureCookies *bool `yaml:"secure_cookies"`
	// Tenant is the name of the tenant FranceConnect consents are recorded
	// for. Default "demo". Consents are keyed by person references under
	// mandates.person_key, which sign-in therefore requires.
	Tenant string `yaml:"tenant"`
	// EncryptionKeyFile is the JWK Set of Relais' private decryption keys
	// (FranceConnect+); their public halves are served at
	// /.well-known/jwks.json. Default: none.
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// ConsentTTL is how long a consent given at a FranceConnect login
	// lasts. Default 24h.
	ConsentTTL time.Duration `yaml:"consent_ttl"`
	// SandboxSMSOutbox serves /pro/sandbox/sms, where professionals read
	// the SMS the gateway would have sent (the mandates' confirmation
	// codes). Default false; only `relais sandbox` sets it, and it is
	// refused with secure_cookies, so never in production.
	SandboxSMSOutbox bool `yaml:"sandbox_sms_outbox"`
	// MaxPendingLogins bounds the logins started and not yet come back,
	// across replicas: past it, new logins are refused until some expire
	// (10 min). Default 10000.
	MaxPendingLogins int `yaml:"max_pending_logins"`
	// MaxSessions bounds the live browser sessions, across replicas.
	// Default 100000.
	MaxSessions int `yaml:"max_sessions"`
	// PurgeInterval is how often expired pending logins, sessions and
	// access tokens are deleted from the store. Default 1m.
	PurgeInterval time.Duration `yaml:"purge_interval"`
}

// StoreConfig selects the database.
type StoreConfig struct {
	// Driver is "sqlite" (default, embedded) or "postgres" (several replicas).
	Driver string `yaml:"driver"`
	// DSN is the SQLite file path (default "relais-data/relais.db") or the
	// PostgreSQL connection string. It is a secret: it may hold a password.
	DSN connectors.Secret `yaml:"dsn"`
	// MaxConns bounds the PostgreSQL pool. Default 20.
	MaxConns int32 `yaml:"max_conns"`
	// AutoMigrate applies pending migrations at start. Default true.
	AutoMigrate *bool `yaml:"auto_migrate"`
}

// EncryptionConfig holds the at-rest keys.
type EncryptionConfig struct {
	// Keys is "id:base64key[,id:base64key...]" of 32-byte AES keys. Required;
	// env RELAIS_ENCRYPTION_KEYS overrides it.
	Keys connectors.Secret `yaml:"keys"`
	// ActiveKey names the key that seals new data. Default: the first.
	ActiveKey string `yaml:"active_key"`
}

// MandatesConfig configures mandates held by professionals for a person.
type MandatesConfig struct {
	// PersonKey keys the HMAC that turns a person's identity traits into
	// the opaque reference used to find their mandates (person_ref): at
	// least 32 bytes, and never rotated, since a new key changes every
	// reference. Empty (the default) disables the mandates API, which then
	// answers 503 mandates_not_configured. Env RELAIS_MANDATES_PERSON_KEY
	// overrides it.
	PersonKey connectors.Secret `yaml:"person_key"`
}

// QueueConfig tunes River.
type QueueConfig struct {
	// Workers is the number of deliveries worked at once. Default 50.
	Workers int `yaml:"workers"`
	// JobTimeout bounds one delivery attempt. Default 1m.
	JobTimeout time.Duration `yaml:"job_timeout"`
	// RescueAfter is when a job whose process died is worked again.
	// Default JobTimeout + 30s.
	RescueAfter time.Duration `yaml:"rescue_after"`
	// FetchCooldown is the shortest pause between two fetches. Default 20ms.
	FetchCooldown time.Duration `yaml:"fetch_cooldown"`
	// FetchPollInterval is how often idle workers look for jobs. Default 200ms.
	FetchPollInterval time.Duration `yaml:"fetch_poll_interval"`
	// JournalSealInterval is how often the journal is hash-chained. Default 5s.
	JournalSealInterval time.Duration `yaml:"journal_seal_interval"`
}

// ConnectorsConfig configures each destination.
type ConnectorsConfig struct {
	// Coffrefort is the digital safe (Reconnect-like API v3).
	Coffrefort *coffrefort.Config `yaml:"coffrefort"`
	// CAFPSU is the CAF's PSU declaration API (crèches), named cafpsu.
	CAFPSU *cafpsu.Config `yaml:"cafpsu"`
	// TDDUI is the authority's TDDUI receiver (FHIR transaction Bundles of
	// activity), named tddui. Default: none.
	TDDUI *tddui.Config `yaml:"tddui"`
	// Indicateurs is the indicator report endpoint (yearly indicators per
	// establishment), named indicateurs. Default: none.
	Indicateurs *indicateurs.Config `yaml:"indicateurs"`
}

// ProfilesConfig configures profile lookups and their sources.
type ProfilesConfig struct {
	// Lookup tunes lookups and their prefills: deadline (default 10s),
	// ttl (15m), gone_for (24h), purge_interval (1m).
	Lookup profile.Config `yaml:"lookup"`
	// APIParticulier is the API Particulier source, named apiparticulier:
	// CAF/MSA rights and quotient familial, France Travail statut and
	// indemnités. Absent (the default): disabled.
	APIParticulier *apiparticulier.Config `yaml:"apiparticulier"`
	// FranceTravail is the France Travail partner API source, named
	// francetravail. Absent (the default): disabled.
	FranceTravail *francetravail.Config `yaml:"francetravail"`
}

// LogConfig sets logging.
type LogConfig struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is "text" (default) or "json".
	Format string `yaml:"format"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.DSN == "" && c.Store.Driver == "sqlite" {
		c.Store.DSN = "relais-data/relais.db"
	}
	if c.Store.MaxConns == 0 {
		c.Store.MaxConns = 20
	}
	if c.Store.AutoMigrate == nil {
		t := true
		c.Store.AutoMigrate = &t
	}
	c.API = c.API.WithDefaults()
	c.Delivery = c.Delivery.WithDefaults()
	if c.Queue.Workers == 0 {
		c.Queue.Workers = 50
	}
	if c.Queue.JobTimeout == 0 {
		c.Queue.JobTimeout = time.Minute
	}
	if c.Queue.RescueAfter == 0 {
		c.Queue.RescueAfter = c.Queue.JobTimeout + 30*time.Second
	}
	if c.Queue.FetchCooldown == 0 {
		c.Queue.FetchCooldown = 20 * time.Millisecond
	}
	if c.Queue.FetchPollInterval == 0 {
		c.Queue.FetchPollInterval = 200 * time.Millisecond
	}
	if c.Queue.JournalSealInterval == 0 {
		c.Queue.JournalSealInterval = 5 * time.Second
	}
	c.Connectors.Coffrefort = withDefaults(c.Connectors.Coffrefort)
	c.Connectors.CAFPSU = withDefaults(c.Connectors.CAFPSU)
	c.Connectors.TDDUI = withDefaults(c.Connectors.TDDUI)
	c.Connectors.Indicateurs = withDefaults(c.Connectors.Indicateurs)
	c.Reports = withDefaults(c.Reports)
	c.Profiles.Lookup = c.Profiles.Lookup.WithDefaults()
	c.Profiles.APIParticulier = withDefaults(c.Profiles.APIParticulier)
	c.Profiles.FranceTravail = withDefaults(c.Profiles.FranceTravail)
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	for i, p := range c.Identity.Providers {
		c.Identity.Providers[i] = p.WithDefaults()
	}
	if c.Identity.SessionTTL == 0 {
		c.Identity.SessionTTL = 12 * time.Hour
	}
	if c.Identity.SecureCookies == nil {
		t := true
		c.Identity.SecureCookies = &t
	}
	if c.Identity.Tenant == "" {
		c.Identity.Tenant = "demo"
	}
	if c.Identity.ConsentTTL == 0 {
		c.Identity.ConsentTTL = 24 * time.Hour
	}
	if c.Identity.MaxPendingLogins == 0 {
		c.Identity.MaxPendingLogins = oidc.DefaultPendingMax
	}
	if c.Identity.MaxSessions == 0 {
		c.Identity.MaxSessions = DefaultMaxSessions
	}
	if c.Identity.PurgeInterval == 0 {
		c.Identity.PurgeInterval = time.Minute
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	return c
}

// Validate names the first faulty field.
func (c Config) Validate() error {
	switch {
	case c.Store.Driver != "sqlite" && c.Store.Driver != "postgres":
		return errors.New(`store.driver: must be "sqlite" or "postgres"`)
	case c.Store.DSN == "":
		return errors.New("store.dsn: is required")
	case c.Encryption.Keys == "":
		return errors.New("encryption.keys: is required (or set RELAIS_ENCRYPTION_KEYS)")
	case c.Mandates.PersonKey != "" && len(c.Mandates.PersonKey) < mandate.MinPersonKey:
		return fmt.Errorf("mandates.person_key: must be at least %d bytes", mandate.MinPersonKey)
	case c.Queue.Workers < 1 || c.Queue.Workers > 10000:
		return errors.New("queue.workers: must be between 1 and 10000")
	case c.Queue.RescueAfter <= c.Queue.JobTimeout:
		return errors.New("queue.rescue_after: must exceed queue.job_timeout")
	case !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level):
		return errors.New("log.level: must be debug, info, warn or error")
	case !slices.Contains([]string{"text", "json"}, c.Log.Format):
		return errors.New(`log.format: must be "text" or "json"`)
	}
	if err := c.Delivery.Validate(); err != nil {
		return err
	}
	for _, err := range []error{
		validateOptional("connectors.coffrefort", c.Connectors.Coffrefort),
		validateOptional("connectors.cafpsu", c.Connectors.CAFPSU),
		validateOptional("connectors.tddui", c.Connectors.TDDUI),
		validateOptional("connectors.indicateurs", c.Connectors.Indicateurs),
	} {
		if err != nil {
			return err
		}
	}
	if c.Reports != nil {
		if err := c.Reports.Validate(); err != nil {
			return err
		}
	}
	if err := c.Profiles.validate(); err != nil {
		return err
	}
	return c.Identity.validate(c.Mandates.PersonKey)
}

func (c ProfilesConfig) validate() error {
	if err := c.Lookup.Validate(); err != nil {
		return fmt.Errorf("profiles.lookup.%w", err)
	}
	if err := validateOptional("profiles.apiparticulier", c.APIParticulier); err != nil {
		return err
	}
	return validateOptional("profiles.francetravail", c.FranceTravail)
}

// withDefaults returns a copy of the optional part *p with its defaults,
// or nil when the part is left out.
func withDefaults[T interface{ WithDefaults() T }](p *T) *T {
	if p == nil {
		return nil
	}
	v := (*p).WithDefaults()
	return &v
}

// validateOptional validates the optional part *p when it is there, its
// faulty field named under prefix.
func validateOptional[T interface{ Validate() error }](prefix string, p *T) error {
	if p == nil {
		return nil
	}
	return connectors.PrefixConfigError(prefix, (*p).Validate())
}

func (c IdentityConfig) validate(personKey connectors.Secret) error {
	if c.SandboxSMSOutbox && (c.SecureCookies == nil || *c.SecureCookies) {
		return errors.New("identity.sandbox_sms_outbox: is for the sandbox only, on plain HTTP (identity.secure_cookies: false)")
	}
	if len(c.Providers) == 0 {
		return nil
	}
	names := map[string]bool{}
	for i, p := range c.Providers {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("identity.providers[%d]: %w", i, err)
		}
		if names[p.Name] {
			return fmt.Errorf("identity.providers[%d].name: %q is used twice", i, p.Name)
		}
		names[p.Name] = true
	}
	if len(personKey) < mandate.MinPersonKey {
		return errors.New("mandates.person_key: is required with identity.providers (consents are keyed by person references)")
	}
	if c.SessionTTL < time.Minute {
		return errors.New("identity.session_ttl: must be at least 1m")
	}
	if c.ConsentTTL < time.Minute {
		return errors.New("identity.consent_ttl: must be at least 1m")
	}
	if c.MaxPendingLogins < 1 {
		return errors.New("identity.max_pending_logins: must be at least 1")
	}
	if c.MaxSessions < 1 {
		return errors.New("identity.max_sessions: must be at least 1")
	}
	if c.PurgeInterval < time.Second {
		return errors.New("identity.purge_interval: must be at least 1s")
	}
	return nil
}

// LoadConfig reads a YAML file strictly (unknown keys are errors), applies
// the environment, defaults, and validates.
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parsing config %s: %w", path, err)
	}
	c = c.ApplyEnv(os.Getenv).WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ApplyEnv overrides c with RELAIS_LISTEN, RELAIS_STORE_DRIVER,
// RELAIS_STORE_DSN, RELAIS_ENCRYPTION_KEYS, RELAIS_MANDATES_PERSON_KEY and
// RELAIS_LOG_LEVEL when set.
func (c Config) ApplyEnv(getenv func(string) string) Config {
	set := func(dst *string, name string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	set(&c.Listen, "RELAIS_LISTEN")
	set(&c.Store.Driver, "RELAIS_STORE_DRIVER")
	dsn, keys := string(c.Store.DSN), string(c.Encryption.Keys)
	set(&dsn, "RELAIS_STORE_DSN")
	set(&keys, "RELAIS_ENCRYPTION_KEYS")
	c.Store.DSN, c.Encryption.Keys = connectors.Secret(dsn), connectors.Secret(keys)
	personKey := string(c.Mandates.PersonKey)
	set(&personKey, "RELAIS_MANDATES_PERSON_KEY")
	c.Mandates.PersonKey = connectors.Secret(personKey)
	set(&c.Log.Level, "RELAIS_LOG_LEVEL")
	return c
}
