package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/cafpsu"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/connectors/indicateurs"
	"github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/gateway"
	rpoidc "github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
	mockapiparticulier "github.com/relais-dev/relais/mocks/apiparticulier"
	mockcafpsu "github.com/relais-dev/relais/mocks/cafpsu"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	mockfrancetravail "github.com/relais-dev/relais/mocks/francetravail"
	mockindicateurs "github.com/relais-dev/relais/mocks/indicateurs"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
	"github.com/relais-dev/relais/mocks/platform"
	mocktddui "github.com/relais-dev/relais/mocks/tddui"
)

// sandboxTenant is the demo tenant the sandbox creates, registered with
// the SIRET of the mock ProConnect's first professional (Sophie Garnier,
// CCAS) so that she signs in to the professional space; the second
// (Karim Benali) has another SIRET and is shown that his organisation is
// not registered.
const sandboxTenant = "demo"

// sandboxFINESS is the establishment whose activity reports the sandbox
// delivers (the CAF mock's sandbox crèche, the indicator mock's sandbox).
const sandboxFINESS = mockindicateurs.SandboxFINESS

// sandboxCAFSIRET is the SIRET of the CAF mock's sandbox crèche.
const sandboxCAFSIRET = "99000001000019"

// sandboxSIRET is the demo tenant's SIRET.
var sandboxSIRET = mockoidc.Professionals()[0].SIRET

func runSandbox(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("sandbox", e)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the gateway API")
	dataDir := fs.String("data", "relais-data", "directory of the embedded SQLite store and the sandbox's keys")
	faultsFile := fs.String("faults", "", "YAML or JSON file of faults per mock platform (as for relais mocks)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	faults, err := loadFaultsFile(*faultsFile, catalog())
	if err != nil {
		return err
	}
	// The sandbox's console is for people: warnings only, unless asked.
	logger := mockLogger(e)

	sb, err := startSandbox(ctx, sandboxOptions{Listen: *listen, DataDir: *dataDir, APIKey: e.getenv("RELAIS_SANDBOX_API_KEY"), Faults: faults, Logger: logger})
	if err != nil {
		return err
	}
	sb.printWelcome(e.stdout)
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "\nArrêt du bac à sable…")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return sb.Stop(stopCtx)
}

type sandboxOptions struct {
	Listen, DataDir, APIKey string
	// Faults are injected into the mocks from the start, by platform name.
	Faults map[string]platform.Faults
	Logger *slog.Logger
}

// sandbox is a gateway wired to every mock platform, with a demo tenant.
// People sign in through the mocks of the identity providers.
type sandbox struct {
	gateway *gateway.Gateway
	mocks   []startedMock
	apiKey  string
	baseURL string
}

