package francetravail

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// The API scopes, and the scope each secured operation needs.
const (
	scopeSearch    = "api_rechercher-usagerv2"
	scopeSituation = "api_situation-usagerv1"
)

var operationScope = map[string]string{
	opSearchByNIR:    scopeSearch,
	opSearchByNumber: scopeSearch,
	opRegistration:   scopeSituation,
	opPayments:       scopeSituation,
}

// pruneEvery is how many person tokens are issued between sweeps of the
// expired ones.
const pruneEvery = 1024

type tokenResponse struct {
	Scope       string `json:"scope"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
}

// token serves POST /connexion/oauth2/access_token?realm=/partenaire: the
// OAuth2 client-credentials grant, form-encoded. The runtime has checked
// the realm, the grant type and that every field is present.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	want, known := s.opts.Clients[clientID]
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	scopes := map[string]bool{}
	application := false
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		switch sc {
		case "application_" + clientID:
			application = true
		case scopeSearch, scopeSituation:
			scopes[sc] = true
		default:
			writeOAuth(w, http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
			return
		}
	}
	if !application {
		writeOAuth(w, http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed: application_"+clientID+" is missing.")
		return
	}

	now := s.opts.Now()
	tok := s.tokens.Issue(grant{clientID: clientID, scopes: scopes}, now, now.Add(s.opts.TokenTTL))
	s.tokensIssued.Add(1)

	granted := []string{"application_" + clientID}
	for _, sc := range []string{scopeSearch, scopeSituation} {
		if scopes[sc] {
			granted = append(granted, sc)
		}
	}
	platform.WriteJSON(w, http.StatusOK, tokenResponse{
		Scope:       strings.Join(granted, " "),
		ExpiresIn:   int64(s.opts.TokenTTL / time.Second),
		TokenType:   "Bearer",
		AccessToken: tok,
	})
}

// authenticate is the runtime's Config.AuthenticateFunc: it checks the
// bearer token and the scope the operation needs, and returns the
// application as the rate-limit key (the limit is per application, not per
// token) and as the principal the handlers read (clientOf).
func (s *Server) authenticate(r *http.Request, operationID string) (string, any, *platform.Problem) {
	g, ok := s.grantOf(r)
	if !ok {
		return "", nil, &platform.Problem{
			Kind:        platform.KindUnauthorized,
			Status:      http.StatusUnauthorized,
			OperationID: operationID,
			Detail:      "The bearer token is missing, unknown or expired.",
		}
	}
	if need := operationScope[operationID]; need != "" && !g.scopes[need] {
		return "", nil, &platform.Problem{
			Kind:        platform.KindForbidden,
			Status:      http.StatusForbidden,
			OperationID: operationID,
			Parameter:   need,
			Detail:      "The access token lacks the scope " + need + ".",
		}
	}
	return g.clientID, g.clientID, nil
}

// clientOf is the application whose token authenticated r (the runtime's
// principal, see authenticate).
func clientOf(r *http.Request) string {
	id, _ := platform.Principal(r).(string)
	return id
}

// grantOf returns the live grant of r's bearer token.
func (s *Server) grantOf(r *http.Request) (grant, bool) {
	tok := platform.BearerToken(r)
	if tok == "" {
		return grant{}, false
	}
	g, _, live := s.tokens.Lookup(tok, s.opts.Now())
	return g, live
}
