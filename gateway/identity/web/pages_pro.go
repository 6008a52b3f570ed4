package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
)

// The professional space's pages: view models built here, in Go, so that
// the templates only print strings.

// demarcheLabels name the démarches as Aidants Connect shows them, plus
// santé.
var demarcheLabels = map[mandate.Demarche]string{
	mandate.Papiers:    "Papiers – Citoyenneté",
	mandate.Famille:    "Famille – Scolarité",
	mandate.Social:     "Social – Solidarités",
	mandate.Travail:    "Travail – Formation",
	mandate.Logement:   "Logement",
	mandate.Transports: "Transports – Mobilité",
	mandate.Argent:     "Argent – Impôts – Consommation",
	mandate.Justice:    "Justice",
	mandate.Etranger:   "Étranger",
	mandate.Loisirs:    "Loisirs – Sport – Culture",
	mandate.Sante:      "Santé",
}

func demarcheLabel(d mandate.Demarche) string {
	if l, ok := demarcheLabels[d]; ok {
		return l
	}
	return string(d)
}

func durationLabel(days int) string {
	switch days {
	case 1:
		return "1 jour"
	case 31:
		return "1 mois (31 jours)"
	case 182:
		return "6 mois (182 jours)"
	case 365:
		return "1 an (365 jours)"
	}
	return strconv.Itoa(days) + " jours"
}

var statusLabels = map[mandate.Status]string{
	mandate.StatusDraft:   "En attente du code SMS",
	mandate.StatusActive:  "Actif",
	mandate.StatusExpired: "Expiré",
	mandate.StatusRevoked: "Révoqué",
}

var consentLabels = map[mandate.ConsentMethod]string{
	mandate.InPerson:  "En présence de la personne (attestation signée)",
	mandate.RemoteSMS: "À distance, par code SMS",
}

var actionLabels = map[string]string{
	mandate.ActionCreateMandat:       "Création du mandat",
	mandate.ActionCreateAutorisation: "Autorisation",
	mandate.ActionConfirmMandat:      "Confirmation par code SMS",
	mandate.ActionCancelMandat:       "Révocation",
	mandate.ActionRenewMandat:        "Renouvellement",
	mandate.ActionTransferMandat:     "Transfert",
	mandate.ActionUseAutorisation:    "Utilisation",
}

// proHeader is the top of every page of the space.
type proHeader struct {
	Name, Organisation, SIRET, Email, CSRF string
	// Sandbox links the SMS outbox.
	Sandbox bool
}

type mandateLine struct {
	ID, Demarches, Duration, Status, StatusCode, Professional, Created, Expires string
}

type proHomeData struct {
	proHeader
	Person   personFields
	Errors   fieldErrors
	Searched bool
	Results  []mandateLine
}

type choice struct {
	Value, Label string
	Checked      bool
}

type proNewData struct {
	proHeader
	Person               personFields
	Demarches, Durations []choice
	Consent, Phone       string
	Errors               fieldErrors
}

type mandateDetail struct {
	ID, FamilyName, GivenNames, Born, BirthDate, Sex, BirthCountry, BirthPlace string
	Demarches                                                                  []string
	Duration, Status, StatusCode, Professional, Consent                        string
	Attestation, Phone, Created, Expires, Confirmed, Revoked                   string
}

type historyLine struct {
	At, Action, Demarches, Outcome, Actor string
}

type proMandateData struct {
	proHeader
	Notice, Problem                              string
	M                                            mandateDetail
	CanConfirm, CanRevoke, CanRenew, CanTransfer bool
	Colleagues                                   []choice
	History                                      []historyLine
}

type proCodeData struct {
	proHeader
	ID, Phone, Error string
}

type smsLine struct {
	At, To, Body, MandateID string
}

type proOutboxData struct {
	proHeader
	Messages []smsLine
}

func (p *pages) proSignedOut(w http.ResponseWriter, providers []string) {
	type link struct{ Name, Label string }
	links := make([]link, 0, len(providers))
	for _, name := range providers {
		links = append(links, link{name, providerLabel(name)})
	}
	p.render(w, http.StatusUnauthorized, "pro-signed-out", links)
}

func (p *pages) proHome(w http.ResponseWriter, status int, d proHomeData) {
	p.render(w, status, "pro-home", d)
}

func (p *pages) proNew(w http.ResponseWriter, status int, d proNewData) {
	p.render(w, status, "pro-new", d)
}