func startSandbox(ctx context.Context, opts sandboxOptions) (sb *sandbox, err error) {
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	keys, err := sandboxKeys(filepath.Join(opts.DataDir, "encryption-keys"))
	if err != nil {
		return nil, err
	}
	personKey, err := sandboxPersonKey(filepath.Join(opts.DataDir, "person-key"))
	if err != nil {
		return nil, err
	}
	identityKeys := filepath.Join(opts.DataDir, "identity-keys.json")
	if err := sandboxIdentityKeys(identityKeys); err != nil {
		return nil, err
	}
	// started, not sb: a failing return sets sb to nil.
	started := &sandbox{}
	sb = started
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = started.Stop(stopCtx)
		}
	}()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The gateway's address comes first: the identity providers' clients
	// are registered with its callback URLs.
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", opts.Listen, err)
	}
	sb.baseURL = "http://" + ln.Addr().String()
	// Every platform of the catalog, each on its own loopback port; the
	// identity providers know the gateway as their client.
	cat, err := sandboxCatalog(sb.baseURL, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if sb.mocks, err = startMocks(cat, "127.0.0.1", opts.Faults, logger); err != nil {
		ln.Close()
		return nil, err
	}
	safe, ok := sb.mock("coffrefort")
	if !ok {
		ln.Close()
		return nil, errors.New("the catalog has no coffrefort mock")
	}
	ap, _ := sb.mock("apiparticulier")
	ft, _ := sb.mock("francetravail")
	// Activity reports go to the TDDUI receiver, the CAF declaration API
	// (the sandbox crèche, FINESS sandboxFINESS) and the indicator endpoint.
	fhir, _ := sb.mock("tddui")
	caf, _ := sb.mock("cafpsu")
	ind, _ := sb.mock("indicateurs")
	providers := sb.relyingParties()
	insecure := false // plain HTTP on loopback: no Secure cookies
	cfg := gateway.Config{
		Listen:     opts.Listen,
		Identity:   gateway.IdentityConfig{Providers: providers, SecureCookies: &insecure, EncryptionKeyFile: identityKeys, SandboxSMSOutbox: true},
		Store:      gateway.StoreConfig{Driver: "sqlite", DSN: connectors.Secret(filepath.Join(opts.DataDir, "relais.db"))},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(keys)},
		Mandates:   gateway.MandatesConfig{PersonKey: connectors.Secret(personKey)},
		Connectors: gateway.ConnectorsConfig{
			Coffrefort: &coffrefort.Config{
				BaseURL: safe.URL, ClientID: mockcoffrefort.DefaultClientID, ClientSecret: mockcoffrefort.DefaultClientSecret,
			},
			TDDUI: &tddui.Config{BaseURL: fhir.URL, Token: connectors.Secret(mocktddui.DefaultToken)},
			CAFPSU: &cafpsu.Config{
				BaseURL: caf.URL, ClientID: mockcafpsu.DefaultClientID, ClientSecret: connectors.Secret(mockcafpsu.DefaultClientSecret),
				Structures: []cafpsu.Structure{{FINESS: sandboxFINESS, PartnerNumber: mockcafpsu.PartnerSandbox}},
			},
			Indicateurs: &indicateurs.Config{BaseURL: ind.URL, Token: connectors.Secret(mockindicateurs.DefaultToken)},
		},
		// Every output of an activity report goes to its mock; the demo
		// establishment is the CAF mock's sandbox crèche (known by its
		// SIRET only, declarations taken at any date).
		Reports: &report.Config{
			Routes: []report.Route{
				{Output: connectors.ReportTDDUIBundle, Destination: "tddui"},
				{Output: connectors.ReportIndicators, Destination: "indicateurs"},
				{Output: connectors.ReportPSUDeclaration, Destination: "cafpsu"},
			},
			Establishments: []report.Establishment{{
				FINESS: sandboxFINESS, Name: "Crèche d'essai (bac à sable)", Creche: true, Capacity: 20,
				SIRET: sandboxCAFSIRET, CAFWithoutFINESS: true,
			}},
		},
		// Lookups pull from the mocks of API Particulier and France Travail.
		Profiles: gateway.ProfilesConfig{
			APIParticulier: &apiparticulier.Config{BaseURL: ap.URL, Token: connectors.Secret(mockapiparticulier.DefaultToken)},
			FranceTravail: &francetravail.Config{BaseURL: ft.URL, ClientID: mockfrancetravail.DefaultClientID,
				ClientSecret: connectors.Secret(mockfrancetravail.DefaultClientSecret)},
		},
	}
	g, err := gateway.New(ctx, cfg, gateway.Deps{Logger: opts.Logger, Listener: ln})
	if err != nil {
		ln.Close()
		return nil, err
	}
	sb.gateway = g
	if err := g.Start(ctx, true); err != nil {
		return nil, err
	}
	sb.baseURL = "http://" + g.Addr()

	created, err := g.Store().CreateTenant(ctx, store.NewTenant{Name: sandboxTenant, SIRET: sandboxSIRET, FINESS: sandboxFINESS}, store.ActorCLI)
	tenant := created.Tenant
	if errors.Is(err, store.ErrTenantExists) { // the data directory of an earlier run
		tenant, err = g.Store().TenantByName(ctx, sandboxTenant)
	}
	if err != nil {
		return nil, err
	}
	if opts.APIKey != "" {
		if _, err := g.Store().EnsureAPIKey(ctx, tenant.ID, "sandbox", opts.APIKey); err != nil {
			return nil, fmt.Errorf("RELAIS_SANDBOX_API_KEY: %w", err)
		}
		sb.apiKey = opts.APIKey
	} else {
		_, sb.apiKey, err = g.Store().CreateAPIKey(ctx, tenant.ID, "sandbox", "")
		if err != nil {
			return nil, err
		}
	}
	return sb, nil
}

