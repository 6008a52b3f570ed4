package oidc

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginPage is what the login template shows.
type loginPage struct {
	ID, ClientID, Provider, Error string
	Users                         []User
}

// consentPage is what the consent template shows.
type consentPage struct {
	ID, ClientID, Provider, User string
	Claims                       []claimLine
}

type claimLine struct{ Label, Value string }

// providerLabels are the providers' names on the pages.
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

// login shows the test users (GET) and signs one in (POST), then sends
// the browser to the consent page.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "méthode non autorisée", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.render(w, http.StatusBadRequest, "error", "Formulaire illisible.")
		return
	}
	id := r.Form.Get("id")
	a, ok := p.storage.request(id)
	if !ok || a.done {
		p.render(w, http.StatusBadRequest, "error", "Demande de connexion inconnue ou expirée.")
		return
	}
	page := loginPage{ID: id, ClientID: a.clientID, Provider: providerLabel(p.profile.Name), Users: p.opts.Users}
	if r.Method == http.MethodGet {
		p.render(w, http.StatusOK, "login", page)
		return
	}
	if r.Form.Get("action") == "cancel" {
		p.deny(w, r, id)
		return
	}
	userID := r.Form.Get("user")
	if userID == "" {
		u, ok := p.storage.users[r.Form.Get("login")]
		if !ok || u.Password == "" || u.Password != r.Form.Get("password") {
			page.Error = "Identifiant ou mot de passe incorrect."
			p.render(w, http.StatusUnauthorized, "login", page)
			return
		}
		userID = u.ID
	}
	if err := p.storage.login(id, userID); err != nil {
		page.Error = "Utilisateur inconnu."
		p.render(w, http.StatusBadRequest, "login", page)
		return
	}
	http.Redirect(w, r, p.base()+consentPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
}

// consent lists the claims the client asks for (GET) and, on the user's
// answer (POST), lets op issue the code or sends access_denied back.
func (p *Provider) consent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "méthode non autorisée", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.render(w, http.StatusBadRequest, "error", "Formulaire illisible.")
		return
	}
	id := r.Form.Get("id")
	a, ok := p.storage.request(id)
	if !ok || a.done || a.userID == "" {
		p.render(w, http.StatusBadRequest, "error", "Demande de connexion inconnue ou expirée.")
		return
	}
	if r.Method == http.MethodPost {
		if r.Form.Get("action") != "accept" {
			p.deny(w, r, id)
			return
		}
		if err := p.storage.consent(id); err != nil {
			p.render(w, http.StatusBadRequest, "error", "Demande de connexion inconnue ou expirée.")
			return
		}
		http.Redirect(w, r, p.base()+p.profile.AuthorizationPath+callbackPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	u := p.storage.users[a.userID]
	values := claimValues(u, a.scopes)
	page := consentPage{ID: id, ClientID: a.clientID, Provider: providerLabel(p.profile.Name), User: u.Label()}
	for _, c := range releasedClaims(u.Kind, a.scopes) {
		v, ok := values[c]
		if !ok {
			continue
		}
		page.Claims = append(page.Claims, claimLine{Label: claimLabels[c], Value: display(v)})
	}
	p.render(w, http.StatusOK, "consent", page)
}

func display(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "(non renseigné)"
		}
		return x
	case []string:
		return fmt.Sprint(slices.Clone(x))
	default:
		return fmt.Sprintf("%v", x)
	}
}

// deny ends the request with access_denied on the client's redirect URI.
func (p *Provider) deny(w http.ResponseWriter, r *http.Request, id string) {
	a, err := p.storage.AuthRequestByID(r.Context(), id)
	if err != nil {
		p.render(w, http.StatusBadRequest, "error", "Demande de connexion inconnue ou expirée.")
		return
	}
	op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the user cancelled the sign-in"), p.op)
	_ = p.storage.DeleteAuthRequest(context.WithoutCancel(r.Context()), id) // never fails
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' *")
	w.WriteHeader(status)
	// The templates are ours and the data well-formed: only a gone client
	// makes this fail.
	_ = p.pages.ExecuteTemplate(w, name, data)
}

// pagesHTML are the login, consent, error and logged-out pages, in
// French, without JavaScript.
const pagesHTML = `
{{define "head"}}<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} (simulation)</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.4rem 0}
.err{color:#b00}fieldset{margin:1rem 0}button{margin-right:1rem}</style></head><body>{{end}}

{{define "login"}}{{template "head" .Provider}}
<h1>Connexion avec {{.Provider}}</h1>
<p>Fournisseur d'identité simulé pour les tests. Service demandeur : <strong>{{.ClientID}}</strong>.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="login">
<input type="hidden" name="id" value="{{.ID}}">
<fieldset><legend>Choisissez un utilisateur de test</legend>
{{range .Users}}<label><input type="radio" name="user" value="{{.ID}}"> {{.Label}}</label>
{{end}}</fieldset>
<fieldset><legend>Ou saisissez un identifiant et un mot de passe</legend>
<label>Identifiant <input type="text" name="login" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
</fieldset>
<button type="submit" name="action" value="login">Se connecter</button>
<button type="submit" name="action" value="cancel" formnovalidate>Annuler</button>
</form></body></html>{{end}}

{{define "consent"}}{{template "head" .Provider}}
<h1>Autoriser la transmission de vos données</h1>
<p>Vous êtes connecté(e) : <strong>{{.User}}</strong>.</p>
<p>Le service <strong>{{.ClientID}}</strong> demande les informations suivantes :</p>
<ul>{{range .Claims}}<li>{{.Label}} : {{.Value}}</li>
{{else}}<li>Aucune information personnelle (identifiant technique seulement).</li>{{end}}</ul>
<form method="post" action="consent">
<input type="hidden" name="id" value="{{.ID}}">
<button type="submit" name="action" value="accept">Autoriser</button>
<button type="submit" name="action" value="deny">Refuser</button>
</form></body></html>{{end}}

{{define "error"}}{{template "head" "Erreur"}}
<h1>Connexion impossible</h1><p class="err">{{.}}</p></body></html>{{end}}

{{define "logged-out"}}{{template "head" "Déconnexion"}}
<h1>Vous êtes déconnecté(e)</h1><p>Vous pouvez fermer cette page.</p></body></html>{{end}}
`
