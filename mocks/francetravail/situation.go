package francetravail

import (
	"net/http"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

type registration struct {
	Number       string       `json:"numeroFranceTravail"`
	Registered   bool         `json:"inscrit"`
	Identity     identity     `json:"identite"`
	Registration Registration `json:"inscription"`
}

type identity struct {
	Civility  string  `json:"civilite"`
	BirthName string  `json:"nomNaissance"`
	UsedName  *string `json:"nomUsage"`
	FirstName string  `json:"prenom"`
	Sex       string  `json:"sexe"`
	BirthDate string  `json:"dateNaissance"`
}

type payments struct {
	Number   string    `json:"numeroFranceTravail"`
	Payments []Payment `json:"paiements"`
}

// person resolves the ft-jeton-usager header of r for the calling
// application, or writes the 403 and returns false.
func (s *Server) person(w http.ResponseWriter, r *http.Request) (Person, bool) {
	clientID := clientOf(r)
	s.mu.Lock()
	pg, ok := s.jetons[r.Header.Get("ft-jeton-usager")]
	s.mu.Unlock()
	switch {
	case !ok || (pg.clientID != "" && pg.clientID != clientID):
		writeBusiness(w, http.StatusForbidden, codeUserTokenInvalid, "Le jeton usager est inconnu ou n'a pas été délivré à cette application.")
		return Person{}, false
	case !pg.expires.IsZero() && !s.opts.Now().Before(pg.expires):
		writeBusiness(w, http.StatusForbidden, codeUserTokenExpired, "Le jeton usager a expiré ; relancez la recherche de l'usager.")
		return Person{}, false
	}
	return s.persons[pg.person], true
}

// registration serves GET /situation-usager/v1/inscription.
func (s *Server) registration(w http.ResponseWriter, r *http.Request) {
	p, ok := s.person(w, r)
	if !ok {
		return
	}
	today := s.opts.Now().UTC().Format(time.DateOnly)
	registered := p.Registration.Start <= today && (p.Registration.End == nil || *p.Registration.End > today)
	platform.WriteJSON(w, http.StatusOK, registration{
		Number:     p.Number,
		Registered: registered,
		Identity: identity{
			Civility:  p.Civility,
			BirthName: p.BirthName,
			UsedName:  p.UsedName,
			FirstName: p.FirstName,
			Sex:       p.Sex,
			BirthDate: p.BirthDate,
		},
		Registration: p.Registration,
	})
}

// payments serves GET /situation-usager/v1/paiements: the payments within
// [dateDebut, dateFin], oldest first. ISO dates compare as strings.
func (s *Server) payments(w http.ResponseWriter, r *http.Request) {
	p, ok := s.person(w, r)
	if !ok {
		return
	}
	from, to := r.URL.Query().Get("dateDebut"), r.URL.Query().Get("dateFin")
	if from != "" && to != "" && to < from {
		writeBusiness(w, http.StatusBadRequest, codeInvalidPeriod, "La période est invalide : dateFin précède dateDebut.")
		return
	}
	out := payments{Number: p.Number, Payments: []Payment{}}
	for _, pm := range p.Payments {
		if (from == "" || pm.Date >= from) && (to == "" || pm.Date <= to) {
			out.Payments = append(out.Payments, pm)
		}
	}
	platform.WriteJSON(w, http.StatusOK, out)
}
