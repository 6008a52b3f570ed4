package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/gateway/identity/oidc"
)

func validConfig() oidc.Config {
	return oidc.Config{
		Profile: oidc.ProfileFranceConnect, IssuerURL: "https://fc.example/api/v2",
		ClientID: "id", ClientSecret: "secret", RedirectURL: "https://relais.example/auth/fc/callback",
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := validConfig().WithDefaults()
	if c.Name != "franceconnect" || c.Leeway != 30*time.Second || c.MinACR != "eidas1" ||
		c.ClientAuth != oidc.AuthClientSecretPost || c.Scopes[0] != "openid" || c.ACRValues[0] != "eidas1" {
		t.Fatalf("defaults = %+v", c)
	}
	p := validConfig()
	p.Profile = oidc.ProfileFranceConnectPlus
	p = p.WithDefaults()
	if !p.Encrypted || p.MinACR != "eidas2" {
		t.Fatalf("FC+ defaults = %+v", p)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "secret") && !strings.Contains(s, "***") {
		t.Fatalf("config prints its secret: %s", s)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*oidc.Config){
		"profile":       func(c *oidc.Config) { c.Profile = "facebook" },
		"issuer_url":    func(c *oidc.Config) { c.IssuerURL = "fc.example" },
		"client_id":     func(c *oidc.Config) { c.ClientID = "" },
		"client_secret": func(c *oidc.Config) { c.ClientSecret = "" },
		"client_auth":   func(c *oidc.Config) { c.ClientAuth = "private_key_jwt" },
		"redirect_url":  func(c *oidc.Config) { c.RedirectURL = "https://relais.example/cb#frag" },
		"min_acr":       func(c *oidc.Config) { c.MinACR = "substantial" },
		"leeway":        func(c *oidc.Config) { c.Leeway = time.Hour },
	}
	for field, mutate := range cases {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			mutate(&c)
			err := c.WithDefaults().Validate()
			if err == nil || !strings.HasPrefix(err.Error(), field+":") {
				t.Fatalf("Validate() = %v, want an error on %s", err, field)
			}
		})
	}
	if err := validConfig().WithDefaults().Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestACRScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, minimum string
		ok           bool
	}{
		{"eidas1", "eidas1", true}, {"eidas3", "eidas2", true}, {"eidas1", "eidas2", false},
		{"", "eidas1", false}, {"https://proconnect.gouv.fr/assurance/self-asserted", "eidas1", false},
		{"anything", "", true},
	} {
		if got := oidc.ACRAtLeast(tc.got, tc.minimum); got != tc.ok {
			t.Errorf("ACRAtLeast(%q, %q) = %v, want %v", tc.got, tc.minimum, got, tc.ok)
		}
	}
}

func TestMemoryPendingSingleUseTTLAndSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m := oidc.NewMemoryPending(time.Minute, 2, clk.Now)
	put := func(state string) error { return m.Put(ctx, oidc.Pending{State: state, Created: clk.Now()}) }
	if err := put("a"); err != nil {
		t.Fatal(err)
	}
	if err := put("b"); err != nil {
		t.Fatal(err)
	}
	if err := put("c"); !errors.Is(err, oidc.ErrPendingFull) {
		t.Fatalf("third Put = %v, want ErrPendingFull", err)
	}
	if p, err := m.Take(ctx, "a"); err != nil || p.State != "a" {
		t.Fatalf("Take(a) = %v, %v", p, err)
	}
	if _, err := m.Take(ctx, "a"); !errors.Is(err, oidc.ErrPendingNotFound) {
		t.Fatalf("second Take(a) = %v, want ErrPendingNotFound", err)
	}
	clk.Advance(time.Minute)
	if _, err := m.Take(ctx, "b"); !errors.Is(err, oidc.ErrPendingExpired) {
		t.Fatalf("Take(b) after TTL = %v, want ErrPendingExpired", err)
	}
	if err := put("d"); err != nil {
		t.Fatal(err)
	}
	if err := put("e"); err != nil {
		t.Fatalf("Put after sweep: %v", err)
	}
}

func TestDecryptionKeysFileAndJWKS(t *testing.T) {
	t.Parallel()
	keys, err := oidc.GenerateDecryptionKeys()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fcplus-keys.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := oidc.LoadDecryptionKeys(path)
	if err != nil {
		t.Fatalf("LoadDecryptionKeys: %v", err)
	}
	rec := httptest.NewRecorder()
	loaded.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("JWKS = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS body %s: %v", rec.Body, err)
	}
	k := set.Keys[0]
	if _, private := k["d"]; private || k["use"] != "enc" || k["alg"] != "ECDH-ES" || k["crv"] != "P-256" || k["kid"] == "" {
		t.Fatalf("published key = %v", k)
	}
	pub, err := oidc.ParseDecryptionKeys(rec.Body.Bytes())
	if err == nil || pub != nil {
		t.Fatal("a public JWKS was accepted as decryption keys")
	}
	// What the OP encrypts to the published key, the loaded key opens.
	plain, err := loaded.Decrypt(encryptTo(loaded.Public().Keys[0], "header.payload.signature"))
	if err != nil || string(plain) != "header.payload.signature" {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}
	rec = httptest.NewRecorder()
	loaded.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST JWKS = %d", rec.Code)
	}
}

func TestProviderMessages(t *testing.T) {
	t.Parallel()
	if oidc.ProviderMessage("access_denied") != "Vous avez annulé la connexion." {
		t.Fatal("access_denied message")
	}
	if oidc.ProviderMessage("Y000400") == "" || oidc.ProviderMessage("temporarily_unavailable") == oidc.ProviderMessage("access_denied") {
		t.Fatal("unknown or distinct provider codes")
	}
	for _, c := range []oidc.Code{oidc.CodeStateMismatch, oidc.CodeNonceMismatch, oidc.CodeBadSignature, oidc.CodeACRTooLow, oidc.CodeNotEncrypted} {
		if !strings.HasPrefix(string(c), "oidc_") || c.Message() == "" {
			t.Fatalf("code %q has no French message", c)
		}
	}
}

func TestNewDiscoveryFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c := validConfig()
	c.IssuerURL = srv.URL
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	_, err := oidc.New(t.Context(), c, oidc.Options{Pending: oidc.NewMemoryPending(0, 0, nil), HTTPClient: client})
	if oidc.CodeOf(err) != oidc.CodeDiscovery {
		t.Fatalf("New = %v, want %s", err, oidc.CodeDiscovery)
	}
}

// TestNewEncryptionKeys: an encrypted provider needs its keys, from
// encryption_key_file or from Options.Keys; Validate asks for neither, so
// keys given in code need no file.
func TestNewEncryptionKeys(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.Profile = oidc.ProfileFranceConnectPlus
	if err := c.WithDefaults().Validate(); err != nil {
		t.Fatalf("Validate() = %v: the keys may come from Options.Keys", err)
	}
	_, err := oidc.New(t.Context(), c, oidc.Options{Pending: oidc.NewMemoryPending(0, 0, nil)})
	if err == nil || !strings.Contains(err.Error(), "encryption_key_file: required") {
		t.Fatalf("New without keys = %v, want an error on encryption_key_file", err)
	}
}
