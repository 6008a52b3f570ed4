package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// maxUserinfoBytes bounds the userinfo body read.
const maxUserinfoBytes = 1 << 20

// unsealed returns the signed JWT inside raw: for an encrypted provider raw
// must be a JWE, decrypted with Relais' keys; otherwise raw must be a JWS.
func (rp *RelyingParty) unsealed(raw string) (string, error) {
	if rp.cfg.Encrypted {
		if !isJWE(raw) {
			return "", errorf(CodeNotEncrypted, "reading token: %d parts, a JWE has 5", strings.Count(raw, ".")+1)
		}
		plain, err := rp.keys.Decrypt(raw)
		if err != nil {
			return "", newError(CodeDecryption, err)
		}
		return strings.TrimSpace(string(plain)), nil
	}
	if isJWE(raw) {
		return "", errorf(CodeMalformedToken, "reading token: encrypted, but the provider is not configured for encryption")
	}
	return raw, nil
}

// jwtHeader is the part of a JOSE header Relais checks before anything else.
type jwtHeader struct {
	Alg string `json:"alg"`
}

// checkAlg parses the header of a compact JWS and accepts ES256 and RS256
// only, so that a token with alg none, or HS256 keyed with a public key,
// never reaches a verifier.
func checkAlg(jws string) error {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return errorf(CodeMalformedToken, "reading token: %d parts, a JWS has 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return newError(CodeMalformedToken, fmt.Errorf("decoding header: %w", err))
	}
	var h jwtHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return newError(CodeMalformedToken, fmt.Errorf("parsing header: %w", err))
	}
	if !slices.Contains(supportedAlgs, h.Alg) {
		return errorf(CodeUnsupportedAlg, "checking header: alg %q is not ES256 or RS256", h.Alg)
	}
	return nil
}

// unverifiedClaims reads a JWS payload without checking it, only to name
// the reason go-oidc rejected a token.
type unverifiedClaims struct {
	Issuer   string          `json:"iss"`
	Audience json.RawMessage `json:"aud"`
}

func payloadOf(jws string) (unverifiedClaims, error) {
	var c unverifiedClaims
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return c, errors.New("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, fmt.Errorf("decoding payload: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("parsing payload: %w", err)
	}
	return c, nil
}

func (c unverifiedClaims) hasAudience(clientID string) bool {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return one == clientID
	}
	var many []string
	if json.Unmarshal(c.Audience, &many) == nil {
		return slices.Contains(many, clientID)
	}
	return false
}

// classify names why go-oidc rejected jws: the signature is checked again
// (it is what go-oidc checks first), then exp, iss and aud.
func (rp *RelyingParty) classify(ctx context.Context, jws string, err error) *Error {
	if _, serr := rp.keySet.VerifySignature(ctx, jws); serr != nil {
		return newError(CodeBadSignature, fmt.Errorf("verifying signature: %w", err))
	}
	if _, ok := errors.AsType[*gooidc.TokenExpiredError](err); ok {
		return newError(CodeTokenExpired, err)
	}
	c, perr := payloadOf(jws)
	if perr != nil {
		return newError(CodeMalformedToken, perr)
	}
	if c.Issuer != rp.meta.Issuer {
		return newError(CodeIssuerMismatch, err)
	}
	if !c.hasAudience(rp.cfg.ClientID) {
		return newError(CodeAudienceMismatch, err)
	}
	return newError(CodeMalformedToken, err)
}

