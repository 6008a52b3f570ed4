package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/mandate"
)

// ConsentStore is what the handler needs of consent persistence;
// gateway/store implements it. Its writes journal themselves (see
// mandate.ConsentStore).
type ConsentStore interface {
	CreateConsent(ctx context.Context, c mandate.Consent) error
	ConsentsByPerson(ctx context.Context, tenantID, personRef string) ([]mandate.Consent, error)
	WithdrawConsent(ctx context.Context, tenantID, personRef, id string, at time.Time) (mandate.Consent, error)
}

// ConsentTokenStore keeps a consent's FranceConnect access token, sealed,
// until it expires, for profile lookups under the consent. When the
// ConsentStore is also one (gateway/store is), each consent's token is kept.
type ConsentTokenStore interface {
	SaveConsentToken(ctx context.Context, c mandate.Consent, token string, expiresAt time.Time) error
}

// Directory is the directory of each organisation's professionals who
// signed in through ProConnect: the colleagues a mandate may be
// transferred to. gateway/store implements it.
type Directory interface {
	// RecordProfessional adds p to tenantID's directory, or refreshes
	// their name, at each sign-in.
	RecordProfessional(ctx context.Context, tenantID string, p mandate.Professional, at time.Time) error
	// Professionals lists tenantID's directory.
	Professionals(ctx context.Context, tenantID string) ([]mandate.Professional, error)
}

// Organisation is the organisation a ProConnect professional belongs to:
// the tenant registered with their SIRET.
type Organisation struct {
	TenantID string
	Name     string
}

// ErrUnknownOrganisation is what Deps.Organisation returns for a SIRET no
// tenant is registered with.
var ErrUnknownOrganisation = errors.New("no organisation is registered with this SIRET")

// CodeOrganisationNotRegistered is the stable code shown, beside the French
// explanation, to a professional whose organisation is not registered.
const CodeOrganisationNotRegistered = "organisation_not_registered"

// Deps are the handler's collaborators.
type Deps struct {
	// Providers are the configured relying parties, routed by their
	// Config().Name. At least one.
	Providers []*oidc.RelyingParty
	// Keys are Relais' decryption keys; their public halves are served at
	// /.well-known/jwks.json. Nil: the route answers 404.
	Keys *oidc.DecryptionKeys
	// Sessions keeps sessions. Default: NewMemorySessions(0, Now).
	Sessions SessionStore
	// Consents records the consents of FranceConnect logins. Required.
	Consents ConsentStore
	// PersonKey keys the person references (mandate.PersonRef); the same
	// key as the mandate service's. At least mandate.MinPersonKey bytes.
	PersonKey []byte
	// Tenant returns the id of the tenant consents are recorded for.
	// Required.
	Tenant func(ctx context.Context) (string, error)
	// Organisation finds the organisation of a ProConnect professional by
	// the siret claim, or returns ErrUnknownOrganisation. Required when a
	// ProConnect provider is configured.
	Organisation func(ctx context.Context, siret string) (Organisation, error)
	// Mandates serves the professional space (/pro). Nil: the space
	// answers 503.
	Mandates *mandate.Service
	// Directory records the professionals who sign in, the colleagues a
	// mandate may be transferred to. Required with Mandates.
	Directory Directory
	// SMSOutbox reads a tenant's SMS outbox, oldest first, for
	// /pro/sandbox/sms. Required when Config.SandboxSMSOutbox is set.
	SMSOutbox func(ctx context.Context, tenantID string) ([]mandate.SMS, error)
	// Logger receives failures. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Handler serves the browser routes.
type Handler struct {
	cfg       Config
	providers map[string]*oidc.RelyingParty
	order     []string
	sessions  SessionStore
	consents  ConsentStore
	personKey []byte
	tenant    func(context.Context) (string, error)
	orgs      func(context.Context, string) (Organisation, error)
	mandates  *mandate.Service
	directory Directory
	outbox    func(context.Context, string) ([]mandate.SMS, error)
	logger    *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	pages     *pages
}

var _ http.Handler = (*Handler)(nil)

// New validates cfg (after WithDefaults) and deps and returns the handler.
func New(cfg Config, deps Deps) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case len(deps.Providers) == 0:
		return nil, errors.New("web: at least one provider is required")
	case deps.Consents == nil:
		return nil, errors.New("web: Consents is required")
	case deps.Tenant == nil:
		return nil, errors.New("web: Tenant is required")
	case len(deps.PersonKey) < mandate.MinPersonKey:
		return nil, fmt.Errorf("web: PersonKey must be at least %d bytes", mandate.MinPersonKey)
	case deps.Mandates != nil && deps.Directory == nil:
		return nil, errors.New("web: Directory is required with Mandates")
	case cfg.SandboxSMSOutbox && deps.SMSOutbox == nil:
		return nil, errors.New("web: SMSOutbox is required with Config.SandboxSMSOutbox")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Sessions == nil {
		deps.Sessions = NewMemorySessions(0, deps.Now)
	}
	h := &Handler{
		cfg: cfg, providers: map[string]*oidc.RelyingParty{}, sessions: deps.Sessions,
		consents: deps.Consents, personKey: append([]byte(nil), deps.PersonKey...), tenant: deps.Tenant,
		orgs: deps.Organisation, mandates: deps.Mandates, directory: deps.Directory, outbox: deps.SMSOutbox,
		logger: deps.Logger, now: deps.Now, mux: http.NewServeMux(), pages: newPages(),
	}
	for _, rp := range deps.Providers {
		name := rp.Config().Name
		if _, dup := h.providers[name]; dup {
			return nil, fmt.Errorf("web: provider %q configured twice", name)
		}
		if rp.Config().Profile == oidc.ProfileProConnect && deps.Organisation == nil {
			return nil, fmt.Errorf("web: provider %q is ProConnect: Organisation is required", name)
		}
		h.providers[name] = rp
		h.order = append(h.order, name)
	}
	h.mux.HandleFunc("GET /auth/{provider}/login", h.login)
	h.mux.HandleFunc("GET /auth/{provider}/callback", h.callback)
	h.mux.HandleFunc("POST /auth/logout", h.logout)
	h.mux.HandleFunc("GET /auth/logged-out", h.loggedOut)
	h.mux.HandleFunc("GET /compte", h.account)
	h.mux.HandleFunc("POST /compte/consentements/{id}/retrait", h.withdrawConsent)
	h.routePro()
	// The JWKS body is built once, here, not per request.
	jwks := http.NotFoundHandler()
	if deps.Keys != nil {
		jwks = deps.Keys.Handler()
	}
	h.mux.Handle("GET /.well-known/jwks.json", jwks)
	return h, nil
}

