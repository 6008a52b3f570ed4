package indicateurs

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mocks/platform"
)

// version is one version of a report, as stored.
type version struct {
	number     string
	finess     string
	year       int
	version    int
	hash       [sha256.Size]byte
	receivedAt time.Time
	supersedes string
	superseded string // by
}

// receipt is the wire form of a version.
type receipt struct {
	Number       string  `json:"receipt_number"`
	FINESS       string  `json:"finess"`
	Year         int     `json:"year"`
	Version      int     `json:"version"`
	Status       string  `json:"status"`
	ReceivedAt   string  `json:"received_at"`
	Supersedes   *string `json:"supersedes"`
	SupersededBy *string `json:"superseded_by"`
	Message      string  `json:"receipt_message"`
}

type versionList struct {
	FINESS         string    `json:"finess"`
	Year           int       `json:"year"`
	CurrentVersion int       `json:"current_version"`
	Versions       []receipt `json:"versions"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (v *version) receipt() receipt {
	r := receipt{
		Number: v.number, FINESS: v.finess, Year: v.year, Version: v.version, Status: "current",
		ReceivedAt: v.receivedAt.UTC().Format(time.RFC3339), Supersedes: optional(v.supersedes), SupersededBy: optional(v.superseded),
	}
	if v.superseded != "" {
		r.Status = "superseded"
	}
	r.Message = fmt.Sprintf("Rapport d'indicateurs %d reçu (version %d", v.year, v.version)
	if v.supersedes != "" {
		r.Message += ", remplace " + v.supersedes
	}
	r.Message += "), accusé " + v.number + "."
	return r
}

func reportKey(finess string, year int) string { return finess + "/" + strconv.Itoa(year) }

// store records a new version of a report as the current one; the caller
// holds s.mu.
func (s *Server) store(finess string, year, n int, body []byte, at time.Time) *version {
	key := reportKey(finess, year)
	s.seq[year]++
	v := &version{number: fmt.Sprintf("IND%04d-%06d", year, s.seq[year]), finess: finess, year: year, version: n, hash: sha256.Sum256(body), receivedAt: at}
	if history := s.reports[key]; len(history) > 0 {
		cur := history[len(history)-1]
		cur.superseded, v.supersedes = v.number, cur.number
		s.counts.Replacements++
	}
	s.reports[key] = append(s.reports[key], v)
	s.counts.Stored++
	return v
}

// submitted is what the endpoint reads of a report; the runtime has
// checked it against the schema.
type submitted struct {
	FINESS string `json:"finess"`
	Period struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
}

// submit serves POST /v1/establishments/{finess}/indicator-reports/{year}.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	finess := r.PathValue("finess")
	year, errY := strconv.Atoi(r.PathValue("year"))
	n, errV := strconv.Atoi(r.Header.Get("Report-Version"))
	var buf bytes.Buffer
	_, errB := buf.ReadFrom(r.Body)
	var rep submitted
	if errY != nil || errV != nil || errB != nil || json.Unmarshal(buf.Bytes(), &rep) != nil {
		problems.Write(w, http.StatusBadRequest, "INVALID_REQUEST", "La requête est invalide.")
		return
	}
	if !mapping.ValidFINESS(finess) {
		problems.Write(w, http.StatusUnprocessableEntity, "INVALID_FINESS", "Le numéro FINESS "+finess+" n'est pas valide (clé de contrôle).",
			platform.ProblemField{Pointer: "/finess", Detail: "La clé de contrôle de ce FINESS est fausse."})
		return
	}
	if rep.FINESS != finess {
		problems.Write(w, http.StatusUnprocessableEntity, "FINESS_MISMATCH", "Le FINESS du rapport n'est pas celui de l'adresse ("+finess+").",
			platform.ProblemField{Pointer: "/finess", Detail: "Ce FINESS n'est pas celui de l'établissement."})
		return
	}
	var errs []platform.ProblemField
	for _, f := range []struct{ pointer, date string }{{"/period/start", rep.Period.Start}, {"/period/end", rep.Period.End}} {
		if d, err := time.Parse(time.DateOnly, f.date); err != nil || d.Year() != year {
			errs = append(errs, platform.ProblemField{Pointer: f.pointer, Detail: fmt.Sprintf("Cette date n'est pas dans l'année %d.", year)})
		}
	}
	if len(errs) == 0 && rep.Period.End < rep.Period.Start {
		errs = append(errs, platform.ProblemField{Pointer: "/period/end", Detail: "La fin de la période précède son début."})
	}
	if len(errs) > 0 {
		problems.Write(w, http.StatusUnprocessableEntity, "PERIOD_OUTSIDE_YEAR", fmt.Sprintf("La période du rapport n'est pas comprise dans l'année %d.", year), errs...)
		return
	}

	hash := sha256.Sum256(buf.Bytes())
	s.mu.Lock()
	defer s.mu.Unlock()
	history := s.reports[reportKey(finess, year)]
	for _, v := range history {
		if v.hash == hash && v.version == n {
			s.counts.Replays++
			platform.WriteJSON(w, http.StatusOK, v.receipt())
			return
		}
	}
	if len(history) > 0 {
		cur := history[len(history)-1]
		switch {
		case n == cur.version:
			problems.Write(w, http.StatusConflict, "VERSION_CONFLICT", fmt.Sprintf("La version %d a déjà été reçue avec un autre contenu (%s) ; envoyez une version supérieure pour la remplacer.", n, cur.number))
			return
		case n < cur.version:
			problems.Write(w, http.StatusConflict, "OUTDATED_VERSION", fmt.Sprintf("La version %d est antérieure à la version %d déjà reçue (%s).", n, cur.version, cur.number))
			return
		}
	}
	v := s.store(finess, year, n, buf.Bytes(), s.opts.Now())
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		s.perKey[k]++
	}
	w.Header().Set("Location", r.URL.Path)
	platform.WriteJSON(w, http.StatusCreated, v.receipt())
}

// list serves GET /v1/establishments/{finess}/indicator-reports/{year}.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	finess := r.PathValue("finess")
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		problems.Write(w, http.StatusBadRequest, "INVALID_REQUEST", "La requête est invalide (year).")
		return
	}
	s.mu.Lock()
	history := s.reports[reportKey(finess, year)]
	out := versionList{FINESS: finess, Year: year, Versions: make([]receipt, len(history))}
	for i, v := range history {
		out.Versions[i] = v.receipt()
		out.CurrentVersion = v.version
	}
	s.mu.Unlock()
	if len(history) == 0 {
		problems.Write(w, http.StatusNotFound, "REPORT_NOT_FOUND", fmt.Sprintf("Aucun rapport d'indicateurs %d n'a été reçu pour cet établissement.", year))
		return
	}
	platform.WriteJSON(w, http.StatusOK, out)
}
