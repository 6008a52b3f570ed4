package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/mandate"
)

var testPersonKey = []byte("api-test-person-key-0123456789abcdef")

func newMandates(tb testing.TB, st mandate.Store, now func() time.Time) *mandate.Service {
	tb.Helper()
	svc, err := mandate.NewService(st, mandate.Config{PersonKey: testPersonKey, Now: now})
	if err != nil {
		tb.Fatalf("building mandate service: %v", err)
	}
	return svc
}

// TestMandatesAPI runs a mandate's whole life through the API.
func TestMandatesAPI(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	bnd.exerciseMandates(t)
}

type mandateView struct {
	ID           string `json:"id"`
	PersonRef    string `json:"person_ref"`
	Professional struct{ ID, Name string }
	Demarches    []string   `json:"demarches"`
	DurationDays int        `json:"duration_days"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	Href         string     `json:"href"`
}

type mandateEvent struct {
	Seq       int64    `json:"seq"`
	Action    string   `json:"action"`
	MandateID string   `json:"mandate_id"`
	Demarches []string `json:"demarches"`
	Outcome   string   `json:"outcome"`
	Detail    string   `json:"detail"`
}

func zoeMandate() map[string]any {
	return map[string]any{
		"professional": map[string]any{"id": "pro-17", "name": "Camille Martin"},
		"person": map[string]any{
			"family_name": "Lefèvre", "given_names": "Zoé Marie-Hélène", "birth_date": "1948-03-14",
			"sex": "female", "birth_country": "99134",
		},
		"demarches": []any{"social", "logement"}, "duration_days": 182, "consent_method": "in_person",
		"attestation_sha256": mandate.AttestationSHA256([]byte("attestation signée")),
	}
}

func andreMandate() map[string]any {
	return map[string]any{
		"professional": map[string]any{"id": "pro-17", "name": "Camille Martin"},
		"person": map[string]any{
			"family_name": "Le Guével", "given_names": "André", "birth_date": "1961-11-02",
			"sex": "male", "birth_place": "35238", "birth_country": "99100",
		},
		"demarches": []any{"travail"}, "duration_days": 31, "consent_method": "remote_sms", "phone": "+33612345678",
	}
}

func post(tn tenant, path string, body []byte) call {
	return call{method: http.MethodPost, path: path, auth: tn.bearer(), body: body}
}

func (bnd *bundle) mandate(tb testing.TB, r result, status int) mandateView {
	tb.Helper()
	wantStatus(tb, r, status)
	return decode[mandateView](tb, r)
}

// exerciseMandates causes every documented response of the mandate
// routes, checking each against the document, and what each says.
func (bnd *bundle) exerciseMandates(t *testing.T) {
	t.Helper()
	a, b := bnd.a, bnd.b
	now := bnd.clock.Now()

	// In person: active at once, the identity never shown.
	r := bnd.do(t, post(a, "/v1/mandates", encode(t, zoeMandate())))
	zoe := bnd.mandate(t, r, http.StatusCreated)
	if r.header.Get("Location") != zoe.Href || zoe.Status != "active" || zoe.ConfirmedAt == nil ||
		!zoe.ExpiresAt.Equal(now.Add(182*24*time.Hour)) || !regexp.MustCompile(`^prs_[a-z2-7]{32}$`).MatchString(zoe.PersonRef) {
		t.Fatalf("created: %s", r.body)
	}
	for _, v := range []string{"Lef", "1948", "Zo"} {
		if strings.Contains(string(r.body), v) {
			t.Fatalf("the answer quotes the identity: %s", r.body)
		}
	}
	// The same person, written otherwise, has the same reference.
	bnd.clock.Advance(time.Second)
	same := zoeMandate()
	set(same, "person.family_name", "LEFEVRE")
	set(same, "person.given_names", "zoe marie-helene")
	set(same, "duration_days", 1)
	zoe1 := bnd.mandate(t, bnd.do(t, post(a, "/v1/mandates", encode(t, same))), http.StatusCreated)
	if zoe1.PersonRef != zoe.PersonRef {
		t.Fatalf("person_ref %s != %s", zoe1.PersonRef, zoe.PersonRef)
	}

	// By SMS: a draft until the code from the outbox is confirmed.
	andre := bnd.mandate(t, bnd.do(t, post(a, "/v1/mandates", encode(t, andreMandate()))), http.StatusCreated)
	if andre.Status != "draft" || andre.ConfirmedAt != nil {
		t.Fatalf("sms mandate: %+v", andre)
	}
	wantProblem(t, bnd.do(t, post(a, andre.Href+"/renew", nil)), http.StatusConflict, "mandate_not_active")
	outbox, err := bnd.store.SMSOutbox(context.Background(), a.id)
	if err != nil || len(outbox) != 1 {
		t.Fatalf("outbox: %+v, %v", outbox, err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(outbox[0].Body)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	p := wantProblem(t, bnd.do(t, post(a, andre.Href+"/confirm", encode(t, map[string]any{"code": wrong}))), http.StatusUnprocessableEntity, "invalid_confirmation_code")
	if p.Field != "code" || !strings.Contains(p.Detail, "code") {
		t.Fatalf("wrong code: %+v", p)
	}
	wantProblem(t, bnd.do(t, post(b, andre.Href+"/confirm", encode(t, map[string]any{"code": code}))), http.StatusNotFound, "not_found")
	confirmed := bnd.mandate(t, bnd.do(t, post(a, andre.Href+"/confirm", encode(t, map[string]any{"code": code}))), http.StatusOK)
	if confirmed.Status != "active" || confirmed.ConfirmedAt == nil {
		t.Fatalf("confirmed: %+v", confirmed)
	}
	wantProblem(t, bnd.do(t, post(a, andre.Href+"/confirm", encode(t, map[string]any{"code": code}))), http.StatusConflict, "mandate_not_draft")

	// Reading, listing, and tenant isolation.
	if got := bnd.mandate(t, bnd.do(t, get(a, zoe.Href)), http.StatusOK); got.ID != zoe.ID || got.PersonRef != zoe.PersonRef {
		t.Fatalf("get: %+v", got)
	}
	wantProblem(t, bnd.do(t, get(b, zoe.Href)), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, get(a, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa")), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, get(a, "/v1/mandates/not-an-id")), http.StatusNotFound, "not_found")
	list := decode[struct{ Mandates []mandateView }](t, bnd.do(t, get(a, "/v1/mandates?person="+zoe.PersonRef)))
	if len(list.Mandates) != 2 || list.Mandates[0].ID != zoe.ID || list.Mandates[1].ID != zoe1.ID {
		t.Fatalf("list: %+v", list)
	}
	if other := decode[struct{ Mandates []mandateView }](t, bnd.do(t, get(b, "/v1/mandates?person="+zoe.PersonRef))); len(other.Mandates) != 0 {
		t.Fatalf("tenant b lists a's mandates: %+v", other)
	}
	for _, q := range []string{"", "?person=Lef%C3%A8vre", "?person=prs_short"} {
		c := get(a, "/v1/mandates"+q)
		c.docRejects = q == ""
		p := wantProblem(t, bnd.do(t, c), http.StatusBadRequest, "invalid_person_ref")
		if p.Field != "person" || strings.Contains(p.Detail, "Lef") {
			t.Fatalf("bad person ref: %+v", p)
		}
	}

	// Uses, through the Go API connectors call: one granted, then refused
	// for each reason.
	svc := bnd.mandates
	ca, cb := mandate.Caller{TenantID: a.id, APIKeyID: a.keyID}, mandate.Caller{TenantID: b.id, APIKeyID: b.keyID}
	if _, err := svc.Authorize(context.Background(), zoe.ID, ca, mandate.Logement, now); err != nil {
		t.Fatalf("authorize: %v", err)
	}
	for _, tc := range []struct {
		caller mandate.Caller
		d      mandate.Demarche
		at     time.Time
		want   error
	}{
		{cb, mandate.Logement, now, mandate.ErrOtherOrganisation},
		{ca, mandate.Sante, now, mandate.ErrDemarcheNotCovered},
		{ca, mandate.Social, zoe.ExpiresAt, mandate.ErrExpired},
	} {
		if _, err := svc.Authorize(context.Background(), zoe.ID, tc.caller, tc.d, tc.at); !errors.Is(err, tc.want) {
			t.Fatalf("authorize: %v, want %v", err, tc.want)
		}
	}

	// Transfer, revoke, and what a revoked mandate refuses.
	moved := bnd.mandate(t, bnd.do(t, post(a, zoe.Href+"/transfer", encode(t, map[string]any{"professional": map[string]any{"id": "pro-18", "name": "Inès Roux"}}))), http.StatusOK)
	if moved.Professional.ID != "pro-18" {
		t.Fatalf("transfer: %+v", moved)
	}
	p = wantProblem(t, bnd.do(t, post(a, zoe.Href+"/transfer", encode(t, map[string]any{"professional": map[string]any{"id": "", "name": "Inès Roux"}}))),
		http.StatusUnprocessableEntity, "validation_failed")
	if p.Field != "professional.id" {
		t.Fatalf("transfer to nobody: %+v", p)
	}
	wantProblem(t, bnd.do(t, post(b, zoe.Href+"/transfer", encode(t, map[string]any{"professional": map[string]any{"id": "x", "name": "y"}}))), http.StatusNotFound, "not_found")
	renewed := bnd.mandate(t, bnd.do(t, post(a, zoe1.Href+"/renew", nil)), http.StatusOK)
	if !renewed.ExpiresAt.Equal(bnd.clock.Now().Add(24 * time.Hour)) {
		t.Fatalf("renewed: %+v", renewed)
	}
	wantProblem(t, bnd.do(t, call{method: http.MethodDelete, path: zoe.Href, auth: b.bearer()}), http.StatusNotFound, "not_found")
	revoked := bnd.mandate(t, bnd.do(t, call{method: http.MethodDelete, path: zoe.Href, auth: a.bearer()}), http.StatusOK)
	if revoked.Status != "revoked" || revoked.RevokedAt == nil {
		t.Fatalf("revoked: %+v", revoked)
	}
	wantProblem(t, bnd.do(t, post(a, zoe.Href+"/renew", nil)), http.StatusConflict, "mandate_revoked")
	p = wantProblem(t, bnd.do(t, post(a, zoe.Href+"/transfer", encode(t, map[string]any{"professional": map[string]any{"id": "pro-19", "name": "Léa"}}))),
		http.StatusConflict, "mandate_revoked")
	if !strings.Contains(p.Detail, "révoqué") {
		t.Fatalf("detail for staff: %q", p.Detail)
	}
	wantProblem(t, bnd.do(t, post(a, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa/renew", nil)), http.StatusNotFound, "not_found")
	if _, err := svc.Authorize(context.Background(), zoe.ID, ca, mandate.Social, now); !errors.Is(err, mandate.ErrRevoked) {
		t.Fatalf("authorize revoked: %v", err)
	}

	// The journal shows, for Zoé, every mandate event and every use, in order.
	j := decode[struct {
		PersonRef string `json:"person_ref"`
		Events    []mandateEvent
	}](t, bnd.do(t, get(a, "/v1/journal/mandates?person="+zoe.PersonRef)))
	var got []string
	for i, e := range j.Events {
		if i > 0 && e.Seq <= j.Events[i-1].Seq {
			t.Fatalf("journal out of order: %+v", j.Events)
		}
		if strings.Contains(e.Detail, "Lef") {
			t.Fatalf("journal quotes the identity: %+v", e)
		}
		entry := e.Action + "/" + e.Outcome
		if m := regexp.MustCompile(`reason=([a-z_]+)`).FindStringSubmatch(e.Detail); m != nil {
			entry += "/" + m[1]
		}
		got = append(got, entry)
	}
	want := []string{
		"create_mandat/ok", "create_autorisation/ok", "create_autorisation/ok", // zoe
		"create_mandat/ok", "create_autorisation/ok", "create_autorisation/ok", // zoe1
		"use_autorisation/ok", "use_autorisation/refused/mandate_other_organisation",
		"use_autorisation/refused/mandate_demarche_not_covered", "use_autorisation/refused/mandate_expired",
		"transfer_mandat/ok", "renew_mandat/ok", "cancel_mandat/ok", "use_autorisation/refused/mandate_revoked",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("journal:\n got %q\nwant %q", got, want)
	}
	if other := decode[struct{ Events []mandateEvent }](t, bnd.do(t, get(b, "/v1/journal/mandates?person="+zoe.PersonRef))); len(other.Events) != 0 {
		t.Fatalf("tenant b reads a's journal: %+v", other.Events)
	}
	wantProblem(t, bnd.do(t, get(a, "/v1/journal/mandates?person=nobody")), http.StatusBadRequest, "invalid_person_ref")

	// Invalid requests.
	bad := zoeMandate()
	set(bad, "person.birth_date", "14/03/1948")
	set(bad, "person.birth_place", "35238")
	p = wantProblem(t, bnd.do(t, post(a, "/v1/mandates", encode(t, bad))), http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 2 || p.Errors[0].Field != "person.birth_date" || p.Errors[1].Field != "person.birth_place" || strings.Contains(string(encode(t, p)), "1948") {
		t.Fatalf("validation: %+v", p)
	}
	for _, path := range []string{"/v1/mandates", andre.Href + "/confirm", zoe.Href + "/transfer"} {
		malformed := post(a, path, []byte(`{,}`))
		malformed.docRejects = true
		wantProblem(t, bnd.do(t, malformed), http.StatusBadRequest, "malformed_json")
		plain := post(a, path, []byte(`{}`))
		plain.header, plain.docRejects = map[string]string{"Content-Type": "text/plain"}, true
		wantProblem(t, bnd.do(t, plain), http.StatusUnsupportedMediaType, "unsupported_media_type")
		huge := post(a, path, encode(t, map[string]any{"professional": map[string]any{"id": strings.Repeat("9", 17<<10)}}))
		if path == andre.Href+"/confirm" {
			huge = post(a, path, encode(t, map[string]any{"code": strings.Repeat("9", 17<<10)}))
		} else {
			huge.docRejects = true
		}
		wantProblem(t, bnd.do(t, huge), http.StatusRequestEntityTooLarge, "body_too_large")
	}
	unknown := post(a, "/v1/mandates", encode(t, set(zoeMandate(), "person.nir", "148037511012345")))
	unknown.docRejects = true
	if p := wantProblem(t, bnd.do(t, unknown), http.StatusBadRequest, "unknown_field"); p.Field != "person.nir" {
		t.Fatalf("unknown field: %+v", p)
	}

	// Every route wants an API key.
	for _, c := range []call{
		{method: http.MethodPost, path: "/v1/mandates", body: encode(t, zoeMandate())},
		{method: http.MethodGet, path: "/v1/mandates?person=" + zoe.PersonRef},
		{method: http.MethodGet, path: zoe.Href},
		{method: http.MethodDelete, path: zoe.Href},
		{method: http.MethodPost, path: zoe.Href + "/confirm", body: []byte(`{"code":"123456"}`)},
		{method: http.MethodPost, path: zoe.Href + "/renew"},
		{method: http.MethodPost, path: zoe.Href + "/transfer", body: []byte(`{"professional":{"id":"a","name":"b"}}`)},
		{method: http.MethodGet, path: "/v1/journal/mandates?person=" + zoe.PersonRef},
	} {
		c.docRejects = true
		wantProblem(t, bnd.do(t, c), http.StatusUnauthorized, "unauthenticated")
	}

	// No log line quotes the identity or the phone.
	for _, v := range []string{"Lefèvre", "Guével", "1948-03-14", "+33612345678"} {
		if strings.Contains(bnd.logs.String(), v) {
			t.Fatalf("the logs quote %q", v)
		}
	}

	bnd.exerciseBrokenMandates(t)
}

// failingMandates fails every call, as a broken database would.
type failingMandates struct{}

var errMandateDisk = errors.New("disk I/O error")

func (failingMandates) CreateMandate(context.Context, mandate.Mandate, *mandate.SMS, []mandate.Event) error {
	return errMandateDisk
}

func (failingMandates) Mandate(context.Context, string) (mandate.Mandate, error) {
	return mandate.Mandate{}, errMandateDisk
}

func (failingMandates) MandatesByPerson(context.Context, string, string) ([]mandate.Mandate, error) {
	return nil, errMandateDisk
}

func (failingMandates) UpdateMandate(context.Context, mandate.Mandate, []mandate.Event) error {
	return errMandateDisk
}

func (failingMandates) AppendMandateEvents(context.Context, []mandate.Event) error {
	return errMandateDisk
}

func (failingMandates) MandateJournal(context.Context, string, string) ([]mandate.Event, error) {
	return nil, errMandateDisk
}

var _ mandate.Store = failingMandates{}

// exerciseBrokenMandates causes the 500 of every mandate route, on a
// server whose mandate store fails, and counts them in bnd's coverage.
func (bnd *bundle) exerciseBrokenMandates(t *testing.T) {
	t.Helper()
	broken := &bundle{coverage: map[string]bool{}, a: bnd.a}
	var st api.Store = bnd.store
	srv := api.New(api.Config{}, api.Deps{
		Store: st, Connectors: connectors.NewRegistry(), Mandates: newMandates(t, failingMandates{}, bnd.clock.Now),
		Registry: prometheus.NewRegistry(), Now: bnd.clock.Now,
	})
	broken.srv = httptest.NewServer(srv)
	t.Cleanup(broken.srv.Close)
	a := broken.a
	id := "/v1/mandates/mdt_aaaaaaaaaaaaaaaa"
	ref := "?person=prs_" + strings.Repeat("a", 32)
	routes := []call{
		post(a, "/v1/mandates", encode(t, zoeMandate())),
		get(a, "/v1/mandates"+ref),
		get(a, id),
		{method: http.MethodDelete, path: id, auth: a.bearer()},
		post(a, id+"/confirm", []byte(`{"code":"123456"}`)),
		post(a, id+"/renew", nil),
		post(a, id+"/transfer", []byte(`{"professional":{"id":"a","name":"b"}}`)),
		get(a, "/v1/journal/mandates"+ref),
	}
	for _, c := range routes {
		p := wantProblem(t, broken.do(t, c), http.StatusInternalServerError, "internal_error")
		if strings.Contains(p.Detail, "disk") {
			t.Fatalf("the cause leaks: %+v", p)
		}
	}
	// A gateway built without a mandate service answers every mandate
	// route 503 mandates_not_configured, as documented.
	off := &bundle{coverage: broken.coverage, a: bnd.a}
	off.srv = httptest.NewServer(api.New(api.Config{}, api.Deps{Store: st, Connectors: connectors.NewRegistry(), Registry: prometheus.NewRegistry()}))
	t.Cleanup(off.srv.Close)
	for _, c := range routes {
		p := wantProblem(t, off.do(t, c), http.StatusServiceUnavailable, api.CodeMandatesNotConfigured)
		if !strings.Contains(p.Detail, "mandates.person_key") {
			t.Fatalf("%s %s: detail %q does not name the setting", c.method, c.path, p.Detail)
		}
	}
	bnd.addCoverage(broken)
}

// TestMandatesOff: a gateway without a mandate service answers 503
// mandates_not_configured and says which setting enables them, rather than
// an internal error that invites a retry.
func TestMandatesOff(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	off := httptest.NewServer(api.New(api.Config{}, api.Deps{Store: bnd.store, Registry: prometheus.NewRegistry(), Now: bnd.clock.Now}))
	t.Cleanup(off.Close)
	bnd.srv = off
	p := wantProblem(t, bnd.do(t, post(bnd.a, "/v1/mandates", encode(t, zoeMandate()))), http.StatusServiceUnavailable, "mandates_not_configured")
	if !strings.Contains(p.Detail, "mandates.person_key") || p.Title != "Mandates not configured" {
		t.Fatalf("problem %+v does not name the setting", p)
	}
	// Authentication still comes first.
	wantProblem(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/mandates/mdt_aaaaaaaaaaaaaaaa", docRejects: true}), http.StatusUnauthorized, "unauthenticated")
}