func (p *pages) proMandate(w http.ResponseWriter, status int, d proMandateData) {
	p.render(w, status, "pro-mandate", d)
}

func (p *pages) proCode(w http.ResponseWriter, status int, d proCodeData) {
	p.render(w, status, "pro-code", d)
}

func joinDemarches(ds []mandate.Demarche) string {
	labels := make([]string, len(ds))
	for i, d := range ds {
		labels[i] = demarcheLabel(d)
	}
	return strings.Join(labels, ", ")
}

// line is m in a list.
func (p *pages) line(m mandate.Mandate, now time.Time) mandateLine {
	st := m.StatusAt(now)
	return mandateLine{
		ID: m.ID, Demarches: joinDemarches(m.Demarches), Duration: durationLabel(m.DurationDays), Status: statusLabels[st],
		StatusCode: string(st), Professional: m.Professional.Name, Created: p.date(m.CreatedAt), Expires: p.date(m.ExpiresAt),
	}
}

// newMandateData is the creation form, filled with f.
func newMandateData(h proHeader, f createForm, errs fieldErrors) proNewData {
	d := proNewData{proHeader: h, Person: f.Person, Consent: f.Consent, Phone: f.Phone, Errors: errs}
	for _, dm := range mandate.Demarches() {
		d.Demarches = append(d.Demarches, choice{Value: string(dm), Label: demarcheLabel(dm), Checked: slices.Contains(f.Demarches, string(dm))})
	}
	for _, days := range mandate.DurationDays() {
		v := strconv.Itoa(days)
		d.Durations = append(d.Durations, choice{Value: v, Label: durationLabel(days), Checked: v == f.Duration})
	}
	return d
}

func birthDateFR(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("02/01/2006")
}

func (p *pages) optDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return p.date(*t)
}

// mandateData is the page of m: its detail, its history, and the actions
// its status allows.
func (p *pages) mandateData(h proHeader, m mandate.Mandate, events []mandate.Event, colleagues []mandate.Professional,
	now time.Time, notice, problem string,
) proMandateData {
	st := m.StatusAt(now)
	sex, born := "masculin", "né le"
	if m.Person.Sex == "female" {
		sex, born = "féminin", "née le"
	}
	d := proMandateData{
		proHeader: h, Notice: notice, Problem: problem,
		M: mandateDetail{
			ID: m.ID, FamilyName: m.Person.FamilyName, GivenNames: m.Person.GivenNames, Born: born, BirthDate: birthDateFR(m.Person.BirthDate),
			Sex: sex, BirthCountry: m.Person.BirthCountry, BirthPlace: m.Person.BirthPlace,
			Duration: durationLabel(m.DurationDays), Status: statusLabels[st], StatusCode: string(st), Professional: m.Professional.Name,
			Consent: consentLabels[m.Consent], Attestation: m.AttestationSHA256, Phone: m.Phone,
			Created: p.date(m.CreatedAt), Expires: p.date(m.ExpiresAt), Confirmed: p.optDate(m.ConfirmedAt), Revoked: p.optDate(m.RevokedAt),
		},
		CanConfirm: st == mandate.StatusDraft,
		CanRevoke:  st == mandate.StatusDraft || st == mandate.StatusActive,
		CanRenew:   st == mandate.StatusActive || st == mandate.StatusExpired,
	}
	for _, dm := range m.Demarches {
		d.M.Demarches = append(d.M.Demarches, demarcheLabel(dm))
	}
	names := map[string]string{}
	for _, c := range colleagues {
		names[c.ID] = c.Name
		if c.ID != m.Professional.ID {
			d.Colleagues = append(d.Colleagues, choice{Value: c.ID, Label: c.Name})
		}
	}
	d.CanTransfer = (st == mandate.StatusDraft || st == mandate.StatusActive) && len(d.Colleagues) > 0
	for _, e := range events {
		outcome := "accepté"
		if e.Outcome == mandate.OutcomeRefused {
			outcome = "refusé"
		}
		actor := "Clé d'API " + e.APIKeyID
		if id, ok := strings.CutPrefix(e.APIKeyID, mandate.ActorProfessionalPrefix); ok {
			actor = names[id]
			if actor == "" {
				actor = "Professionnel (ProConnect)"
			}
		}
		action := actionLabels[e.Action]
		if action == "" {
			action = e.Action
		}
		d.History = append(d.History, historyLine{
			At: p.date(e.At), Action: action, Demarches: joinDemarches(e.Demarches), Outcome: outcome, Actor: actor,
		})
	}
	return d
}

