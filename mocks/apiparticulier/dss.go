package apiparticulier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mocks/platform"
)

// dssHandler serves one CAF/MSA route: `/v3/dss/<benefit>/identite` or
// `/v3/dss/<benefit>/france_connect`.
//
// The runtime has authenticated the caller (on a `/france_connect` route,
// resolved the citizen: platform.Principal) and checked the request against
// the contract. The handler then checks the recipient's SIRET, finds who is
// asked about (parameters, or the citizen), fails on purpose for the
// sandbox's trigger identities, serves the cache, finds the household and
// renders the benefit.
func (s *Server) dssHandler(benefit string, franceConnect bool) http.Handler {
	opID := operationID(benefit, franceConnect)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !validSIRET(q.Get("recipient")) {
			writeError(w, errInvalidRecipient, 0, "")
			return
		}
		var id Identity
		if franceConnect {
			// The runtime's authentication resolved the FranceConnect
			// access token (authenticate in server.go).
			c, ok := platform.Principal(r).(Citizen)
			if !ok {
				writeError(w, errInternal, 0, "")
				return
			}
			id = c.Identity()
		} else {
			var err error
			if id, err = identityFromQuery(q); err != nil {
				writeError(w, errCivility, 0, "")
				return
			}
		}
		now := s.opts.Now()
		month := currentMonth(now)
		if benefit == benefitQuotientFamilial {
			var bad string
			if month, bad = s.askedMonth(q, now); bad != "" {
				writeError(w, errCivility, 0, bad)
				return
			}
		}
		if k, ok := dssTrigger(id); ok {
			if k == errTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, k, 0, "")
			return
		}

		key := opID + "\x00" + id.key() + "\x00" + strconv.Itoa(int(month))
		noCache := bypassesCache(r)
		if !noCache {
			if body, left, ok := s.cache.get(key, now); ok {
				writeAnswer(w, body, true, left)
				return
			}
		}
		h := s.dataset().find(opID, id, s.communes)
		if h == nil {
			writeError(w, notFound(benefit), 0, "")
			return
		}
		data, k := render(benefit, h, month)
		if data == nil {
			writeError(w, k, 0, "")
			return
		}
		body, err := encode(envelope{Data: data})
		if err != nil {
			writeError(w, errInternal, 0, "")
			return
		}
		if !noCache {
			s.cache.put(key, body, now)
		}
		writeAnswer(w, body, false, 0)
	})
}

// dssTrigger is the error a sandbox identity triggers on every CAF/MSA
// route, whatever its other parameters: the platform's own (DESFOUIN René
// 429, DELANOUE Jean-Marie 502, SITUDI Clément 504) and two of Relais' (PANNE
// CNAV 504 37001, SATURATION CNAV 504 37008).
func dssTrigger(id Identity) (errorKind, bool) {
	switch mapping.FoldName(id.NomNaissance) + "|" + mapping.FoldName(strings.Join(id.Prenoms, " ")) {
	case "DESFOUIN|RENE":
		return errTooManyRequests, true
	case "DELANOUE|JEAN MARIE":
		return errProviderUnknown, true
	case "SITUDI|CLEMENT":
		return errProviderTimeout, true
	case "PANNE|CNAV":
		return errProviderUnavailable, true
	case "SATURATION|CNAV":
		return errProviderRateLimited, true
	}
	return 0, false
}

// notFound is the error of a benefit's route when nobody matches.
func notFound(benefit string) errorKind {
	switch benefit {
	case benefitQuotientFamilial:
		return errDossierAbsentCNAV
	case benefitComplementaireSante:
		return errDossierAbsentRNCPS
	}
	return errDossierInexistant
}

// bypassesCache reports whether the request asks for fresh data
// (`Cache-Control: no-cache`).
func bypassesCache(r *http.Request) bool {
	for _, v := range r.Header.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-cache") {
				return true
			}
		}
	}
	return false
}