// sandboxKeys reads the sandbox's encryption keys, generating them on
// first run, so its store stays readable across restarts.
func sandboxKeys(path string) (string, error) {
	return sandboxSecret(path, "encryption keys", func() string { return vault.GenerateKeySpec("sandbox1") })
}

// sandboxPersonKey reads the key of the sandbox's person references
// (mandates), generating it on first run: a new key would change every
// reference already handed out.
func sandboxPersonKey(path string) (string, error) {
	return sandboxSecret(path, "person-reference key", func() string { return rand.Text() + rand.Text() })
}

// sandboxSecret reads the secret kept in path, or generates and keeps one.
func sandboxSecret(path, what string, generate func() string) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading the sandbox's %s: %w", what, err)
	}
	secret := generate()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the sandbox's %s: %w", what, err)
	}
	return secret, nil
}

// Stop stops the gateway, then the mocks. It is idempotent.
func (sb *sandbox) Stop(ctx context.Context) error {
	var errs []error
	if sb.gateway != nil {
		errs = append(errs, sb.gateway.Stop(ctx))
	}
	errs = append(errs, stopMocks(ctx, sb.mocks))
	sb.mocks = nil
	return errors.Join(errs...)
}

// mock returns the running mock of the platform named name.
func (sb *sandbox) mock(name string) (startedMock, bool) {
	for _, m := range sb.mocks {
		if m.Name == name {
			return m, true
		}
	}
	return startedMock{}, false
}

const sandboxExample = `{"destinations":["coffrefort"],"document_deposit":{"beneficiary":{"distant_id":"usager-0042","first_name":"Amélie","last_name":"Poulain","birth_date":"1984-09-03"},"document":{"kind":"attestation_caf","title":"Attestation de paiement CAF","file_name":"attestation.pdf","media_type":"application/pdf","visibility":"private"},"content":"JVBERi0xLjQKJcOkw7zDtsOfCg=="}}`

func (sb *sandbox) printWelcome(w io.Writer) {
	fmt.Fprintf(w, "Relais : bac à sable prêt.\n\n")
	fmt.Fprintf(w, "  Passerelle (API v1)   %s\n", sb.baseURL)
	fmt.Fprintf(w, "  Description OpenAPI   %s/v1/openapi.json\n", sb.baseURL)
	fmt.Fprintf(w, "  Métriques             %s/metrics\n", sb.baseURL)
	fmt.Fprintf(w, "  Locataire de démo     %s (SIRET %s)\n", sandboxTenant, sandboxSIRET)
	fmt.Fprintf(w, "  Espace professionnel  %s/pro (ProConnect : sophie.garnier ; SMS envoyés : %s/pro/sandbox/sms)\n", sb.baseURL, sb.baseURL)
	fmt.Fprintf(w, "  Clé d'API             %s\n\n", sb.apiKey)
	fmt.Fprintf(w, "Plateformes simulées :\n")
	for _, m := range sb.mocks {
		fmt.Fprintf(w, "  %-20s  %s   (pilotage : %s/_mock/faults)\n", m.Name, m.URL, m.URL)
	}
	fmt.Fprintf(w, "\nConnexion des personnes (fournisseurs d'identité simulés, utilisateurs de test sur leur page) :\n")
	for _, p := range sandboxSignIn() {
		fmt.Fprintf(w, "  Se connecter avec %-18s %s\n", p.label, sb.signInURL(p.name))
	}
	fmt.Fprintf(w, "\nDéposer un document dans le coffre-fort numérique :\n\n")
	fmt.Fprintf(w, "  curl -sS -X POST %s/v1/submissions \\\n", sb.baseURL)
	fmt.Fprintf(w, "    -H 'Authorization: Bearer %s' \\\n", sb.apiKey)
	fmt.Fprintf(w, "    -H \"Idempotency-Key: demo-$(date +%%s)\" -H 'Content-Type: application/json' \\\n")
	fmt.Fprintf(w, "    -d '%s'\n\n", sandboxExample)
	fmt.Fprintf(w, "Puis suivre la livraison : curl -sS -H 'Authorization: Bearer %s' %s/v1/submissions/<id>\n", sb.apiKey, sb.baseURL)
	fmt.Fprintf(w, "Ctrl+C pour arrêter.\n")
}

