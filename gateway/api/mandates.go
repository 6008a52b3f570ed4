package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/relais-dev/relais/gateway/mandate"
)

// smallBodyLimit bounds the JSON body of the mandate and admin routes.
const smallBodyLimit = 16 << 10

// MandateRequest is the body of POST /v1/mandates.
type MandateRequest struct {
	Professional      mandate.Professional `json:"professional"`
	Person            mandate.Person       `json:"person"`
	Demarches         []mandate.Demarche   `json:"demarches"`
	DurationDays      int                  `json:"duration_days"`
	ConsentMethod     string               `json:"consent_method"`
	AttestationSHA256 string               `json:"attestation_sha256,omitempty"`
	Phone             string               `json:"phone,omitempty"`
}

// mandateView is a mandate as the API shows it: never the identity nor
// the phone, which the caller already has.
type mandateView struct {
	ID                string               `json:"id"`
	PersonRef         string               `json:"person_ref"`
	Professional      mandate.Professional `json:"professional"`
	Demarches         []mandate.Demarche   `json:"demarches"`
	DurationDays      int                  `json:"duration_days"`
	ConsentMethod     string               `json:"consent_method"`
	AttestationSHA256 string               `json:"attestation_sha256,omitempty"`
	Status            mandate.Status       `json:"status"`
	CreatedAt         time.Time            `json:"created_at"`
	ExpiresAt         time.Time            `json:"expires_at"`
	ConfirmedAt       *time.Time           `json:"confirmed_at,omitempty"`
	RevokedAt         *time.Time           `json:"revoked_at,omitempty"`
	Href              string               `json:"href"`
}

func (s *Server) mandateView(m mandate.Mandate) mandateView {
	return mandateView{
		ID: m.ID, PersonRef: m.PersonRef, Professional: m.Professional, Demarches: m.Demarches, DurationDays: m.DurationDays,
		ConsentMethod: string(m.Consent), AttestationSHA256: m.AttestationSHA256, Status: m.StatusAt(s.deps.Now()),
		CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt, ConfirmedAt: m.ConfirmedAt, RevokedAt: m.RevokedAt,
		Href: "/v1/mandates/" + m.ID,
	}
}

// errMandatesOff is the logged cause of mandatesOff.
var errMandatesOff = errors.New("mandates are not configured (mandates.person_key is empty, api.Deps.Mandates is nil)")

// CodeMandatesNotConfigured is the problem code of the mandate routes on a
// gateway built without mandates.
const CodeMandatesNotConfigured = "mandates_not_configured"

// mandatesOff answers the mandate routes of a gateway built without a
// mandate service: 503 mandates_not_configured, whose detail names the
// setting, rather than an internal error inviting a retry that cannot
// succeed.
func mandatesOff() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeMandatesNotConfigured, Title: "Mandates not configured",
		Detail: "This gateway runs without mandates: its operator enables them by setting mandates.person_key.", Err: errMandatesOff}
}

func caller(r *http.Request) mandate.Caller {
	k := principal(r.Context())
	return mandate.Caller{TenantID: k.TenantID, APIKeyID: k.ID}
}

// decodeJSONBody reads a small JSON body (mandate and admin routes)
// strictly into v, with the errors of DecodeSubmission.
func decodeJSONBody(r *http.Request, v any) error {
	if enc, _, err := bodyEncoding(r); err != nil || enc != encodingJSON {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Unsupported media type",
			Detail: "Send the body as application/json."}
	}
	lr := &limitedReader{r: r.Body, n: smallBodyLimit, limit: smallBodyLimit, blank: true}
	if err := json.UnmarshalRead(lr, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err, lr)
	}
	return nil
}

// mandateError turns the service's errors into problems.
func mandateError(err error) error {
	var (
		ve *mandate.ValidationError
		re *mandate.RefusedError
	)
	switch {
	case errors.As(err, &ve):
		problems := make([]FieldProblem, len(ve.Fields))
		for i, f := range ve.Fields {
			problems[i] = FieldProblem{Field: f.Field, Code: f.Code, Detail: f.Detail}
		}
		return validationFailedTitled(problems, "Invalid mandate")
	case errors.Is(err, mandate.ErrNotFound):
		return notFound("mandate")
	case errors.As(err, &re) && re.Code == mandate.CodeInvalidCode:
		return &Error{Status: http.StatusUnprocessableEntity, Code: re.Code, Title: "Invalid confirmation code", Field: "code", Detail: re.Explanation()}
	case errors.As(err, &re):
		return &Error{Status: http.StatusConflict, Code: re.Code, Title: "Mandate refused", Detail: re.Explanation()}
	}
	return err
}

