package coffrefort

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// grant is what an access token stands for.
type grant struct {
	clientID string
	scopes   scope
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	Scope        string `json:"scope"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// oauthError is the RFC 6749 error body of the token endpoint.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func oauthReply(status int, code, description string) reply {
	return jsonReply(status, oauthError{Error: code, Description: description})
}

// token serves POST /api/token: the OAuth2 client-credentials grant, with
// a JSON body.
func (s *Server) token(c *call) reply {
	var req tokenRequest
	if _, ok := decodeJSON(c, &req); !ok {
		return oauthReply(http.StatusBadRequest, "invalid_request", "The request body must be a JSON object with grant_type, scope, client_id and client_secret.")
	}
	if req.GrantType != "client_credentials" {
		return oauthReply(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	scopes, err := parseScope(req.Scope)
	if err != nil {
		return oauthReply(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
	}
	idOK := subtle.ConstantTimeCompare([]byte(req.ClientID), []byte(s.opts.ClientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(s.opts.ClientSecret)) == 1
	if !idOK || !secretOK {
		return oauthReply(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	}

	s.mu.RLock()
	st := s.state
	s.mu.RUnlock()
	tok := st.tokens.Issue(grant{clientID: req.ClientID, scopes: scopes}, c.now, c.now.Add(s.opts.TokenTTL))
	s.tokensIssued.Add(1)

	return jsonReply(http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.opts.TokenTTL / time.Second),
		Scope:       scopes.String(),
	})
}

// JWT error messages, in lexik-JWT's words.
const (
	msgTokenMissing = "JWT Token not found"
	msgTokenExpired = "Expired JWT Token"
	msgTokenInvalid = "Invalid JWT Token"
)

// authenticate is the runtime's AuthenticateFunc: it checks the bearer
// token of r and the scope operation id needs (contract: bearerAuth
// scopes). It returns the token, the rate-limit key, and the client, the
// principal the handlers read (call.clientID).
func (s *Server) authenticate(r *http.Request, id string) (string, any, *platform.Problem) {
	tok, g, msg := s.grantOf(r)
	if msg != "" {
		return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Status: http.StatusUnauthorized, Detail: msg}
	}
	if need := s.ix.scopes[id]; g.scopes&need != need {
		return "", nil, &platform.Problem{Kind: platform.KindForbidden, Status: http.StatusForbidden,
			Detail: fmt.Sprintf("The access token lacks the scope %q.", (need &^ g.scopes).String())}
	}
	return tok, g.clientID, nil
}

// grantOf reads the bearer token of r; msg says why it is refused.
func (s *Server) grantOf(r *http.Request) (tok string, g grant, msg string) {
	tok = platform.BearerToken(r)
	if tok == "" {
		return "", grant{}, msgTokenMissing
	}
	s.mu.RLock()
	st := s.state
	s.mu.RUnlock()
	g, known, live := st.tokens.Lookup(tok, s.opts.Now())
	switch {
	case !known:
		return "", grant{}, msgTokenInvalid
	case !live:
		return "", grant{}, msgTokenExpired
	}
	return tok, g, ""
}
