package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/mandate"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

// setupPro is a bundle on the mock ProConnect.
func setupPro(t *testing.T, opts ...options) *bundle {
	t.Helper()
	return setup(t, mockoidc.ProConnect(), oidc.ProfileProConnect, proScopes, opts...)
}

// pro signs user in through the mock ProConnect and returns their
// browser and the professional space's home page.
func (b *bundle) pro(t *testing.T, user mockoidc.User) (*browser, string) {
	t.Helper()
	br := newBrowser(t)
	if res, body := b.signIn(t, br, user.ID); res.StatusCode != http.StatusOK || res.Request.URL.Path != "/compte" {
		t.Fatalf("%s signing in: %s %d; body %.400s", user.ID, res.Request.URL, res.StatusCode, body)
	}
	res, page := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s on /pro: %d; body %.400s", user.ID, res.StatusCode, page)
	}
	return br, page
}

// zoeTraits are a person's traits as a professional types them.
func zoeTraits() url.Values {
	return url.Values{
		"family_name": {"Lefèvre"}, "given_names": {"Zoé Marie-Hélène"}, "birth_date": {"1948-03-14"}, "sex": {"female"},
		"birth_country": {"99134"},
	}
}

// zoe is the same person as the mandate service reads her.
func zoe() mandate.Person {
	return mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé Marie-Hélène", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
}

// postMultipart posts fields and, when attestation is not nil, the
// attestation file, as the creation form does.
func postMultipart(t *testing.T, c *http.Client, u string, fields url.Values, attestation []byte) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if attestation != nil {
		fw, err := mw.CreateFormFile("attestation", "attestation.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(attestation); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(res.Body); err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return res, body.String()
}

var attestationPDF = []byte("%PDF-1.4 attestation de mandat signée par Zoé Lefèvre")

// create posts the creation form with the traits of zoe and extra, and
// returns the final answer (the browser follows the redirect).
func (b *bundle) create(t *testing.T, br *browser, csrf string, extra url.Values, attestation []byte) (*http.Response, string) {
	t.Helper()
	form := zoeTraits()
	form.Set("csrf", csrf)
	for k, v := range extra {
		form[k] = v
	}
	return postMultipart(t, br.Client, b.relais.URL+"/pro/mandats", form, attestation)
}

var mandatePath = regexp.MustCompile(`^/pro/mandats/(mdt_[a-z2-7]{16})(/code)?$`)

// mandateOf is the id of the mandate page res landed on.
func mandateOf(t *testing.T, res *http.Response, body string) string {
	t.Helper()
	m := mandatePath.FindStringSubmatch(res.Request.URL.Path)
	if m == nil {
		t.Fatalf("landed on %s (%d), want a mandate page; body %.600s", res.Request.URL, res.StatusCode, body)
	}
	return m[1]
}

// createInPerson creates an active mandate for zoe and returns its id.
func (b *bundle) createInPerson(t *testing.T, br *browser, csrf string) string {
	t.Helper()
	res, body := b.create(t, br, csrf, url.Values{
		"demarches": {"social", "sante"}, "duration_days": {"31"}, "consent_method": {"in_person"},
	}, attestationPDF)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("creating a mandate: %d; body %.600s", res.StatusCode, body)
	}
	return mandateOf(t, res, body)
}

var smsCode = regexp.MustCompile(`donnez-lui ce code : ([0-9]{6})`)