func (s *Server) createMandate(w http.ResponseWriter, r *http.Request) error {
	var req MandateRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	m, err := s.deps.Mandates.Create(r.Context(), caller(r), mandate.NewMandate{
		Professional: req.Professional, Person: req.Person, Demarches: req.Demarches, DurationDays: req.DurationDays,
		Consent: mandate.ConsentMethod(req.ConsentMethod), AttestationSHA256: req.AttestationSHA256, Phone: req.Phone,
	})
	if err != nil {
		return mandateError(err)
	}
	w.Header().Set("Location", "/v1/mandates/"+m.ID)
	writeJSON(w, http.StatusCreated, "application/json", s.mandateView(m))
	return nil
}

func (s *Server) getMandate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.deps.Mandates.Get(r.Context(), principal(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		return mandateError(err)
	}
	writeJSON(w, http.StatusOK, "application/json", s.mandateView(m))
	return nil
}

// personParam reads the person query parameter: a person reference, never
// an identity.
func personParam(r *http.Request) (string, error) {
	ref := r.URL.Query().Get("person")
	if !mandate.ValidPersonRef(ref) {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_person_ref", Title: "Invalid person reference", Field: "person",
			Detail: "person must be the person_ref returned at mandate creation (prs_ and 32 characters), never an identity."}
	}
	return ref, nil
}

func (s *Server) listMandates(w http.ResponseWriter, r *http.Request) error {
	ref, err := personParam(r)
	if err != nil {
		return err
	}
	ms, err := s.deps.Mandates.ListByPerson(r.Context(), principal(r.Context()).TenantID, ref)
	if err != nil {
		return mandateError(err)
	}
	views := make([]mandateView, len(ms))
	for i, m := range ms {
		views[i] = s.mandateView(m)
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"mandates": views})
	return nil
}

func (s *Server) revokeMandate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.deps.Mandates.Revoke(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return mandateError(err)
	}
	writeJSON(w, http.StatusOK, "application/json", s.mandateView(m))
	return nil
}

func (s *Server) renewMandate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.deps.Mandates.Renew(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return mandateError(err)
	}
	writeJSON(w, http.StatusOK, "application/json", s.mandateView(m))
	return nil
}

// ConfirmRequest is the body of POST /v1/mandates/{id}/confirm.
type ConfirmRequest struct {
	Code string `json:"code"`
}

func (s *Server) confirmMandate(w http.ResponseWriter, r *http.Request) error {
	var req ConfirmRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	m, err := s.deps.Mandates.Confirm(r.Context(), caller(r), r.PathValue("id"), req.Code)
	if err != nil {
		return mandateError(err)
	}
	writeJSON(w, http.StatusOK, "application/json", s.mandateView(m))
	return nil
}

// TransferRequest is the body of POST /v1/mandates/{id}/transfer.
type TransferRequest struct {
	Professional mandate.Professional `json:"professional"`
}

func (s *Server) transferMandate(w http.ResponseWriter, r *http.Request) error {
	var req TransferRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	m, err := s.deps.Mandates.Transfer(r.Context(), caller(r), r.PathValue("id"), req.Professional)
	if err != nil {
		return mandateError(err)
	}
	writeJSON(w, http.StatusOK, "application/json", s.mandateView(m))
	return nil
}

type mandateEventView struct {
	Seq       int64              `json:"seq"`
	At        time.Time          `json:"at"`
	Action    string             `json:"action"`
	MandateID string             `json:"mandate_id"`
	Demarches []mandate.Demarche `json:"demarches"`
	Outcome   string             `json:"outcome"`
	APIKeyID  string             `json:"api_key_id"`
	Detail    string             `json:"detail,omitempty"`
}

func (s *Server) mandateJournal(w http.ResponseWriter, r *http.Request) error {
	ref, err := personParam(r)
	if err != nil {
		return err
	}
	evs, err := s.deps.Mandates.Journal(r.Context(), principal(r.Context()).TenantID, ref)
	if err != nil {
		return fmt.Errorf("reading mandate journal: %w", err)
	}
	views := make([]mandateEventView, len(evs))
	for i, e := range evs {
		views[i] = mandateEventView{Seq: e.Seq, At: e.At, Action: e.Action, MandateID: e.MandateID, Demarches: e.Demarches,
			Outcome: e.Outcome, APIKeyID: e.APIKeyID, Detail: e.Detail}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"person_ref": ref, "events": views})
	return nil
}
