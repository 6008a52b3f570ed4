package apiparticulier

import (
	"encoding/json"
	"net/http"

	"github.com/relais-dev/relais/mocks/platform"
)

// franceTravailStatut serves `/v3/france_travail/statut/identifiant`.
func (s *Server) franceTravailStatut(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobSeeker(w, r)
	if !ok {
		return
	}
	platform.WriteJSON(w, http.StatusOK, envelope{Data: statutData{
		Identifiant: j.Identifiant, Identite: j.Identite, Contact: j.Contact, Adresse: j.Adresse, Inscription: j.Inscription,
	}})
}

// franceTravailIndemnites serves `/v3/france_travail/indemnites/identifiant`.
// A person France Travail paid nothing is not found, as the answer must
// list at least one payment.
func (s *Server) franceTravailIndemnites(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobSeeker(w, r)
	if !ok {
		return
	}
	if len(j.Paiements) == 0 {
		writeError(w, errFTNotFound, 0, "")
		return
	}
	platform.WriteJSON(w, http.StatusOK, envelope{Data: indemnitesData{Identifiant: j.Identifiant, Paiements: j.Paiements}})
}

// jobSeeker finds the person a France Travail call asks about, or answers
// the error.
func (s *Server) jobSeeker(w http.ResponseWriter, r *http.Request) (jobSeeker, bool) {
	q := r.URL.Query()
	if !validSIRET(q.Get("recipient")) {
		writeError(w, errInvalidRecipient, 0, "")
		return jobSeeker{}, false
	}
	id := q.Get("identifiant")
	if id == "" {
		writeError(w, errMissingIdentifiant, 0, "")
		return jobSeeker{}, false
	}
	if k, ok := franceTravailTrigger(id); ok {
		writeError(w, k, 0, "")
		return jobSeeker{}, false
	}
	j, ok := s.fixtures.jobSeekers[id]
	if !ok {
		writeError(w, errFTNotFound, 0, "")
		return jobSeeker{}, false
	}
	return j, true
}

// franceTravailTrigger is the error a sandbox identifier triggers (designed
// by Relais: the platform's sandbox has none).
func franceTravailTrigger(identifiant string) (errorKind, bool) {
	switch identifiant {
	case "erreur_fournisseur":
		return errFTUnknown, true
	case "indisponible":
		return errFTUnavailable, true
	case "hors_delai":
		return errFTTimeout, true
	}
	return 0, false
}

type statutData struct {
	Identifiant string          `json:"identifiant"`
	Identite    json.RawMessage `json:"identite"`
	Contact     json.RawMessage `json:"contact"`
	Adresse     json.RawMessage `json:"adresse"`
	Inscription json.RawMessage `json:"inscription"`
}

type indemnitesData struct {
	Identifiant string     `json:"identifiant"`
	Paiements   []paiement `json:"paiements"`
}