// writeAnswer writes a successful JSON body with the cache headers: cached
// answers say so and the seconds they have left; fresh ones send an empty
// X-Cache-Expires-in.
func writeAnswer(w http.ResponseWriter, body []byte, cached bool, left time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Response-Cached", strconv.FormatBool(cached))
	expires := ""
	if cached {
		expires = strconv.FormatInt(int64((left+time.Second-1)/time.Second), 10)
	}
	h.Set("X-Cache-Expires-In", expires)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// encode writes v as JSON without HTML escaping, like the platform.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding an answer: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// month counts months since year 0: 12*year + month - 1.
type month int

func monthOf(year, m int) month { return month(year*12 + m - 1) }

func currentMonth(now time.Time) month { return monthOf(now.Year(), int(now.Month())) }

// askedMonth is the month of the quotient familial asked by annee and mois:
// the current month by default, the current year's month when only mois is
// given, the current month of annee when only annee is. A month in the
// future or more than History months back is refused: bad names the
// parameter at fault.
func (s *Server) askedMonth(q url.Values, now time.Time) (m month, bad string) {
	cur := currentMonth(now)
	annee, _ := strconv.Atoi(q.Get("annee")) // the contract made it an integer
	mois, _ := strconv.Atoi(q.Get("mois"))
	if annee == 0 && mois == 0 {
		return cur, ""
	}
	if annee == 0 {
		annee = now.Year()
	}
	if mois == 0 {
		mois = int(now.Month())
	}
	m = monthOf(annee, mois)
	switch {
	case m > cur && q.Has("mois"):
		return 0, "mois"
	case m > cur:
		return 0, "annee"
	case m < cur-month(s.opts.History):
		return 0, "annee"
	}
	return m, ""
}

// envelope is the platform's success body.
type envelope struct {
	Data  any      `json:"data"`
	Links struct{} `json:"links"`
	Meta  struct{} `json:"meta"`
}

// render is the data of a benefit's answer about h, or the error to answer
// instead.
func render(benefit string, h *Household, at month) (any, errorKind) {
	switch benefit {
	case benefitQuotientFamilial:
		qf, ok := h.quotientAt(at)
		if !ok {
			if h.Fournisseur == fournisseurMSA {
				return nil, errDossierAbsentMSA
			}
			return nil, errDossierAbsentCNAF
		}
		return quotientFamilialData{
			Allocataires:     members(h.Allocataires),
			Enfants:          members(h.Enfants),
			Adresse:          h.Adresse,
			QuotientFamilial: quotientFamilialValue{Fournisseur: h.Fournisseur, QuotientFamilial: qf},
		}, 0
	case benefitEaje:
		if h.ParticipationFamilialeEaje == nil {
			return nil, errDossierInexistant
		}
		return eajeData{
			Allocataires: eajeMembers(h.Allocataires),
			Enfants:      eajeMembers(h.Enfants),
			Adresse:      h.Adresse,
			Parametres:   *h.ParticipationFamilialeEaje,
		}, 0
	}
	d, received := h.Prestations[benefit]
	switch benefit {
	case benefitRSA, benefitPrimeActivite:
		if !received {
			return majorationData{}, 0
		}
		return majorationData{EstBeneficiaire: d.EstBeneficiaire, AvecMajoration: d.AvecMajoration, DateDebutDroit: d.DateDebutDroit}, 0
	case benefitComplementaireSante:
		if !received {
			return participationData{}, 0
		}
		return participationData{EstBeneficiaire: d.EstBeneficiaire, AvecParticipation: d.AvecParticipation, DateDebutDroit: d.DateDebutDroit}, 0
	case benefitAEEH:
		if !received {
			return aeehData{Status: "non_beneficiaire"}, 0
		}
		return aeehData{Status: d.Status, DateDebutDroit: d.DateDebutDroit}, 0
	default: // AAH, ASF
		if !received {
			return droitData{}, 0
		}
		return droitData{EstBeneficiaire: d.EstBeneficiaire, DateDebutDroit: d.DateDebutDroit}, 0
	}
}

// quotientAt is the quotient familial in force at m: the last one that took
// effect on or before m.
func (h *Household) quotientAt(m month) (QuotientFamilial, bool) {
	var best QuotientFamilial
	found := false
	for _, q := range h.QuotientsFamiliaux {
		qm := monthOf(q.Annee, q.Mois)
		if qm <= m && (!found || qm > monthOf(best.Annee, best.Mois)) {
			best, found = q, true
		}
	}
	return best, found
}

// memberData is a member in the quotient familial's answer.
type memberData struct {
	NomNaissance  string  `json:"nom_naissance"`
	NomUsage      *string `json:"nom_usage"`
	Prenoms       string  `json:"prenoms"`
	DateNaissance string  `json:"date_naissance"`
	Sexe          string  `json:"sexe"`
}

func members(ms []Member) []memberData {
	out := make([]memberData, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberData{NomNaissance: m.NomNaissance, NomUsage: m.NomUsage, Prenoms: m.Prenoms, DateNaissance: m.DateNaissance, Sexe: m.Sexe})
	}
	return out
}

// eajeMemberData is a member in the crèche fee's answer.
type eajeMemberData struct {
	memberData
	CodeCommuneNaissance *string `json:"code_cog_insee_commune_naissance"`
}

func eajeMembers(ms []Member) []eajeMemberData {
	out := make([]eajeMemberData, 0, len(ms))
	for i, m := range members(ms) {
		out = append(out, eajeMemberData{memberData: m, CodeCommuneNaissance: ms[i].CodeCommuneNaissance})
	}
	return out
}

type quotientFamilialData struct {
	Allocataires     []memberData          `json:"allocataires"`
	Enfants          []memberData          `json:"enfants"`
	Adresse          *Adresse              `json:"adresse"`
	QuotientFamilial quotientFamilialValue `json:"quotient_familial"`
}

type quotientFamilialValue struct {
	Fournisseur string `json:"fournisseur"`
	QuotientFamilial
}

type eajeData struct {
	Allocataires []eajeMemberData `json:"allocataires"`
	Enfants      []eajeMemberData `json:"enfants"`
	Adresse      *Adresse         `json:"adresse"`
	Parametres   ParametresEaje   `json:"parametres_calcul_participation_familiale"`
}

type majorationData struct {
	EstBeneficiaire bool    `json:"est_beneficiaire"`
	AvecMajoration  *bool   `json:"avec_majoration"`
	DateDebutDroit  *string `json:"date_debut_droit"`
}

type participationData struct {
	EstBeneficiaire   bool    `json:"est_beneficiaire"`
	AvecParticipation *bool   `json:"avec_participation"`
	DateDebutDroit    *string `json:"date_debut_droit"`
}

type aeehData struct {
	Status         string  `json:"status"`
	DateDebutDroit *string `json:"date_debut_droit"`
}

type droitData struct {
	EstBeneficiaire bool    `json:"est_beneficiaire"`
	DateDebutDroit  *string `json:"date_debut_droit"`
}

// validSIRET reports whether s is 14 digits whose Luhn sum is a multiple
// of 10.
func validSIRET(s string) bool {
	if len(s) != 14 {
		return false
	}
	sum := 0
	for i := range len(s) {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