// verifyIDToken runs every check on an id_token: encryption (FC+), alg,
// signature, iss, aud, exp (go-oidc, with the leeway), iat not in the future
// beyond the leeway, nonce, acr.
func (rp *RelyingParty) verifyIDToken(ctx context.Context, raw, nonce, minACR string) (*gooidc.IDToken, map[string]any, error) {
	jws, err := rp.unsealed(raw)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAlg(jws); err != nil {
		return nil, nil, err
	}
	cctx := gooidc.ClientContext(ctx, rp.client)
	id, err := rp.verifier.Verify(cctx, jws)
	if err != nil {
		return nil, nil, rp.classify(cctx, jws, err)
	}
	if id.IssuedAt.IsZero() {
		return nil, nil, errorf(CodeMalformedToken, "checking id_token: no iat")
	}
	if limit := rp.now().Add(rp.cfg.Leeway); id.IssuedAt.After(limit) {
		return nil, nil, errorf(CodeIssuedInFuture, "checking id_token: iat %s is after %s (leeway %s)", id.IssuedAt.UTC(), limit.UTC(), rp.cfg.Leeway)
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) != 1 {
		return nil, nil, errorf(CodeNonceMismatch, "checking id_token: the nonce is not the one of this login")
	}
	claims := map[string]any{}
	if err := id.Claims(&claims); err != nil {
		return nil, nil, newError(CodeMalformedToken, fmt.Errorf("reading id_token claims: %w", err))
	}
	if acr := stringClaim(claims, "acr"); !ACRAtLeast(acr, minACR) {
		return nil, nil, errorf(CodeACRTooLow, "checking id_token: acr %q is below %q", acr, minACR)
	}
	return id, claims, nil
}

// userinfo fetches the userinfo endpoint and checks its answer: a signed
// JWT (JWE-wrapped for an encrypted provider) verified with the OP's keys,
// whose sub is the id_token's. Plain JSON passes only with
// Config.AllowPlainUserinfo.
func (rp *RelyingParty) userinfo(ctx context.Context, tok *oauth2.Token, subject string) (map[string]any, error) {
	if rp.meta.UserinfoEndpoint == "" {
		if rp.cfg.AllowPlainUserinfo {
			return nil, nil
		}
		return nil, errorf(CodeUserinfo, "fetching userinfo: the provider has no userinfo_endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.meta.UserinfoEndpoint, nil)
	if err != nil {
		return nil, newError(CodeUserinfo, fmt.Errorf("building userinfo request: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/jwt, application/json;q=0.5")
	resp, err := rp.client.Do(req)
	if err != nil {
		return nil, newError(CodeUserinfo, fmt.Errorf("fetching userinfo: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBytes))
	if err != nil {
		return nil, newError(CodeUserinfo, fmt.Errorf("reading userinfo: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorf(CodeUserinfo, "fetching userinfo: status %d", resp.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var payload []byte
	switch {
	case mt == "application/jwt":
		jws, err := rp.unsealed(strings.TrimSpace(string(body)))
		if err != nil {
			return nil, err
		}
		if err := checkAlg(jws); err != nil {
			return nil, err
		}
		payload, err = rp.keySet.VerifySignature(gooidc.ClientContext(ctx, rp.client), jws)
		if err != nil {
			return nil, newError(CodeUserinfoSignature, fmt.Errorf("verifying userinfo: %w", err))
		}
	case rp.cfg.Encrypted:
		return nil, errorf(CodeNotEncrypted, "reading userinfo: %q, want an encrypted application/jwt", mt)
	case rp.cfg.AllowPlainUserinfo && mt == "application/json":
		payload = body
	default:
		return nil, errorf(CodeUserinfoNotSigned, "reading userinfo: %q, want application/jwt", mt)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, newError(CodeUserinfo, fmt.Errorf("parsing userinfo: %w", err))
	}
	if sub, _ := claims["sub"].(string); subtle.ConstantTimeCompare([]byte(sub), []byte(subject)) != 1 {
		return nil, errorf(CodeSubjectMismatch, "checking userinfo: sub differs from the id_token's")
	}
	if iss, ok := claims["iss"]; ok && iss != rp.meta.Issuer {
		return nil, errorf(CodeIssuerMismatch, "checking userinfo: iss %v", iss)
	}
	if aud, ok := claims["aud"]; ok {
		raw, _ := json.Marshal(aud)
		if !(unverifiedClaims{Audience: raw}).hasAudience(rp.cfg.ClientID) {
			return nil, errorf(CodeAudienceMismatch, "checking userinfo: aud %v", aud)
		}
	}
	// Token-only claims in a userinfo JWT must not overwrite the id_token's.
	for _, k := range []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "acr", "amr", "auth_time", "jti"} {
		delete(claims, k)
	}
	return claims, nil
}
