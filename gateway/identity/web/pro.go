package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/mandate"
)

// The professional space, for professionals signed in through ProConnect:
// find a person's mandates, create, confirm, revoke, renew and transfer
// them. Every page is server-rendered, works without JavaScript, and every
// POST carries the session's synchronizer token. The person's identity is
// only ever in a POST body or a page, never in a URL: a search posts the
// traits and the handler turns them into the person reference. The mandate
// service does the work and journals it; the caller is the signed-in
// professional of the organisation their SIRET is registered with, never
// something the form says.

// CodeTransferOutsideOrganisation is the stable code of a transfer to
// someone who is not in the organisation's directory.
const CodeTransferOutsideOrganisation = "transfer_outside_organisation"

// outboxShown is how many of the last SMS /pro/sandbox/sms shows.
const outboxShown = 20

func (h *Handler) routePro() {
	h.mux.HandleFunc("GET /pro", h.proHome)
	h.mux.HandleFunc("/pro/", h.proNotFound)
	h.mux.HandleFunc("POST /pro/recherche", h.proSearch)
	h.mux.HandleFunc("GET /pro/mandats/nouveau", h.proNew)
	h.mux.HandleFunc("POST /pro/mandats", h.proCreate)
	h.mux.HandleFunc("GET /pro/mandats/{id}", h.proMandate)
	h.mux.HandleFunc("GET /pro/mandats/{id}/code", h.proCode)
	h.mux.HandleFunc("POST /pro/mandats/{id}/code", h.proConfirm)
	h.mux.HandleFunc("POST /pro/mandats/{id}/revocation", h.proRevoke)
	h.mux.HandleFunc("POST /pro/mandats/{id}/renouvellement", h.proRenew)
	h.mux.HandleFunc("POST /pro/mandats/{id}/transfert", h.proTransfer)
	if h.cfg.SandboxSMSOutbox {
		h.mux.HandleFunc("GET /pro/sandbox/sms", h.proOutbox)
	}
}

// pro returns the ProConnect session of r, or answers r itself: 503
// without a mandate service, 401 signed out, 403 for another kind of
// session.
func (h *Handler) pro(w http.ResponseWriter, r *http.Request) (Session, bool) {
	if h.mandates == nil {
		h.pages.message(w, http.StatusServiceUnavailable, "Espace professionnel indisponible",
			"Les mandats ne sont pas activés sur ce service : l'espace professionnel est fermé.", "")
		return Session{}, false
	}
	s, ok := h.Session(r)
	if !ok {
		h.pages.proSignedOut(w, h.proProviders())
		return Session{}, false
	}
	if s.Profile != oidc.ProfileProConnect || s.TenantID == "" {
		h.pages.message(w, http.StatusForbidden, "Espace réservé aux professionnels",
			"L'espace professionnel est réservé aux professionnels connectés avec ProConnect. Déconnectez-vous, puis connectez-vous avec ProConnect.", "/compte")
		return Session{}, false
	}
	return s, true
}

// proProviders are the names of the ProConnect providers.
func (h *Handler) proProviders() []string {
	var out []string
	for _, name := range h.order {
		if h.providers[name].Config().Profile == oidc.ProfileProConnect {
			out = append(out, name)
		}
	}
	return out
}

func caller(s Session) mandate.Caller {
	return mandate.Caller{TenantID: s.TenantID, ProfessionalID: s.Subject}
}

func (h *Handler) proNotFound(w http.ResponseWriter, _ *http.Request) {
	h.pages.message(w, http.StatusNotFound, "Page introuvable", "Cette page n'existe pas dans l'espace professionnel.", "/pro")
}

// internal shows the French page of an unexpected failure and logs it
// once.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.ErrorContext(r.Context(), "professional space failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	h.pages.message(w, http.StatusInternalServerError, "Erreur du service",
		"Une erreur interne nous empêche de terminer cette action. Réessayez plus tard.", "/pro")
}

