package francetravail

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/relais-dev/relais/mocks/platform"
)

// Search outcomes (codeRetour).
const (
	codeFound   = "S001"
	codeNobody  = "S002"
	codeSeveral = "S003"
)

type searchResult struct {
	Code        string  `json:"codeRetour"`
	Message     string  `json:"message"`
	PersonToken *string `json:"jetonUsager"`
	Certified   *string `json:"topIdentiteCertifiee"`
}

// maxBody bounds JSON request bodies.
const maxBody = 64 << 10

// searchByNIR serves POST /rechercher-usager/v2/usagers/par-datenaissance-et-nir.
func (s *Server) searchByNIR(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BirthDate string `json:"dateNaissance"`
		NIR       string `json:"nir"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		writeBusiness(w, http.StatusBadRequest, codeInvalidRequest, "La requête est invalide.")
		return
	}
	base, err := nirBase(req.NIR)
	if errors.Is(err, errNIRKey) || len(base) != 13 {
		writeBusiness(w, http.StatusBadRequest, codeInvalidNIR, "Le NIR fourni est invalide (clé de contrôle incorrecte).")
		return
	}
	var found []int
	for i, p := range s.persons {
		if p.NIR[:13] == base && p.BirthDate == req.BirthDate {
			found = append(found, i)
		}
	}
	s.answerSearch(w, r, found)
}

// searchByNumber serves POST /rechercher-usager/v2/usagers/par-numero-francetravail.
func (s *Server) searchByNumber(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Number string `json:"numeroFranceTravail"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		writeBusiness(w, http.StatusBadRequest, codeInvalidRequest, "La requête est invalide.")
		return
	}
	var found []int
	for i, p := range s.persons {
		if p.Number == req.Number {
			found = append(found, i)
		}
	}
	s.answerSearch(w, r, found)
}

// answerSearch answers S001 with a fresh person token bound to the calling
// application, S002 or S003.
func (s *Server) answerSearch(w http.ResponseWriter, r *http.Request, found []int) {
	switch len(found) {
	case 0:
		platform.WriteJSON(w, http.StatusOK, searchResult{Code: codeNobody, Message: "Aucun approchant trouvé"})
		return
	case 1:
	default:
		platform.WriteJSON(w, http.StatusOK, searchResult{Code: codeSeveral, Message: "Plusieurs approchants trouvés"})
		return
	}
	clientID := clientOf(r)
	jeton := rand.Text() + rand.Text()
	now := s.opts.Now()
	s.mu.Lock()
	s.jetons[jeton] = personGrant{person: found[0], clientID: clientID, expires: now.Add(s.opts.PersonTokenTTL)}
	if n := s.personTokensIssued.Add(1); n%pruneEvery == 0 {
		for k, pg := range s.jetons {
			if !pg.expires.IsZero() && !now.Before(pg.expires) {
				delete(s.jetons, k)
			}
		}
	}
	s.mu.Unlock()
	certified := "N"
	if s.persons[found[0]].Certified {
		certified = "O"
	}
	platform.WriteJSON(w, http.StatusOK, searchResult{
		Code:        codeFound,
		Message:     "Approchant trouvé",
		PersonToken: &jeton,
		Certified:   &certified,
	})
}