// Paths are the path patterns the handler serves, for mounting it beside
// another handler: every path under /auth/, /compte, /pro and
// /.well-known/jwks.json.
func Paths() []string {
	return []string{"/auth/", "/compte", "/compte/", "/pro", "/pro/", "/.well-known/jwks.json"}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// SessionCookieName is the name of the session cookie: with the __Host-
// prefix when cookies are Secure.
func (h *Handler) SessionCookieName() string {
	if h.cfg.Secure {
		return "__Host-relais_session"
	}
	return "relais_session"
}

// Session returns the live session of r, if any.
func (h *Handler) Session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(h.SessionCookieName())
	if err != nil || c.Value == "" {
		return Session{}, false
	}
	s, err := h.sessions.Get(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, ErrSessionNotFound) {
			h.logger.ErrorContext(r.Context(), "reading session", slog.Any("error", err))
		}
		return Session{}, false
	}
	return s, true
}

// SessionTTL is how long a session of profile p lives: the provider's own
// session lifetime, capped by Config.SessionTTL.
func (h *Handler) SessionTTL(p oidc.Profile) time.Duration {
	ttl := 30 * time.Minute
	switch p {
	case oidc.ProfileFranceConnectPlus:
		ttl = 10 * time.Minute
	case oidc.ProfileProConnect:
		ttl = 12 * time.Hour
	}
	return min(ttl, h.cfg.SessionTTL)
}

func (h *Handler) provider(w http.ResponseWriter, r *http.Request) (*oidc.RelyingParty, bool) {
	rp, ok := h.providers[r.PathValue("provider")]
	if !ok {
		h.pages.message(w, http.StatusNotFound, "Fournisseur d'identité inconnu",
			"Ce moyen de connexion n'existe pas sur ce service.", "")
	}
	return rp, ok
}

// login starts a login at the provider and redirects to it.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	rp, ok := h.provider(w, r)
	if !ok {
		return
	}
	returnTo := h.cfg.DefaultReturnTo
	if raw := r.URL.Query().Get("return_to"); raw != "" {
		if returnTo, ok = LocalPath(raw); !ok {
			h.pages.message(w, http.StatusBadRequest, "Adresse de retour refusée",
				"L'adresse où revenir après la connexion n'est pas une page de ce service : la connexion n'a pas été lancée.", "")
			return
		}
	}
	l, err := rp.Begin(r.Context(), oidc.BeginOptions{ReturnTo: returnTo})
	if err != nil {
		h.fail(w, r, fmt.Errorf("beginning login: %w", err))
		return
	}
	c := rp.Cookie(l)
	c.Secure = c.Secure || h.cfg.Secure
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, l.URL, http.StatusFound)
}

