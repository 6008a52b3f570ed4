package cafpsu

import (
	"net/http"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

type structureView struct {
	PartnerNumber     string          `json:"partner_number"`
	Name              string          `json:"name"`
	SIRET             string          `json:"siret"`
	FINESS            *string         `json:"finess"`
	City              string          `json:"city"`
	Capacity          int             `json:"capacity"`
	DeadlinesEnforced bool            `json:"deadlines_enforced"`
	Calendar          []calendarEntry `json:"calendar"`
}

type calendarEntry struct {
	Year                  int     `json:"year"`
	Kind                  Kind    `json:"kind"`
	Opens                 string  `json:"opens"`
	Deadline              string  `json:"deadline"`
	State                 string  `json:"state"`
	LastVersion           *int    `json:"last_version"`
	LastDeclarationNumber *string `json:"last_declaration_number"`
}

// getStructure serves GET /v1/structures/{partner_number}: the structure
// and the declarations around today (Paris time): the forecast and updates
// of this year, the actual of the last one and the forecast of the next.
func (s *Server) getStructure(w http.ResponseWriter, r *http.Request) {
	st, ok := s.structureFor(w, r, r.PathValue("partner_number"))
	if !ok {
		return
	}
	now := s.opts.Now().In(s.loc)
	y := now.Year()
	v := structureView{
		PartnerNumber:     st.PartnerNumber,
		Name:              st.Name,
		SIRET:             st.SIRET,
		FINESS:            optional(st.FINESS),
		City:              st.City,
		Capacity:          st.Capacity,
		DeadlinesEnforced: !st.Sandbox,
	}
	s.mu.Lock()
	for _, p := range []struct {
		year int
		kind Kind
	}{{y, KindForecast}, {y - 1, KindActual}, {y, KindUpdateJune}, {y, KindUpdateSeptember}, {y + 1, KindForecast}} {
		win := windowOf(p.kind, p.year, s.loc)
		e := calendarEntry{Year: p.year, Kind: p.kind, Opens: win.opens.Format(time.DateOnly), Deadline: win.deadline.Format(time.DateOnly), State: win.state(now)}
		if d := s.latest(st.PartnerNumber, p.year, p.kind); d != nil {
			version := d.version
			e.LastVersion, e.LastDeclarationNumber = &version, &d.number
		}
		v.Calendar = append(v.Calendar, e)
	}
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, v)
}