// mandateFailed answers a failed mandate action in French.
func (h *Handler) mandateFailed(w http.ResponseWriter, r *http.Request, err error, back string) {
	var re *mandate.RefusedError
	switch {
	case errors.Is(err, mandate.ErrNotFound):
		h.pages.message(w, http.StatusNotFound, "Mandat introuvable",
			"Ce mandat n'existe pas ou n'appartient pas à votre organisation.", "/pro")
	case errors.As(err, &re):
		h.pages.message(w, http.StatusConflict, "Action impossible", re.Explanation(), back)
	default:
		h.internal(w, r, err)
	}
}

// ---- Home and search ----------------------------------------------------

func (h *Handler) proHome(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok {
		return
	}
	h.pages.proHome(w, http.StatusOK, proHomeData{proHeader: h.header(s), Person: personFields{BirthCountry: mandate.FranceCOG}})
}

// proSearch lists the organisation's mandates for the person whose traits
// were posted.
func (h *Handler) proSearch(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok || !h.checkForm(w, r, s) {
		return
	}
	fields := personFieldsOf(r.PostForm)
	d := proHomeData{proHeader: h.header(s), Person: fields, Searched: true}
	p := fields.person()
	if err := p.Validate(h.now()); err != nil {
		d.Errors, d.Searched = frenchErrors(err), false
		h.pages.proHome(w, http.StatusUnprocessableEntity, d)
		return
	}
	ms, err := h.mandates.ListByPerson(r.Context(), s.TenantID, h.mandates.PersonRef(p))
	if err != nil {
		h.internal(w, r, err)
		return
	}
	for _, m := range ms {
		d.Results = append(d.Results, h.pages.line(m, h.now()))
	}
	h.pages.proHome(w, http.StatusOK, d)
}

// ---- Creation -------------------------------------------------------------

func (h *Handler) proNew(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok {
		return
	}
	h.pages.proNew(w, http.StatusOK, newMandateData(h.header(s), createForm{
		Person: personFields{BirthCountry: mandate.FranceCOG}, Duration: "182", Consent: string(mandate.InPerson),
	}, nil))
}