// callback finishes a login: session, consent, redirect.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	rp, ok := h.provider(w, r)
	if !ok {
		return
	}
	binding := ""
	if c, err := r.Cookie(rp.CookieName()); err == nil {
		binding = c.Value
	}
	// The binding cookie is single use, whatever the outcome.
	gone := rp.Cookie(&oidc.Login{})
	gone.Value, gone.MaxAge, gone.Secure = "", -1, gone.Secure || h.cfg.Secure
	http.SetCookie(w, gone)

	id, err := rp.Callback(r.Context(), r.URL.Query(), binding)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.now()
	// Session rotation: whatever session the browser had ends here.
	if old, ok := h.Session(r); ok {
		if err := h.sessions.Delete(r.Context(), old.ID); err != nil {
			h.fail(w, r, fmt.Errorf("deleting the previous session: %w", err))
			return
		}
	}
	s := Session{
		ID: randomToken(), CSRF: randomToken(), Provider: id.Provider, Profile: id.Profile, Subject: id.Subject,
		GivenName: claim(id.Claims, "given_name"), FamilyName: claim(id.Claims, "family_name"), Email: claim(id.Claims, "email"),
		SIRET: id.SIRET, IDToken: id.IDToken, Created: now, Expires: now.Add(h.SessionTTL(id.Profile)),
	}
	if s.FamilyName == "" {
		s.FamilyName = claim(id.Claims, "usual_name")
	}
	switch id.Profile {
	case oidc.ProfileFranceConnect, oidc.ProfileFranceConnectPlus:
		if err := h.recordConsent(r.Context(), id, &s, now); err != nil {
			h.fail(w, r, err)
			return
		}
		s.AccessToken, s.AccessTokenExpiry = id.AccessToken, id.AccessTokenExpiry
	case oidc.ProfileProConnect:
		if err := h.bindProfessional(r.Context(), &s, now); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if err := h.sessions.Create(r.Context(), s); err != nil {
		h.fail(w, r, fmt.Errorf("creating session: %w", err))
		return
	}
	http.SetCookie(w, h.sessionCookie(s.ID, s.Expires.Sub(now)))
	returnTo, ok := LocalPath(id.ReturnTo)
	if !ok {
		returnTo = h.cfg.DefaultReturnTo
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// errIncompleteIdentity is a FranceConnect login without the identity
// pivot a consent needs.
var errIncompleteIdentity = errors.New("identity pivot incomplete")

// recordConsent records the consent of a FranceConnect login and notes it
// in s.
func (h *Handler) recordConsent(ctx context.Context, id *oidc.Identity, s *Session, now time.Time) error {
	p := mandate.Person{
		FamilyName: claim(id.Claims, "family_name"), GivenNames: claim(id.Claims, "given_name"),
		BirthDate: claim(id.Claims, "birthdate"), Sex: claim(id.Claims, "gender"),
		BirthPlace: claim(id.Claims, "birthplace"), BirthCountry: claim(id.Claims, "birthcountry"),
	}
	if p.FamilyName == "" || p.GivenNames == "" || p.BirthDate == "" || p.Sex == "" || p.BirthCountry == "" {
		return errIncompleteIdentity
	}
	tenantID, err := h.tenant(ctx)
	if err != nil {
		return fmt.Errorf("resolving the consent's tenant: %w", err)
	}
	ref := mandate.PersonRef(h.personKey, p)
	c, err := mandate.NewConsent(tenantID, ref, h.cfg.ConsentCategories, h.cfg.ConsentPlatforms, now, h.cfg.ConsentTTL)
	if err != nil {
		return fmt.Errorf("building consent: %w", err)
	}
	if err := h.consents.CreateConsent(ctx, c); err != nil {
		return fmt.Errorf("recording consent: %w", err)
	}
	if ts, ok := h.consents.(ConsentTokenStore); ok {
		if err := ts.SaveConsentToken(ctx, c, id.AccessToken, id.AccessTokenExpiry); err != nil {
			return fmt.Errorf("keeping the consent's access token: %w", err)
		}
	}
	s.PersonRef, s.TenantID, s.ConsentID = ref, tenantID, c.ID
	return nil
}

// unknownOrganisationError is a ProConnect sign-in whose SIRET no tenant
// is registered with.
type unknownOrganisationError struct{ siret string }

func (e *unknownOrganisationError) Error() string {
	return "no organisation is registered with SIRET " + e.siret
}

// bindProfessional binds a ProConnect professional to the organisation
// (tenant) registered with their SIRET and records them in its directory.
func (h *Handler) bindProfessional(ctx context.Context, s *Session, now time.Time) error {
	org, err := h.orgs(ctx, s.SIRET)
	if errors.Is(err, ErrUnknownOrganisation) {
		return &unknownOrganisationError{siret: s.SIRET}
	} else if err != nil {
		return fmt.Errorf("finding the professional's organisation: %w", err)
	}
	s.TenantID, s.Organisation = org.TenantID, org.Name
	if h.directory != nil {
		if err := h.directory.RecordProfessional(ctx, org.TenantID, professionalOf(*s), now); err != nil {
			return fmt.Errorf("recording the professional: %w", err)
		}
	}
	return nil
}

// professionalOf is the professional signed in with s: their ProConnect
// subject and name.
func professionalOf(s Session) mandate.Professional {
	return mandate.Professional{ID: s.Subject, Name: strings.TrimSpace(s.GivenName + " " + s.FamilyName)}
}

func (h *Handler) sessionCookie(value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: h.SessionCookieName(), Value: value, Path: "/", HttpOnly: true,
		Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(ttl / time.Second),
	}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

// ValidCSRF reports, in constant time, whether got is the session's token.
func ValidCSRF(s Session, got string) bool {
	return s.CSRF != "" && got != "" && subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(got)) == 1
}

// logout ends the session (CSRF-checked) and sends the browser to the
// provider's end_session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := h.Session(r)
	if !ok {
		http.SetCookie(w, h.sessionCookie("", 0))
		http.Redirect(w, r, "/auth/logged-out", http.StatusSeeOther)
		return
	}
	if !h.checkForm(w, r, s) {
		return
	}
	if err := h.sessions.Delete(r.Context(), s.ID); err != nil {
		h.fail(w, r, fmt.Errorf("deleting session: %w", err))
		return
	}
	http.SetCookie(w, h.sessionCookie("", 0))
	target := "/auth/logged-out"
	if rp, ok := h.providers[s.Provider]; ok {
		u, err := rp.LogoutURL(s.IDToken, oidc.NewLogoutState())
		if err == nil {
			target = u
		} else {
			h.logger.InfoContext(r.Context(), "provider logout unavailable", slog.String("provider", s.Provider), slog.Any("error", err))
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (h *Handler) loggedOut(w http.ResponseWriter, _ *http.Request) {
	h.pages.message(w, http.StatusOK, "Vous êtes déconnecté(e)",
		"Votre session sur Relais est terminée.", "/compte")
}

// account shows who is signed in and the consents in force, each with a
// button to withdraw it.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	s, ok := h.Session(r)
	if !ok {
		h.pages.signedOut(w, h.order)
		return
	}
	notice := ""
	if r.URL.Query().Get("fait") == "retrait" {
		notice = "Votre consentement a été retiré : plus aucune donnée ne sera demandée en son nom."
	}
	var consents []mandate.Consent
	if s.PersonRef != "" {
		all, err := h.consents.ConsentsByPerson(r.Context(), s.TenantID, s.PersonRef)
		if err != nil {
			h.fail(w, r, fmt.Errorf("listing consents: %w", err))
			return
		}
		now := h.now()
		for _, c := range all {
			if c.ActiveAt(now) {
				consents = append(consents, c)
			}
		}
	}
	h.pages.account(w, s, consents, notice)
}

// withdrawConsent ends one of the signed-in person's consents (CSRF
// checked). The store journals the withdrawal; when it is the consent of
// this login, the session is rotated without the provider's access token,
// which only served calls under that consent.
func (h *Handler) withdrawConsent(w http.ResponseWriter, r *http.Request) {
	s, ok := h.Session(r)
	if !ok {
		h.pages.signedOut(w, h.order)
		return
	}
	if !h.checkForm(w, r, s) {
		return
	}
	id := r.PathValue("id")
	if s.PersonRef == "" || !mandate.ValidConsentID(id) {
		h.pages.message(w, http.StatusNotFound, "Consentement introuvable", "Ce consentement n'existe pas ou n'est pas le vôtre.", "/compte")
		return
	}
	if _, err := h.consents.WithdrawConsent(r.Context(), s.TenantID, s.PersonRef, id, h.now()); errors.Is(err, mandate.ErrNotFound) {
		h.pages.message(w, http.StatusNotFound, "Consentement introuvable", "Ce consentement n'existe pas ou n'est pas le vôtre.", "/compte")
		return
	} else if err != nil {
		h.fail(w, r, fmt.Errorf("withdrawing consent: %w", err))
		return
	}
	if s.ConsentID == id {
		next := s
		next.ID, next.CSRF, next.ConsentID, next.AccessToken, next.AccessTokenExpiry = randomToken(), randomToken(), "", "", time.Time{}
		if err := h.sessions.Create(r.Context(), next); err != nil {
			h.fail(w, r, fmt.Errorf("creating session: %w", err))
			return
		}
		if err := h.sessions.Delete(r.Context(), s.ID); err != nil {
			h.fail(w, r, fmt.Errorf("deleting the previous session: %w", err))
			return
		}
		http.SetCookie(w, h.sessionCookie(next.ID, next.Expires.Sub(h.now())))
	}
	http.Redirect(w, r, "/compte?fait=retrait", http.StatusSeeOther)
}

// checkForm parses a small url-encoded form and checks its synchronizer
// token; a missing or wrong token gets the French 403 page.
func (h *Handler) checkForm(w http.ResponseWriter, r *http.Request, s Session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, smallFormLimit)
	if err := r.ParseForm(); err != nil {
		h.pages.message(w, http.StatusBadRequest, "Formulaire illisible",
			"Le formulaire envoyé est trop long ou mal formé. Revenez à la page précédente et réessayez.", "")
		return false
	}
	return h.checkCSRF(w, r, s, r.PostForm.Get("csrf"))
}

// checkCSRF compares got with s's token; a mismatch gets the French 403
// page.
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request, s Session, got string) bool {
	if ValidCSRF(s, got) {
		return true
	}
	h.logger.WarnContext(r.Context(), "form refused: CSRF token missing or wrong", slog.String("path", r.URL.Path), slog.String("provider", s.Provider))
	h.pages.message(w, http.StatusForbidden, "Action refusée",
		"Cette demande ne vient pas d'une page de ce service (jeton de sécurité absent ou invalide). Revenez à votre espace et réessayez.", "")
	return false
}

