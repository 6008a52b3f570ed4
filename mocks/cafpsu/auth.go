package cafpsu

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// scope is the only scope.
const scope = "psu.declarations"

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// token serves POST /oauth/token: the client-credentials grant,
// form-encoded. The runtime has checked the fields and the grant type.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return
	}
	id := r.PostForm.Get("client_id")
	c, known := s.opts.Clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(c.Secret)) != 1 {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if sc != scope {
			writeOAuth(w, http.StatusBadRequest, "invalid_scope", "The requested scope is unknown: only psu.declarations exists.")
			return
		}
	}
	now := s.opts.Now()
	tok := s.tokens.Issue(id, now, now.Add(s.opts.TokenTTL))
	platform.WriteJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(s.opts.TokenTTL / time.Second), Scope: scope})
}
