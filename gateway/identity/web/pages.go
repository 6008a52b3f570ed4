package web

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/mapping"
)

// pages renders the French pages.
type pages struct {
	t     *template.Template
	paris *time.Location
}

func newPages() *pages {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil { // no tzdata on the host: show UTC, labelled so
		loc = time.UTC
	}
	return &pages{t: template.Must(template.Must(template.New("").Parse(pagesHTML)).Parse(proPagesHTML)), paris: loc}
}

// categoryLabels and platformLabels name consent entries for people.
var (
	// categoryLabels has one label per data category (mapping.DataCategory).
	categoryLabels = map[string]string{
		string(mapping.DataIdentity):   "Identité",
		string(mapping.DataContact):    "Coordonnées",
		string(mapping.DataHousehold):  "Quotient familial, foyer et allocataires (CAF ou MSA)",
		string(mapping.DataBenefit):    "Prestations sociales (RSA, AAH, prime d'activité, complémentaire santé solidaire…)",
		string(mapping.DataEmployment): "Inscription et paiements France Travail",
		string(mapping.DataDocument):   "Documents",
		string(mapping.DataHealth):     "Données de santé",
		string(mapping.DataActivity):   "Activité de l'établissement",
	}
	platformLabels = map[string]string{
		"apiparticulier": "API Particulier",
		"francetravail":  "France Travail",
	}
)

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func (p *pages) date(t time.Time) string {
	t = t.In(p.paris)
	zone := ""
	if p.paris == time.UTC {
		zone = " (UTC)"
	}
	return fmt.Sprintf("%d %s %d à %02d:%02d%s", t.Day(), frMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute(), zone)
}

type consentLine struct {
	ID                    string
	Categories, Platforms []string
	GrantedAt, ExpiresAt  string
}

type accountData struct {
	GivenName, FamilyName, Provider, CSRF, SIRET, Organisation, Expires, Notice string
	// Pro links the professional space.
	Pro bool
	// Citizen shows the consents part.
	Citizen  bool
	Consents []consentLine
}

func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// form-action allows the logout redirect to the provider.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	// Our templates over well-formed data: only a gone client fails here.
	_ = p.t.ExecuteTemplate(w, name, data)
}

func (p *pages) message(w http.ResponseWriter, status int, title, text, back string) {
	p.render(w, status, "message", struct{ Title, Text, Back string }{title, text, back})
}

func (p *pages) signedOut(w http.ResponseWriter, providers []string) {
	type link struct{ Name, Label string }
	links := make([]link, 0, len(providers))
	for _, name := range providers {
		links = append(links, link{name, providerLabel(name)})
	}
	p.render(w, http.StatusUnauthorized, "signed-out", links)
}

func (p *pages) account(w http.ResponseWriter, s Session, consents []mandate.Consent, notice string) {
	d := accountData{
		GivenName: s.GivenName, FamilyName: s.FamilyName, Provider: providerLabel(s.Provider),
		CSRF: s.CSRF, SIRET: formatSIRET(s.SIRET), Organisation: s.Organisation, Expires: p.date(s.Expires), Notice: notice,
		Pro: s.Profile == oidc.ProfileProConnect && s.TenantID != "", Citizen: s.PersonRef != "",
	}
	for _, c := range consents {
		l := consentLine{ID: c.ID, GrantedAt: p.date(c.GrantedAt), ExpiresAt: p.date(c.ExpiresAt)}
		for _, k := range c.Categories {
			l.Categories = append(l.Categories, label(categoryLabels, k))
		}
		for _, k := range c.Platforms {
			l.Platforms = append(l.Platforms, label(platformLabels, k))
		}
		d.Consents = append(d.Consents, l)
	}
	p.render(w, http.StatusOK, "account", d)
}

func providerLabel(name string) string {
	switch name {
	case "franceconnect":
		return "FranceConnect"
	case "franceconnectplus":
		return "FranceConnect+"
	case "proconnect":
		return "ProConnect"
	case "prosanteconnect":
		return "Pro Santé Connect"
	default:
		return name
	}
}

const pagesHTML = `
{{define "head"}}<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} – Relais</title>
<style>body{font-family:sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
.err{color:#b00}.ok{color:#070}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style>
</head><body>{{end}}

{{define "message"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p class="err" role="alert">{{.Text}}</p>
{{if .Back}}<p><a href="{{.Back}}">Revenir à mon espace</a></p>{{end}}
</body></html>{{end}}

{{define "signed-out"}}{{template "head" "Mon espace"}}
<h1>Mon espace</h1>
<p>Vous n'êtes pas connecté(e).</p>
<ul>{{range .}}<li><a href="/auth/{{.Name}}/login?return_to=%2Fcompte">Se connecter avec {{.Label}}</a></li>
{{end}}</ul>
</body></html>{{end}}

{{define "account"}}{{template "head" "Mon espace"}}
<h1>Mon espace</h1>
<p id="who">Vous êtes connecté(e) : <strong id="given-name">{{.GivenName}}</strong> <strong id="family-name">{{.FamilyName}}</strong>, avec {{.Provider}}.</p>
{{if .Notice}}<p class="ok" role="status" id="notice">{{.Notice}}</p>{{end}}
{{if .Organisation}}<p>Organisation : <span id="organisation">{{.Organisation}}</span></p>{{end}}
{{if .SIRET}}<p>Établissement (SIRET) : {{.SIRET}}</p>{{end}}
{{if .Pro}}<p><a href="/pro" id="pro-link">Aller à l'espace professionnel (mandats)</a></p>{{end}}
<p>Votre session se termine le {{.Expires}}.</p>
{{if .Citizen}}<h2>Consentements en cours</h2>
{{if .Consents}}<table id="consents"><thead><tr><th>Données</th><th>Plateformes</th><th>Donné le</th><th>Valable jusqu'au</th><th></th></tr></thead><tbody>
{{range .Consents}}<tr class="consent"><td>{{range $i, $c := .Categories}}{{if $i}}, {{end}}{{$c}}{{end}}</td><td>{{range $i, $p := .Platforms}}{{if $i}}, {{end}}{{$p}}{{end}}</td><td>{{.GrantedAt}}</td><td>{{.ExpiresAt}}</td>
<td><form method="post" action="/compte/consentements/{{.ID}}/retrait"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" class="withdraw">Retirer ce consentement</button></form></td></tr>
{{end}}</tbody></table>
{{else}}<p id="no-consent">Aucun consentement en cours.</p>{{end}}{{end}}
<form method="post" action="/auth/logout">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="logout">Se déconnecter</button>
</form>
</body></html>{{end}}
`