// smallFormLimit bounds the url-encoded forms.
const smallFormLimit = 16 << 10

// fail shows err to the person in French and logs it once.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		oe *oidc.Error
		ue *unknownOrganisationError
	)
	switch {
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		switch oe.Code {
		case oidc.CodeDiscovery, oidc.CodeTokenExchange, oidc.CodeUserinfo:
			status = http.StatusBadGateway
		case oidc.CodeProviderError:
			status = http.StatusUnauthorized
		}
		h.logger.WarnContext(r.Context(), "sign-in failed", slog.String("provider", r.PathValue("provider")),
			slog.String("code", string(oe.Code)), slog.Any("error", err))
		h.pages.message(w, status, "Connexion impossible", oe.Message, "/compte")
	case errors.As(err, &ue):
		h.logger.WarnContext(r.Context(), "sign-in refused: organisation not registered", slog.String("provider", r.PathValue("provider")),
			slog.String("code", CodeOrganisationNotRegistered), slog.String("siret", ue.siret))
		h.pages.render(w, http.StatusForbidden, "not-registered", struct{ SIRET, Code string }{formatSIRET(ue.siret), CodeOrganisationNotRegistered})
	case errors.Is(err, errIncompleteIdentity):
		h.logger.WarnContext(r.Context(), "sign-in failed: identity pivot incomplete", slog.String("provider", r.PathValue("provider")))
		h.pages.message(w, http.StatusBadGateway, "Connexion impossible",
			"Le fournisseur d'identité n'a pas transmis votre identité complète (nom, prénoms, date, sexe et lieu de naissance) : votre consentement ne peut pas être enregistré.", "/compte")
	case errors.Is(err, oidc.ErrPendingFull), errors.Is(err, ErrSessionsFull):
		h.logger.ErrorContext(r.Context(), "sign-in refused: store full", slog.Any("error", err))
		h.pages.message(w, http.StatusServiceUnavailable, "Service très sollicité",
			"Trop de connexions sont en cours. Réessayez dans quelques minutes.", "/compte")
	default:
		h.logger.ErrorContext(r.Context(), "sign-in failed", slog.Any("error", err))
		h.pages.message(w, http.StatusInternalServerError, "Erreur du service",
			"Une erreur interne nous empêche de terminer votre connexion. Réessayez plus tard.", "/compte")
	}
}

// claim returns a string claim, or "".
func claim(claims map[string]any, name string) string {
	v, _ := claims[name].(string)
	return strings.TrimSpace(v)
}