// The sandbox's client at its mock identity providers.
const (
	sandboxOIDCClientID     = "relais-sandbox"
	sandboxOIDCClientSecret = "relais-sandbox-client-secret"
)

// signInProvider is an identity provider of the sandbox: its mock in the
// catalog (name) and the gateway's relying party for it.
type signInProvider struct {
	name, label string
	mock        func() mockoidc.Profile
	profile     rpoidc.Profile
	scopes      []string
}

// sandboxSignIn lists the identity providers people sign in with, in the
// order the welcome prints them.
func sandboxSignIn() []signInProvider {
	return []signInProvider{
		{"franceconnect", "FranceConnect", mockoidc.FranceConnect, rpoidc.ProfileFranceConnect, []string{"openid", "identite_pivot", "email"}},
		{"franceconnectplus", "FranceConnect+", mockoidc.FranceConnectPlus, rpoidc.ProfileFranceConnectPlus, []string{"openid", "identite_pivot", "email"}},
		{"proconnect", "ProConnect", mockoidc.ProConnect, rpoidc.ProfileProConnect,
			[]string{"openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id", "organizational_unit"}},
		{"prosanteconnect", "Pro Santé Connect", mockoidc.ProSanteConnect, rpoidc.ProfileProSanteConnect, []string{"openid", "scope_all"}},
	}
}

// signInURL is where a person starts signing in with the provider name.
func (sb *sandbox) signInURL(name string) string {
	return sb.baseURL + "/auth/" + name + "/login?return_to=%2Fcompte"
}

// sandboxCatalog is the catalog whose identity providers know the gateway
// at baseURL as their client: its callback and logout pages, and its JWKS,
// where FranceConnect+ finds the key it encrypts tokens to.
func sandboxCatalog(baseURL string, logger *slog.Logger) ([]entry, error) {
	cat := catalog()
	for i, en := range cat {
		if en.signIn == nil {
			continue
		}
		m, err := en.signIn(logger.With("mock", en.name), []mockoidc.Client{{
			ID: sandboxOIDCClientID, Secret: sandboxOIDCClientSecret,
			RedirectURIs:           []string{baseURL + "/auth/" + en.name + "/callback"},
			PostLogoutRedirectURIs: []string{baseURL + "/auth/logged-out"},
			JWKSURL:                baseURL + "/.well-known/jwks.json",
		}})
		if err != nil {
			return nil, err
		}
		cat[i].mock = func(*slog.Logger) mockInstance { return m }
	}
	return cat, nil
}

// relyingParties is the gateway's configuration of the running mock
// identity providers.
func (sb *sandbox) relyingParties() []rpoidc.Config {
	var out []rpoidc.Config
	for _, p := range sandboxSignIn() {
		m, ok := sb.mock(p.name)
		if !ok {
			continue
		}
		out = append(out, rpoidc.Config{
			Name: p.name, Profile: p.profile, IssuerURL: m.URL + p.mock().IssuerPath, ClientID: sandboxOIDCClientID,
			ClientSecret: connectors.Secret(sandboxOIDCClientSecret), RedirectURL: sb.baseURL + "/auth/" + p.name + "/callback",
			PostLogoutRedirectURL: sb.baseURL + "/auth/logged-out", Scopes: p.scopes,
		})
	}
	return out
}

// sandboxIdentityKeys makes sure path holds the gateway's private
// decryption keys (a JWK Set, identity.encryption_key_file), generating
// them on first run: FranceConnect+ encrypts tokens to their public
// halves, served at /.well-known/jwks.json.
func sandboxIdentityKeys(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading the sandbox's identity keys: %w", err)
	}
	keys, err := rpoidc.GenerateDecryptionKeys()
	if err != nil {
		return err
	}
	raw, err := keys.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding the sandbox's identity keys: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("writing the sandbox's identity keys: %w", err)
	}
	return nil
}