// smsCodeFor reads, on the sandbox outbox page, the code sent for id.
func (b *bundle) smsCodeFor(t *testing.T, br *browser, id string) string {
	t.Helper()
	res, body := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro/sandbox/sms", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("outbox: %d; body %.300s", res.StatusCode, body)
	}
	for _, row := range strings.Split(html.UnescapeString(body), `<tr class="sms">`)[1:] {
		if strings.Contains(row, "/pro/mandats/"+id+"/code") {
			if m := smsCode.FindStringSubmatch(row); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no code for %s in the outbox: %.1500s", id, body)
	return ""
}

func (b *bundle) mandate(t *testing.T, id string) mandate.Mandate {
	t.Helper()
	m, err := b.store.Mandate(t.Context(), id)
	if err != nil {
		t.Fatalf("reading mandate %s: %v", id, err)
	}
	return m
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestProfessionalSpaceLifecycle: a professional signed in through the
// mock ProConnect creates an in-person and an SMS mandate, confirms the
// second with the code read from the sandbox outbox, finds both by the
// person's traits, renews, transfers to a colleague and revokes; every
// step is journaled as done by her.
func TestProfessionalSpaceLifecycle(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	b.pro(t, lucas) // Lucas has signed in once: he is in the directory.
	b.pro(t, karim)
	br, home := b.pro(t, sophie)
	page := html.UnescapeString(home)
	for _, want := range []string{"Sophie GARNIER", "ccas-exemple", "213 000 123 00009", sophie.Email, `href="/pro/sandbox/sms"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/pro does not show %q: %.800s", want, page)
		}
	}
	csrf := csrfOf(t, home)

	// In person: active at once, the attestation's SHA-256 kept.
	inPerson := b.createInPerson(t, br, csrf)
	m := b.mandate(t, inPerson)
	if m.TenantID != b.ccas || m.Professional != (mandate.Professional{ID: sophie.Subject, Name: "Sophie GARNIER"}) ||
		m.Status != mandate.StatusActive || m.Consent != mandate.InPerson || m.AttestationSHA256 != sha256Hex(attestationPDF) ||
		!slices.Equal(m.Demarches, []mandate.Demarche{mandate.Social, mandate.Sante}) || m.DurationDays != 31 {
		t.Fatalf("in-person mandate = %+v", m)
	}

	// By SMS: a draft, the code page, then the code from the outbox.
	res, body := b.create(t, br, csrf, url.Values{
		"demarches": {"logement"}, "duration_days": {"1"}, "consent_method": {"remote_sms"}, "phone": {"06 12 34 56 78"},
	}, nil)
	bySMS := mandateOf(t, res, body)
	if !strings.HasSuffix(res.Request.URL.Path, "/code") || !strings.Contains(body, `name="code"`) {
		t.Fatalf("after an SMS mandate: %s, want its code page; body %.500s", res.Request.URL, body)
	}
	if d := b.mandate(t, bySMS); d.Status != mandate.StatusDraft || d.Phone != "+33612345678" {
		t.Fatalf("SMS mandate = %+v, want a draft to +33612345678", d)
	}
	code := b.smsCodeFor(t, br, bySMS)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+bySMS+"/code", url.Values{"csrf": {csrf}, "code": {wrong}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "ne correspond pas") {
		t.Fatalf("a wrong code: %d; body %.400s", res.StatusCode, body)
	}
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+bySMS+"/code", url.Values{"csrf": {csrf}, "code": {code[:3] + " " + code[3:]}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/pro/mandats/"+bySMS || !strings.Contains(body, `data-status="active"`) {
		t.Fatalf("the right code: %s %d; body %.600s", res.Request.URL, res.StatusCode, body)
	}

	// The search posts the traits, typed differently; no URL carries them.
	search := url.Values{
		"csrf": {csrf}, "family_name": {" LEFEVRE "}, "given_names": {"zoe  marie-helene"}, "birth_date": {"1948-03-14"},
		"sex": {"female"}, "birth_country": {"99134"}, "birth_place": {"35238"}, // a place typed for someone born abroad is dropped
	}
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/recherche", search)
	if res.StatusCode != http.StatusOK || strings.Count(body, `class="mandate"`) != 2 ||
		!strings.Contains(body, inPerson) || !strings.Contains(body, bySMS) {
		t.Fatalf("search: %d, want both mandates; body %.1500s", res.StatusCode, body)
	}
	urls := []*url.URL{res.Request.URL}
	for _, hop := range br.hops {
		urls = append(urls, hop.Request.URL)
		if loc, err := hop.Location(); err == nil {
			urls = append(urls, loc)
		}
	}
	for _, u := range urls {
		q, _ := url.QueryUnescape(strings.ToLower(u.String()))
		for _, trait := range []string{"lefèvre", "lefevre", "1948-03-14", "marie-hélène", "marie-helene", "+33612345678"} {
			if strings.Contains(q, trait) {
				t.Errorf("the identity trait %q is in the URL %s", trait, u)
			}
		}
	}

	// Renew, transfer to the colleague, revoke.
	before := b.mandate(t, inPerson)
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+inPerson+"/renouvellement", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="notice"`) || b.mandate(t, inPerson).Version != before.Version+1 {
		t.Fatalf("renew: %s %d; body %.500s", res.Request.URL, res.StatusCode, body)
	}
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+inPerson+"/transfert", url.Values{"csrf": {csrf}, "to": {lucas.Subject}})
	if got := b.mandate(t, inPerson).Professional; res.StatusCode != http.StatusOK || got.ID != lucas.Subject || got.Name != "Lucas PETIT" {
		t.Fatalf("transfer to a colleague: %d, holder %+v; body %.500s", res.StatusCode, got, body)
	}
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+inPerson+"/revocation", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-status="revoked"`) || b.mandate(t, inPerson).Status != mandate.StatusRevoked {
		t.Fatalf("revoke: %d; body %.500s", res.StatusCode, body)
	}
	// A revoked mandate is not renewed.
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+inPerson+"/renouvellement", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(html.UnescapeString(body), "révoqué") {
		t.Fatalf("renewing a revoked mandate: %d; body %.400s", res.StatusCode, body)
	}

	// The journal: every action, by Sophie.
	events, err := b.mandates.Journal(t.Context(), b.ccas, mandate.PersonRef(personKey, zoe()))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		if e.APIKeyID != mandate.ActorProfessionalPrefix+sophie.Subject {
			t.Errorf("event %s %s journaled as done by %q, want Sophie", e.Action, e.MandateID, e.APIKeyID)
		}
		if e.MandateID == inPerson && e.Action != mandate.ActionCreateAutorisation {
			actions = append(actions, e.Action)
		}
	}
	want := []string{mandate.ActionCreateMandat, mandate.ActionRenewMandat, mandate.ActionTransferMandat, mandate.ActionCancelMandat}
	if !slices.Equal(actions, want) {
		t.Errorf("journal of %s = %v, want %v", inPerson, actions, want)
	}
	// The mandate's page shows that history.
	_, body = do(t, br.Client, http.MethodGet, b.relais.URL+"/pro/mandats/"+inPerson, nil)
	for _, want := range []string{"Renouvellement", "Transfert", "Révocation", "Sophie GARNIER"} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("the mandate's history lacks %q", want)
		}
	}
}

// TestTransferOnlyWithinTheOrganisation: a mandate goes to a colleague of
// the same organisation, never to a professional of another one, even one
// known to Relais.
func TestTransferOnlyWithinTheOrganisation(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	b.pro(t, karim)
	br, home := b.pro(t, sophie)
	csrf := csrfOf(t, home)
	id := b.createInPerson(t, br, csrf)
	// With no colleague in the directory, the page says so.
	_, page := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro/mandats/"+id, nil)
	if strings.Contains(page, `id="transfer"`) || !strings.Contains(html.UnescapeString(page), "un collègue de votre organisation doit s'être connecté") {
		t.Errorf("the mandate page offers a transfer without colleagues: %.1200s", page)
	}
	for name, to := range map[string]string{
		"a professional of another organisation": karim.Subject,
		"a professional who never signed in":     lucas.Subject,
		"nobody":                                 "",
	} {
		res, body := do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+id+"/transfert", url.Values{"csrf": {csrf}, "to": {to}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, web.CodeTransferOutsideOrganisation) {
			t.Errorf("transfer to %s: %d, want 422 %s; body %.500s", name, res.StatusCode, web.CodeTransferOutsideOrganisation, body)
		}
	}
	if got := b.mandate(t, id); got.Professional.ID != sophie.Subject || got.Version != 1 {
		t.Fatalf("a refused transfer changed the mandate: %+v", got)
	}
}

// TestProfessionalSpaceAcrossTenants: a professional of another
// organisation can neither see nor change the mandate: 404 everywhere,
// and the mandate is untouched.
func TestProfessionalSpaceAcrossTenants(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	b.pro(t, lucas)
	sb, sHome := b.pro(t, sophie)
	id := b.createInPerson(t, sb, csrfOf(t, sHome))
	kb, kHome := b.pro(t, karim)
	kcsrf := csrfOf(t, kHome)

	res, body := do(t, kb.Client, http.MethodGet, b.relais.URL+"/pro/mandats/"+id, nil)
	if res.StatusCode != http.StatusNotFound || strings.Contains(body, "Lefèvre") || strings.Contains(body, "Lef&#232;vre") {
		t.Errorf("GET another organisation's mandate: %d; body %.300s", res.StatusCode, body)
	}
	for _, c := range []struct {
		action string
		form   url.Values
	}{
		{"revocation", url.Values{}},
		{"renouvellement", url.Values{}},
		{"transfert", url.Values{"to": {karim.Subject}}},
		{"transfert", url.Values{"to": {lucas.Subject}}},
		{"code", url.Values{"code": {"123456"}}},
	} {
		c.form.Set("csrf", kcsrf)
		res, body := do(t, kb.Client, http.MethodPost, b.relais.URL+"/pro/mandats/"+id+"/"+c.action, c.form)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), "Mandat introuvable") {
			t.Errorf("POST %s on another organisation's mandate: %d, want 404; body %.300s", c.action, res.StatusCode, body)
		}
	}
	search := zoeTraits()
	search.Set("csrf", kcsrf)
	if res, body := do(t, kb.Client, http.MethodPost, b.relais.URL+"/pro/recherche", search); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, `id="no-results"`) {
		t.Errorf("search from another organisation: %d; body %.600s", res.StatusCode, body)
	}
	if got := b.mandate(t, id); got.Version != 1 || got.Status != mandate.StatusActive || got.Professional.ID != sophie.Subject {
		t.Fatalf("another organisation changed the mandate: %+v", got)
	}
}

// TestProfessionalSpaceNeedsCSRF: every POST of the space without the
// session's token, or with another session's, is refused and changes
// nothing.
func TestProfessionalSpaceNeedsCSRF(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	_, lucasHome := b.pro(t, lucas)
	br, home := b.pro(t, sophie)
	id := b.createInPerson(t, br, csrfOf(t, home))
	for _, token := range []string{"", "forged", csrfOf(t, lucasHome)} {
		for _, action := range []string{"/pro/recherche", "/pro/mandats/" + id + "/code", "/pro/mandats/" + id + "/revocation",
			"/pro/mandats/" + id + "/renouvellement", "/pro/mandats/" + id + "/transfert", "/auth/logout"} {
			form := zoeTraits()
			form.Set("to", lucas.Subject)
			form.Set("code", "123456")
			if token != "" {
				form.Set("csrf", token)
			}
			res, body := do(t, br.noRedirect(), http.MethodPost, b.relais.URL+action, form)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "jeton de sécurité") {
				t.Errorf("POST %s with token %q: %d, want 403; body %.300s", action, token, res.StatusCode, body)
			}
		}
		form := url.Values{"demarches": {"social"}, "duration_days": {"31"}, "consent_method": {"in_person"}}
		if token != "" {
			form.Set("csrf", token)
		}
		res, body := b.create(t, br, "", form, attestationPDF)
		if res.StatusCode != http.StatusForbidden || strings.Contains(res.Request.URL.Path, "/pro/mandats/mdt_") {
			t.Errorf("create with token %q: %s %d, want 403; body %.300s", token, res.Request.URL, res.StatusCode, body)
		}
	}
	list, err := b.mandates.ListByPerson(t.Context(), b.ccas, mandate.PersonRef(personKey, zoe()))
	if err != nil || len(list) != 1 || list[0].Version != 1 {
		t.Fatalf("mandates after forged posts: %+v, %v; want the one, unchanged", list, err)
	}
}

// TestCreateMandateInvalid: the form comes back with French messages, the
// values typed kept, and no mandate is made.
func TestCreateMandateInvalid(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	br, home := b.pro(t, sophie)
	csrf := csrfOf(t, home)
	for name, c := range map[string]struct {
		form        url.Values
		attestation []byte
		want        []string
	}{
		"nothing chosen": {url.Values{"sex": {""}}, nil, []string{"err-sex", "Cochez au moins une démarche", "err-duration_days", "err-consent_method"}},
		"SMS to a landline": {
			url.Values{"demarches": {"social"}, "duration_days": {"31"}, "consent_method": {"remote_sms"}, "phone": {"01 23 45 67 89"}},
			nil, []string{"err-phone", "06 ou 07"},
		},
		"in person without attestation": {
			url.Values{"demarches": {"sante"}, "duration_days": {"365"}, "consent_method": {"in_person"}},
			[]byte{}, []string{"err-attestation_sha256", "Joignez à nouveau l'attestation"},
		},
		"a duration Aidants Connect does not have": {
			url.Values{"demarches": {"sante"}, "duration_days": {"90"}, "consent_method": {"in_person"}},
			attestationPDF, []string{"err-duration_days", "1 jour, 1 mois, 6 mois ou 1 an"},
		},
		"born in France without a commune": {
			url.Values{"birth_country": {"99100"}, "demarches": {"sante"}, "duration_days": {"1"}, "consent_method": {"in_person"}},
			attestationPDF, []string{"err-birth_place", "code INSEE de la commune"},
		},
		"an unknown démarche": {
			url.Values{"demarches": {"impots"}, "duration_days": {"1"}, "consent_method": {"in_person"}},
			attestationPDF, []string{"err-demarches", "Cochez uniquement des démarches de la liste"},
		},
	} {
		res, body := b.create(t, br, csrf, c.form, c.attestation)
		page := html.UnescapeString(body)
		if res.StatusCode != http.StatusUnprocessableEntity || res.Request.URL.Path != "/pro/mandats" {
			t.Errorf("%s: %s %d, want 422 on the form; body %.400s", name, res.Request.URL, res.StatusCode, body)
			continue
		}
		for _, want := range append(c.want, `value="Zoé Marie-Hélène"`, `lang="fr"`) {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q: %.2000s", name, want, page)
			}
		}
	}
	if list, _ := b.mandates.ListByPerson(t.Context(), b.ccas, mandate.PersonRef(personKey, zoe())); len(list) != 0 {
		t.Fatalf("invalid forms made mandates: %+v", list)
	}
	// An attestation over 10 MB is refused before anything is made.
	res, body := b.create(t, br, csrf, url.Values{"demarches": {"social"}, "duration_days": {"31"}, "consent_method": {"in_person"}},
		bytes.Repeat([]byte{'x'}, 10<<20+1))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "10 Mo") {
		t.Fatalf("a huge attestation: %d; body %.300s", res.StatusCode, body)
	}
	// A search with incomplete traits says what is missing.
	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/recherche", url.Values{"csrf": {csrf}, "family_name": {"Lefèvre"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "Indiquez les prénoms") {
		t.Fatalf("an incomplete search: %d; body %.600s", res.StatusCode, body)
	}
}

// TestOrganisationNotRegistered: a professional whose SIRET no tenant has
// gets a French page with a stable code, and no session.
func TestOrganisationNotRegistered(t *testing.T) {
	t.Parallel()
	b := setupPro(t)
	br := newBrowser(t)
	res, body := b.signIn(t, br, nadia.ID)
	page := html.UnescapeString(body)
	if res.StatusCode != http.StatusForbidden || res.Request.URL.Path != "/auth/proconnect/callback" {
		t.Fatalf("landed on %s with %d, want the callback's 403", res.Request.URL, res.StatusCode)
	}
	for _, want := range []string{`lang="fr"`, "n'est pas inscrite sur Relais", "442 345 678 00019", web.CodeOrganisationNotRegistered} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q: %.800s", want, page)
		}
	}
	if b.sessions.Len() != 0 {
		t.Errorf("%d sessions after a refused organisation, want 0", b.sessions.Len())
	}
	for _, tenant := range []string{b.ccas, b.asso} {
		if dir, err := b.store.Professionals(t.Context(), tenant); err != nil || len(dir) != 0 {
			t.Errorf("directory of %s: %+v, %v; want empty", tenant, dir, err)
		}
	}
	if res, _ := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/pro after a refused organisation: %d, want 401", res.StatusCode)
	}
}

// TestProfessionalSpaceAccess: signed out, the space offers ProConnect;
// a citizen's session is turned away; without the sandbox flag there is
// no outbox.
func TestProfessionalSpaceAccess(t *testing.T) {
	t.Parallel()
	t.Run("signed out", func(t *testing.T) {
		t.Parallel()
		b := setupPro(t)
		for _, path := range []string{"/pro", "/pro/mandats/nouveau", "/pro/mandats/mdt_aaaaaaaaaaaaaaaa", "/pro/sandbox/sms"} {
			res, body := do(t, newBrowser(t).noRedirect(), http.MethodGet, b.relais.URL+path, nil)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `/auth/proconnect/login?return_to=%2Fpro`) {
				t.Errorf("%s signed out: %d; body %.300s", path, res.StatusCode, body)
			}
		}
	})
	t.Run("citizen", func(t *testing.T) {
		t.Parallel()
		b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
		br := newBrowser(t)
		_, page := b.signIn(t, br, "angela.dubois")
		res, body := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro", nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "ProConnect") {
			t.Errorf("/pro for a citizen: %d; body %.300s", res.StatusCode, body)
		}
		res, _ = do(t, br.Client, http.MethodPost, b.relais.URL+"/pro/recherche", url.Values{"csrf": {csrfOf(t, page)}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a search by a citizen: %d, want 403", res.StatusCode)
		}
	})
	t.Run("no sandbox outbox", func(t *testing.T) {
		t.Parallel()
		b := setupPro(t, options{noOutbox: true})
		br, home := b.pro(t, sophie)
		if strings.Contains(home, "/pro/sandbox/sms") {
			t.Error("the home links the outbox outside the sandbox")
		}
		if res, _ := do(t, br.Client, http.MethodGet, b.relais.URL+"/pro/sandbox/sms", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("/pro/sandbox/sms outside the sandbox: %d, want 404", res.StatusCode)
		}
	})
}
