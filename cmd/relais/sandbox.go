package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/gateway"
	rpoidc "github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/vault"
	"github.com/relais-dev/relais/mocks"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/idp"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
	"github.com/relais-dev/relais/mocks/platform"
)

// sandboxTenant is the demo tenant the sandbox creates.
const sandboxTenant = "demo"

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
type sandbox struct {
	gateway *gateway.Gateway
	mocks   []startedMock
	// idps are the mock OpenID Providers people sign in with.
	idps    []*mocks.Running
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
	sb = &sandbox{}
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = sb.Stop(stopCtx)
		}
	}()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Every platform of the catalog, each on its own loopback port.
	sb.mocks, err = startMocks(catalog(), "127.0.0.1", opts.Faults, logger)
	if err != nil {
		return nil, err
	}
	safe, ok := sb.mock("coffrefort")
	if !ok {
		return nil, errors.New("the catalog has no coffrefort mock")
	}

	// The gateway's address comes first: the identity providers' clients
	// are registered with its callback URLs.
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", opts.Listen, err)
	}
	sb.baseURL = "http://" + ln.Addr().String()
	providers, err := sb.startIdentityProviders(sb.baseURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	insecure := false // plain HTTP on loopback: no Secure cookies
	cfg := gateway.Config{
		Listen:     opts.Listen,
		Identity:   gateway.IdentityConfig{Providers: providers, SecureCookies: &insecure},
		Store:      gateway.StoreConfig{Driver: "sqlite", DSN: connectors.Secret(filepath.Join(opts.DataDir, "relais.db"))},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(keys)},
		Mandates:   gateway.MandatesConfig{PersonKey: connectors.Secret(personKey)},
		Connectors: gateway.ConnectorsConfig{Coffrefort: &coffrefort.Config{
			BaseURL: safe.URL, ClientID: mockcoffrefort.DefaultClientID, ClientSecret: mockcoffrefort.DefaultClientSecret,
		}},
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

	tenant, err := g.Store().EnsureTenant(ctx, sandboxTenant)
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
	for _, r := range sb.idps {
		errs = append(errs, r.Stop(ctx))
	}
	sb.idps = nil
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
	fmt.Fprintf(w, "  Locataire de démo     %s\n", sandboxTenant)
	fmt.Fprintf(w, "  Clé d'API             %s\n\n", sb.apiKey)
	fmt.Fprintf(w, "Plateformes simulées :\n")
	for _, m := range sb.mocks {
		fmt.Fprintf(w, "  %-20s  %s   (pilotage : %s/_mock/faults)\n", m.Name, m.URL, m.URL)
	}
	fmt.Fprintf(w, "\nConnexion des personnes (fournisseurs d'identité simulés) :\n")
	for _, r := range sb.idps {
		fmt.Fprintf(w, "  %-20s  %s\n", r.Name, r.URL)
	}
	fmt.Fprintf(w, "  Se connecter avec FranceConnect : %s/auth/franceconnect/login?return_to=%%2Fcompte\n", sb.baseURL)
	fmt.Fprintf(w, "  Se connecter avec ProConnect    : %s/auth/proconnect/login?return_to=%%2Fcompte\n", sb.baseURL)
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

// startIdentityProviders serves the mock FranceConnect and ProConnect
// (mocks/oidc), each on its own loopback port, with the gateway at baseURL
// registered as their client, and returns the gateway's relying-party
// configuration for them.
func (sb *sandbox) startIdentityProviders(baseURL string) ([]rpoidc.Config, error) {
	var out []rpoidc.Config
	for _, p := range []struct {
		profile idp.Profile
		rp      rpoidc.Profile
		scopes  []string
	}{
		{idp.FranceConnect(), rpoidc.ProfileFranceConnect, []string{"openid", "identite_pivot", "email"}},
		{idp.ProConnect(), rpoidc.ProfileProConnect, []string{"openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id", "organizational_unit"}},
	} {
		// The provider's issuer holds its port: serve first, then build it.
		var prov atomic.Pointer[mockoidc.Provider]
		r, err := mocks.Serve(p.profile.Name+"-oidc", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if h := prov.Load(); h != nil {
				h.ServeHTTP(w, req)
				return
			}
			http.Error(w, "provider starting", http.StatusServiceUnavailable)
		}))
		if err != nil {
			return nil, err
		}
		sb.idps = append(sb.idps, r)
		redirect := baseURL + "/auth/" + p.profile.Name + "/callback"
		loggedOut := baseURL + "/auth/logged-out"
		op, err := mockoidc.New(p.profile, mockoidc.Options{
			Issuer: r.URL + p.profile.IssuerPath,
			Clients: []mockoidc.Client{{
				ID: sandboxOIDCClientID, Secret: sandboxOIDCClientSecret,
				RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{loggedOut},
			}},
		})
		if err != nil {
			return nil, fmt.Errorf("building the mock %s provider: %w", p.profile.Name, err)
		}
		prov.Store(op)
		out = append(out, rpoidc.Config{
			Name: p.profile.Name, Profile: p.rp, IssuerURL: op.Issuer(), ClientID: sandboxOIDCClientID,
			ClientSecret: connectors.Secret(sandboxOIDCClientSecret), RedirectURL: redirect,
			PostLogoutRedirectURL: loggedOut, Scopes: p.scopes,
		})
	}
	return out, nil
}