const proPagesHTML = `
{{define "pro-top"}}<header id="pro-header"><p><strong>Relais</strong> – Espace professionnel ·
<span id="pro-name">{{.Name}}</span>, <span id="pro-organisation">{{.Organisation}}</span> (SIRET {{.SIRET}}){{if .Email}} · {{.Email}}{{end}}</p>
<nav><a href="/pro">Rechercher</a> · <a href="/pro/mandats/nouveau" id="new-mandate">Nouveau mandat</a>{{if .Sandbox}} · <a href="/pro/sandbox/sms" id="sandbox-sms">SMS envoyés (bac à sable)</a>{{end}} · <a href="/compte">Mon compte</a></nav>
<form method="post" action="/auth/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" id="logout">Se déconnecter</button></form>
</header>{{end}}

{{define "person-fields"}}<fieldset><legend>Identité de la personne (état civil)</legend>
<p><label for="family_name">Nom de naissance</label><br><input id="family_name" name="family_name" value="{{.Person.FamilyName}}" maxlength="200" required autocomplete="off">
{{with index .Errors "family_name"}}<br><span class="err" id="err-family_name">{{.}}</span>{{end}}</p>
<p><label for="given_names">Prénoms (tous, dans l'ordre de l'état civil)</label><br><input id="given_names" name="given_names" value="{{.Person.GivenNames}}" maxlength="200" required autocomplete="off">
{{with index .Errors "given_names"}}<br><span class="err" id="err-given_names">{{.}}</span>{{end}}</p>
<p><label for="birth_date">Date de naissance</label><br><input id="birth_date" name="birth_date" type="date" value="{{.Person.BirthDate}}" required>
{{with index .Errors "birth_date"}}<br><span class="err" id="err-birth_date">{{.}}</span>{{end}}</p>
<p>Sexe :
<label><input type="radio" name="sex" value="female"{{if eq .Person.Sex "female"}} checked{{end}}> féminin</label>
<label><input type="radio" name="sex" value="male"{{if eq .Person.Sex "male"}} checked{{end}}> masculin</label>
{{with index .Errors "sex"}}<br><span class="err" id="err-sex">{{.}}</span>{{end}}</p>
<p><label for="birth_country">Pays de naissance (code INSEE, 99100 pour la France)</label><br><input id="birth_country" name="birth_country" value="{{.Person.BirthCountry}}" maxlength="5" required>
{{with index .Errors "birth_country"}}<br><span class="err" id="err-birth_country">{{.}}</span>{{end}}</p>
<p><label for="birth_place">Commune de naissance (code INSEE, si née ou né en France)</label><br><input id="birth_place" name="birth_place" value="{{.Person.BirthPlace}}" maxlength="5">
{{with index .Errors "birth_place"}}<br><span class="err" id="err-birth_place">{{.}}</span>{{end}}</p>
</fieldset>{{end}}

{{define "pro-signed-out"}}{{template "head" "Espace professionnel"}}
<h1>Espace professionnel</h1>
<p>Vous n'êtes pas connecté(e). L'espace professionnel est réservé aux professionnels dont l'organisation est inscrite sur Relais.</p>
<ul>{{range .}}<li><a href="/auth/{{.Name}}/login?return_to=%2Fpro">Se connecter avec {{.Label}}</a></li>
{{end}}</ul>
</body></html>{{end}}

{{define "pro-home"}}{{template "head" "Espace professionnel"}}{{template "pro-top" .}}
<h1>Mandats de votre organisation</h1>
<h2>Rechercher les mandats d'une personne</h2>
<p>Saisissez l'identité de la personne : elle n'est jamais mise dans l'adresse de la page.</p>
<form method="post" action="/pro/recherche" id="search">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{template "person-fields" .}}
<button type="submit" id="search-submit">Rechercher</button>
</form>
{{if .Searched}}<h2>Résultats</h2>
{{if .Results}}<table id="results"><thead><tr><th>Démarches</th><th>Durée</th><th>Statut</th><th>Tenu par</th><th>Créé le</th><th>Expire le</th><th></th></tr></thead><tbody>
{{range .Results}}<tr class="mandate" data-id="{{.ID}}" data-status="{{.StatusCode}}"><td>{{.Demarches}}</td><td>{{.Duration}}</td><td>{{.Status}}</td><td>{{.Professional}}</td><td>{{.Created}}</td><td>{{.Expires}}</td><td><a href="/pro/mandats/{{.ID}}">Ouvrir</a></td></tr>
{{end}}</tbody></table>
{{else}}<p id="no-results">Votre organisation ne détient aucun mandat pour cette personne.</p>{{end}}{{end}}
</body></html>{{end}}

{{define "pro-new"}}{{template "head" "Nouveau mandat"}}{{template "pro-top" .}}
<h1>Nouveau mandat</h1>
{{if .Errors}}<p class="err" role="alert" id="form-errors">Le mandat n'a pas été créé : corrigez les champs signalés.{{if .Errors.attestation_sha256}} Joignez à nouveau l'attestation.{{end}}</p>{{end}}
<form method="post" action="/pro/mandats" enctype="multipart/form-data" id="create">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{template "person-fields" .}}
<fieldset><legend>Démarches couvertes</legend>
{{range .Demarches}}<label><input type="checkbox" name="demarches" value="{{.Value}}"{{if .Checked}} checked{{end}}> {{.Label}}</label><br>
{{end}}{{with index .Errors "demarches"}}<span class="err" id="err-demarches">{{.}}</span>{{end}}</fieldset>
<fieldset><legend>Durée</legend>
{{range .Durations}}<label><input type="radio" name="duration_days" value="{{.Value}}"{{if .Checked}} checked{{end}}> {{.Label}}</label><br>
{{end}}{{with index .Errors "duration_days"}}<span class="err" id="err-duration_days">{{.}}</span>{{end}}</fieldset>
<fieldset><legend>Accord de la personne</legend>
<p><label><input type="radio" name="consent_method" value="in_person"{{if eq .Consent "in_person"}} checked{{end}}> En ma présence : la personne a signé l'attestation de mandat</label><br>
<label for="attestation">Attestation signée (PDF ou image, 10 Mo au plus ; seule son empreinte SHA-256 est conservée)</label><br>
<input id="attestation" name="attestation" type="file" accept="application/pdf,image/*">
{{with index .Errors "attestation_sha256"}}<br><span class="err" id="err-attestation_sha256">{{.}}</span>{{end}}</p>
<p><label><input type="radio" name="consent_method" value="remote_sms"{{if eq .Consent "remote_sms"}} checked{{end}}> À distance : la personne reçoit un code par SMS</label><br>
<label for="phone">Mobile de la personne</label><br><input id="phone" name="phone" type="tel" value="{{.Phone}}" placeholder="06 12 34 56 78" autocomplete="off">
{{with index .Errors "phone"}}<br><span class="err" id="err-phone">{{.}}</span>{{end}}</p>
{{with index .Errors "consent_method"}}<span class="err" id="err-consent_method">{{.}}</span>{{end}}
{{with index .Errors "professional.id"}}<span class="err" id="err-professional">{{.}}</span>{{end}}
</fieldset>
<button type="submit" id="create-submit">Créer le mandat</button>
</form>
</body></html>{{end}}

{{define "pro-mandate"}}{{template "head" "Mandat"}}{{template "pro-top" .}}
<h1>Mandat <code id="mandate-id">{{.M.ID}}</code></h1>
{{if .Notice}}<p class="ok" role="status" id="notice">{{.Notice}}</p>{{end}}
{{if .Problem}}<p class="err" role="alert" id="problem">{{.Problem}}</p>{{end}}
<table id="mandate"><tbody>
<tr><th>Statut</th><td id="status" data-status="{{.M.StatusCode}}">{{.M.Status}}</td></tr>
<tr><th>Personne</th><td id="person">{{.M.GivenNames}} {{.M.FamilyName}}, {{.M.Born}} {{.M.BirthDate}} (sexe {{.M.Sex}}), pays {{.M.BirthCountry}}{{if .M.BirthPlace}}, commune {{.M.BirthPlace}}{{end}}</td></tr>
<tr><th>Démarches</th><td id="demarches">{{range $i, $d := .M.Demarches}}{{if $i}}, {{end}}{{$d}}{{end}}</td></tr>
<tr><th>Durée</th><td>{{.M.Duration}}</td></tr>
<tr><th>Tenu par</th><td id="holder">{{.M.Professional}}</td></tr>
<tr><th>Accord</th><td>{{.M.Consent}}{{if .M.Attestation}}<br>Empreinte SHA-256 de l'attestation : <code id="attestation-sha256">{{.M.Attestation}}</code>{{end}}{{if .M.Phone}}<br>Mobile : {{.M.Phone}}{{end}}</td></tr>
<tr><th>Créé le</th><td>{{.M.Created}}</td></tr>
<tr><th>Expire le</th><td id="expires">{{.M.Expires}}</td></tr>
{{if .M.Confirmed}}<tr><th>Confirmé le</th><td>{{.M.Confirmed}}</td></tr>{{end}}
{{if .M.Revoked}}<tr><th>Révoqué le</th><td>{{.M.Revoked}}</td></tr>{{end}}
</tbody></table>
<h2>Actions</h2>
{{if .CanConfirm}}<p><a href="/pro/mandats/{{.M.ID}}/code" id="confirm-link">Saisir le code reçu par la personne</a></p>{{end}}
{{if .CanRenew}}<form method="post" action="/pro/mandats/{{.M.ID}}/renouvellement"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" id="renew">Renouveler pour {{.M.Duration}}</button></form>{{end}}
{{if .CanTransfer}}<form method="post" action="/pro/mandats/{{.M.ID}}/transfert"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="to">Transférer à un collègue</label> <select id="to" name="to">{{range .Colleagues}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select>
<button type="submit" id="transfer">Transférer</button></form>
{{else if or .CanConfirm .CanRevoke}}<p>Pour transférer ce mandat, un collègue de votre organisation doit s'être connecté au moins une fois avec ProConnect.</p>{{end}}
{{if .CanRevoke}}<form method="post" action="/pro/mandats/{{.M.ID}}/revocation"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" id="revoke">Révoquer le mandat</button></form>{{end}}
<h2>Historique</h2>
<table id="history"><thead><tr><th>Date</th><th>Action</th><th>Démarches</th><th>Résultat</th><th>Par</th></tr></thead><tbody>
{{range .History}}<tr><td>{{.At}}</td><td>{{.Action}}</td><td>{{.Demarches}}</td><td>{{.Outcome}}</td><td>{{.Actor}}</td></tr>
{{end}}</tbody></table>
</body></html>{{end}}

{{define "pro-code"}}{{template "head" "Code de confirmation"}}{{template "pro-top" .}}
<h1>Code de confirmation</h1>
<p>Un SMS a été envoyé au {{.Phone}}. Demandez à la personne le code à 6 chiffres qu'il contient.</p>
{{if .Error}}<p class="err" role="alert" id="code-error">{{.Error}}</p>{{end}}
<form method="post" action="/pro/mandats/{{.ID}}/code" id="confirm">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="code">Code</label> <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required>
<button type="submit" id="confirm-submit">Confirmer le mandat</button>
</form>
<p><a href="/pro/mandats/{{.ID}}">Voir le mandat</a></p>
</body></html>{{end}}

{{define "pro-outbox"}}{{template "head" "SMS envoyés"}}{{template "pro-top" .}}
<h1>SMS envoyés (bac à sable)</h1>
<p>Le bac à sable n'envoie aucun SMS : voici les derniers messages de votre organisation, du plus récent au plus ancien.</p>
{{if .Messages}}<table id="outbox"><thead><tr><th>Date</th><th>Destinataire</th><th>Message</th><th>Mandat</th></tr></thead><tbody>
{{range .Messages}}<tr class="sms"><td>{{.At}}</td><td>{{.To}}</td><td class="body">{{.Body}}</td><td><a href="/pro/mandats/{{.MandateID}}/code">{{.MandateID}}</a></td></tr>
{{end}}</tbody></table>
{{else}}<p>Aucun SMS.</p>{{end}}
</body></html>{{end}}

{{define "not-registered"}}{{template "head" "Organisation non inscrite"}}
<h1>Organisation non inscrite</h1>
<p class="err" role="alert">Votre organisation (SIRET {{.SIRET}}) n'est pas inscrite sur Relais : vous ne pouvez pas encore y gérer de mandats.
Demandez à la personne qui administre Relais pour votre structure de l'inscrire avec ce SIRET, puis reconnectez-vous.</p>
<p>Code à communiquer au support : <code id="error-code">{{.Code}}</code></p>
</body></html>{{end}}
`
