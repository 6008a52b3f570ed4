package oidc

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// documents serves a provider's public documents, the discovery document
// and the JWKS, on the shared mock runtime (mocks/platform): routed and
// checked by the provider's contract, with faults, counters and the
// /_mock/ control API. These are the two operations contracts/<provider>
// describes, and what `relais contracts verify` calls.
type documents struct {
	profile Profile
	issuer  func(*http.Request) string
	keys    *KeySet
	rt      *platform.Server
}

// validate names the first inconsistent field of p.
func (p Profile) validate() error {
	switch {
	case p.Name == "":
		return fmt.Errorf("oidc: Profile.Name is empty")
	case len(p.Contract) == 0:
		return fmt.Errorf("oidc: %s: Profile.Contract is empty", p.Name)
	case !strings.HasPrefix(p.IssuerPath, "/") || strings.HasSuffix(p.IssuerPath, "/"):
		return fmt.Errorf("oidc: %s: Profile.IssuerPath %q must start and not end with a slash", p.Name, p.IssuerPath)
	case len(p.KeyAlgorithms) == 0:
		return fmt.Errorf("oidc: %s: Profile.KeyAlgorithms is empty", p.Name)
	}
	return nil
}

// newDocuments builds the documents of p, whose issuer is issuer(r) for a
// request r. p's contract must describe the discovery and JWKS paths p
// names.
func newDocuments(p Profile, issuer func(*http.Request) string, keys *KeySet, now func() time.Time, logger *slog.Logger) (*documents, error) {
	d := &documents{profile: p, issuer: issuer, keys: keys}
	d.rt = platform.New(platform.Config{
		Name:     p.Name,
		Contract: p.Contract,
		Operations: map[string]http.Handler{
			"discovery": http.HandlerFunc(d.discovery),
			"jwks":      http.HandlerFunc(d.jwks),
		},
		Errors: writeError,
		Now:    now,
		Seed:   1,
		Logger: logger,
	})
	for id, path := range map[string]string{"discovery": p.DiscoveryPath, "jwks": p.JWKSPath} {
		item := d.rt.Contract().Paths.Find(p.IssuerPath + path)
		if item == nil || item.Get == nil || item.Get.OperationID != id {
			return nil, fmt.Errorf("oidc: %s: the contract has no GET %s%s named %q", p.Name, p.IssuerPath, path, id)
		}
	}
	return d, nil
}

func (d *documents) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.rt.ServeHTTP(w, r) }

func (d *documents) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, d.profile.Discovery(d.issuer(r)))
}

func (d *documents) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, d.keys.Public())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written is built by this package: failing to encode
		// one is a bug.
		panic(fmt.Sprintf("oidc: encoding %T: %v", v, err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone
}

// writeError is the platform.ErrorWriter: an OAuth 2.0 style error.
func writeError(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	code := "invalid_request"
	switch {
	case p.Status == http.StatusTooManyRequests, p.Status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case p.Status >= 500:
		code = "server_error"
	case p.Status == http.StatusNotFound:
		code = "not_found"
	}
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeOAuthError(w, status, code, p.Detail)
}

var _ platform.ErrorWriter = writeError