// proCreate creates a mandate held by the signed-in professional: active
// at once with an in-person attestation (only its SHA-256 is kept), or a
// draft whose code goes to the SMS outbox, then the page to type it.
func (h *Handler) proCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok {
		return
	}
	f, err := readCreateForm(w, r)
	if err != nil {
		status, text := http.StatusBadRequest, "Le formulaire envoyé est mal formé. Revenez à la page précédente et réessayez."
		if errors.As(err, new(*http.MaxBytesError)) {
			status, text = http.StatusRequestEntityTooLarge, fmt.Sprintf("L'attestation dépasse %d Mo : numérisez-la en plus basse résolution.", maxAttestation>>20)
		}
		h.pages.message(w, status, "Formulaire refusé", text, "/pro/mandats/nouveau")
		return
	}
	if !h.checkCSRF(w, r, s, f.CSRF) {
		return
	}
	n := mandate.NewMandate{Professional: professionalOf(s), Person: f.Person.person(), Consent: mandate.ConsentMethod(f.Consent)}
	n.DurationDays, _ = strconv.Atoi(f.Duration)
	for _, d := range f.Demarches {
		n.Demarches = append(n.Demarches, mandate.Demarche(d))
	}
	switch n.Consent {
	case mandate.InPerson:
		n.AttestationSHA256 = f.Attestation
	case mandate.RemoteSMS:
		n.Phone = normalisePhone(f.Phone)
	}
	m, err := h.mandates.Create(r.Context(), caller(s), n)
	var ve *mandate.ValidationError
	if errors.As(err, &ve) {
		h.pages.proNew(w, http.StatusUnprocessableEntity, newMandateData(h.header(s), f, frenchErrors(err)))
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	target := "/pro/mandats/" + m.ID + "?fait=creation"
	if m.Status == mandate.StatusDraft {
		target = "/pro/mandats/" + m.ID + "/code"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// normalisePhone turns what people type ("06 12 34 56 78", "+33 6...")
// into E.164; the service validates the result.
func normalisePhone(raw string) string {
	d := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '\u00a0', '(', ')':
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	switch {
	case strings.HasPrefix(d, "0033"):
		return "+33" + d[4:]
	case len(d) == 10 && d[0] == '0':
		return "+33" + d[1:]
	}
	return d
}

// ---- One mandate ----------------------------------------------------------

// notices are the banners a redirect after an action asks for.
var notices = map[string]string{
	"creation":       "Le mandat est créé et actif.",
	"confirmation":   "La personne a confirmé : le mandat est actif.",
	"revocation":     "Le mandat est révoqué.",
	"renouvellement": "Le mandat est renouvelé pour sa durée, à compter d'aujourd'hui.",
	"transfert":      "Le mandat est transféré.",
}

func (h *Handler) proMandate(w http.ResponseWriter, r *http.Request) {
	s, m, ok := h.proMandateAt(w, r)
	if !ok {
		return
	}
	h.showMandate(w, r, s, m, http.StatusOK, notices[r.URL.Query().Get("fait")], "")
}

// showMandate renders m with its history and the actions its status
// allows.
func (h *Handler) showMandate(w http.ResponseWriter, r *http.Request, s Session, m mandate.Mandate, status int, notice, problem string) {
	events, err := h.mandates.Journal(r.Context(), s.TenantID, m.PersonRef)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	colleagues, err := h.directory.Professionals(r.Context(), s.TenantID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	events = slices.DeleteFunc(events, func(e mandate.Event) bool { return e.MandateID != m.ID })
	h.pages.proMandate(w, status, h.pages.mandateData(h.header(s), m, events, colleagues, h.now(), notice, problem))
}

// proMandateAt returns the ProConnect session of r and the mandate its
// path names, or answers r itself.
func (h *Handler) proMandateAt(w http.ResponseWriter, r *http.Request) (Session, mandate.Mandate, bool) {
	s, ok := h.pro(w, r)
	if !ok {
		return Session{}, mandate.Mandate{}, false
	}
	m, err := h.mandates.Get(r.Context(), s.TenantID, r.PathValue("id"))
	if err != nil {
		h.mandateFailed(w, r, err, "/pro")
		return Session{}, mandate.Mandate{}, false
	}
	return s, m, true
}

func (h *Handler) proCode(w http.ResponseWriter, r *http.Request) {
	s, m, ok := h.proMandateAt(w, r)
	if !ok {
		return
	}
	if m.StatusAt(h.now()) != mandate.StatusDraft {
		http.Redirect(w, r, "/pro/mandats/"+m.ID, http.StatusSeeOther)
		return
	}
	h.pages.proCode(w, http.StatusOK, proCodeData{proHeader: h.header(s), ID: m.ID, Phone: m.Phone})
}

// proConfirm activates a draft with the code the person read out.
func (h *Handler) proConfirm(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok || !h.checkForm(w, r, s) {
		return
	}
	id := r.PathValue("id")
	code := strings.Join(strings.Fields(r.PostForm.Get("code")), "")
	m, err := h.mandates.Confirm(r.Context(), caller(s), id, code)
	var re *mandate.RefusedError
	if errors.As(err, &re) && re.Code == mandate.CodeInvalidCode {
		m, gerr := h.mandates.Get(r.Context(), s.TenantID, id)
		if gerr != nil {
			h.mandateFailed(w, r, gerr, "/pro")
			return
		}
		h.pages.proCode(w, http.StatusUnprocessableEntity, proCodeData{proHeader: h.header(s), ID: id, Phone: m.Phone, Error: re.Explanation()})
		return
	} else if err != nil {
		h.mandateFailed(w, r, err, "/pro/mandats/"+id)
		return
	}
	http.Redirect(w, r, "/pro/mandats/"+m.ID+"?fait=confirmation", http.StatusSeeOther)
}

func (h *Handler) proRevoke(w http.ResponseWriter, r *http.Request) {
	h.proAction(w, r, "revocation", func(s Session, id string) (mandate.Mandate, error) {
		return h.mandates.Revoke(r.Context(), caller(s), id)
	})
}

func (h *Handler) proRenew(w http.ResponseWriter, r *http.Request) {
	h.proAction(w, r, "renouvellement", func(s Session, id string) (mandate.Mandate, error) {
		return h.mandates.Renew(r.Context(), caller(s), id)
	})
}

// proTransfer hands a mandate to a colleague: someone of the same
// organisation's directory, never an identity the form makes up.
func (h *Handler) proTransfer(w http.ResponseWriter, r *http.Request) {
	h.proAction(w, r, "transfert", func(s Session, id string) (mandate.Mandate, error) {
		m, err := h.mandates.Get(r.Context(), s.TenantID, id)
		if err != nil {
			return mandate.Mandate{}, err
		}
		colleagues, err := h.directory.Professionals(r.Context(), s.TenantID)
		if err != nil {
			return mandate.Mandate{}, fmt.Errorf("listing colleagues: %w", err)
		}
		to := r.PostForm.Get("to")
		i := slices.IndexFunc(colleagues, func(p mandate.Professional) bool { return p.ID == to })
		if to == "" || i < 0 {
			return m, errOutsideOrganisation
		}
		return h.mandates.Transfer(r.Context(), caller(s), id, colleagues[i])
	})
}

// errOutsideOrganisation: the transfer's target is not a colleague.
var errOutsideOrganisation = errors.New("transfer target outside the organisation")

// proAction runs a CSRF-checked action on one mandate and redirects to it
// with the notice done.
func (h *Handler) proAction(w http.ResponseWriter, r *http.Request, done string, act func(Session, string) (mandate.Mandate, error)) {
	s, ok := h.pro(w, r)
	if !ok || !h.checkForm(w, r, s) {
		return
	}
	id := r.PathValue("id")
	m, err := act(s, id)
	switch {
	case errors.Is(err, errOutsideOrganisation):
		h.logger.WarnContext(r.Context(), "transfer refused", slog.String("code", CodeTransferOutsideOrganisation), slog.String("mandate", id))
		h.showMandate(w, r, s, m, http.StatusUnprocessableEntity, "",
			"Transfert refusé : cette personne ne fait pas partie de votre organisation sur Relais. Un mandat ne se transfère qu'à un collègue de la même organisation, qui s'est déjà connecté avec ProConnect. (Code : "+CodeTransferOutsideOrganisation+")")
	case err != nil:
		h.mandateFailed(w, r, err, "/pro/mandats/"+id)
	default:
		http.Redirect(w, r, "/pro/mandats/"+m.ID+"?fait="+url.QueryEscape(done), http.StatusSeeOther)
	}
}

// ---- Sandbox SMS outbox ---------------------------------------------------

// proOutbox shows the organisation's last SMS, newest first: in the
// sandbox, the only way the codes reach anyone.
func (h *Handler) proOutbox(w http.ResponseWriter, r *http.Request) {
	s, ok := h.pro(w, r)
	if !ok {
		return
	}
	all, err := h.outbox(r.Context(), s.TenantID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d := proOutboxData{proHeader: h.header(s)}
	for i := len(all) - 1; i >= 0 && len(d.Messages) < outboxShown; i-- {
		m := all[i]
		d.Messages = append(d.Messages, smsLine{At: h.pages.date(m.CreatedAt), To: m.To, Body: m.Body, MandateID: m.MandateID})
	}
	h.pages.render(w, http.StatusOK, "pro-outbox", d)
}

func (h *Handler) header(s Session) proHeader {
	return proHeader{
		Name: professionalOf(s).Name, Organisation: s.Organisation, SIRET: formatSIRET(s.SIRET), Email: s.Email,
		CSRF: s.CSRF, Sandbox: h.cfg.SandboxSMSOutbox,
	}
}

// formatSIRET groups a SIRET as people read it: 213 000 123 00009.
func formatSIRET(s string) string {
	if len(s) != 14 {
		return s
	}
	return s[:3] + " " + s[3:6] + " " + s[6:9] + " " + s[9:]
}
