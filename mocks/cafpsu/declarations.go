package cafpsu

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// declaration is one version of a declaration, as stored.
type declaration struct {
	number       string
	partner      string
	seq          int
	year         int
	kind         Kind
	version      int
	receivedAt   time.Time
	deadline     time.Time
	supersedes   string
	supersededBy string
	est          Establishment
	months       []Month
}

type declarationRequest struct {
	Year          int           `json:"year"`
	Kind          Kind          `json:"kind"`
	Establishment Establishment `json:"establishment"`
	Months        []Month       `json:"months"`
}

type declarationView struct {
	DeclarationNumber string        `json:"declaration_number"`
	PartnerNumber     string        `json:"partner_number"`
	Year              int           `json:"year"`
	Kind              Kind          `json:"kind"`
	Version           int           `json:"version"`
	Status            string        `json:"status"`
	ReceivedAt        string        `json:"received_at"`
	Deadline          string        `json:"deadline"`
	Supersedes        *string       `json:"supersedes"`
	SupersededBy      *string       `json:"superseded_by"`
	Establishment     Establishment `json:"establishment"`
	Months            []Month       `json:"months"`
	Totals            totals        `json:"totals"`
	ReceiptMessage    string        `json:"receipt_message"`
}

type totals struct {
	BilledHours   float64  `json:"billed_hours"`
	AttendedHours float64  `json:"attended_hours"`
	PSUHours      float64  `json:"psu_hours"`
	OpeningDays   int      `json:"opening_days"`
	BillingRate   *float64 `json:"billing_rate"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// view is the declaration as the API shows it.
func (d *declaration) view() declarationView {
	v := declarationView{
		DeclarationNumber: d.number,
		PartnerNumber:     d.partner,
		Year:              d.year,
		Kind:              d.kind,
		Version:           d.version,
		Status:            "received",
		ReceivedAt:        d.receivedAt.UTC().Format(time.RFC3339),
		Deadline:          d.deadline.Format(time.DateOnly),
		Supersedes:        optional(d.supersedes),
		SupersededBy:      optional(d.supersededBy),
		Establishment:     d.est,
		Months:            d.months,
	}
	if d.supersededBy != "" {
		v.Status = "superseded"
	}
	for _, m := range d.months {
		v.Totals.BilledHours += m.BilledHours
		v.Totals.AttendedHours += m.AttendedHours
		v.Totals.PSUHours += m.PSUHours
		v.Totals.OpeningDays += m.OpeningDays
	}
	if v.Totals.AttendedHours > 0 {
		rate := math.Round(v.Totals.BilledHours/v.Totals.AttendedHours*10000) / 10000
		v.Totals.BillingRate = &rate
	}
	v.ReceiptMessage = fmt.Sprintf("Déclaration %s %d reçue le %s (version %d", d.kind, d.year, frenchDate(d.receivedAt.In(d.deadline.Location())), d.version)
	if d.supersedes != "" {
		v.ReceiptMessage += ", remplace " + d.supersedes
	}
	v.ReceiptMessage += ")."
	return v
}

// record stores a declaration received at now as the next version of its
// year and kind. The caller holds s.mu and has checked req.
func (s *Server) record(st *Structure, req declarationRequest, now time.Time) *declaration {
	s.seq++
	d := &declaration{
		number:     fmt.Sprintf("PSU%04d%c%06d", req.Year, req.Kind.letter(), s.seq),
		partner:    st.PartnerNumber,
		seq:        s.seq,
		year:       req.Year,
		kind:       req.Kind,
		version:    1,
		receivedAt: now,
		deadline:   windowOf(req.Kind, req.Year, s.loc).deadline,
		est:        req.Establishment,
		months:     slices.Clone(req.Months),
	}
	slices.SortFunc(d.months, func(a, b Month) int { return compareStrings(a.Month, b.Month) })
	if last := s.latest(st.PartnerNumber, req.Year, req.Kind); last != nil {
		d.version = last.version + 1
		d.supersedes = last.number
		last.supersededBy = d.number
	}
	s.declarations[d.number] = d
	s.current[currentKey(d.partner, d.year, d.kind)] = d
	return d
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// currentKey keys the current version of a structure's declaration of a
// year and kind.
func currentKey(partner string, year int, k Kind) string {
	return fmt.Sprintf("%s/%d/%s", partner, year, k)
}

// latest is the current version of a declaration; the caller holds s.mu.
func (s *Server) latest(partner string, year int, k Kind) *declaration {
	return s.current[currentKey(partner, year, k)]
}

// createDeclaration serves POST /v1/structures/{partner_number}/declarations.
func (s *Server) createDeclaration(w http.ResponseWriter, r *http.Request) {
	st, ok := s.structureFor(w, r, r.PathValue("partner_number"))
	if !ok {
		return
	}
	var req declarationRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		problems.Write(w, http.StatusBadRequest, "INVALID_REQUEST", "La requête est invalide.")
		return
	}
	now := s.opts.Now()
	if code, detail, errs := s.check(st, req, now); code != "" {
		problems.Write(w, http.StatusUnprocessableEntity, code, detail, errs...)
		return
	}
	s.mu.Lock()
	d := s.record(st, req, now)
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		s.perKey[k]++
	}
	v := d.view()
	s.mu.Unlock()
	s.declared.Add(1)
	w.Header().Set("Location", "/v1/declarations/"+d.number)
	platform.WriteJSON(w, http.StatusCreated, v)
}

// check applies the business rules, in order: establishment, calendar,
// months, figures. It returns the first failing rule's code with all its
// field errors, or "".
func (s *Server) check(st *Structure, req declarationRequest, now time.Time) (string, string, []platform.ProblemField) {
	var errs []platform.ProblemField
	if req.Establishment.SIRET != st.SIRET {
		errs = append(errs, platform.ProblemField{Pointer: "/establishment/siret", Detail: "Ce SIRET n'est pas celui de la structure."})
	}
	if f := req.Establishment.FINESS; (f == nil) != (st.FINESS == "") || (f != nil && *f != st.FINESS) {
		errs = append(errs, platform.ProblemField{Pointer: "/establishment/finess", Detail: "Ce FINESS n'est pas celui de la structure."})
	}
	if len(errs) > 0 {
		return "ESTABLISHMENT_MISMATCH", "L'établissement déclaré ne correspond pas à la structure " + st.PartnerNumber + ".", errs
	}

	win := windowOf(req.Kind, req.Year, s.loc)
	if !st.Sandbox {
		switch win.state(now) {
		case "upcoming":
			return "PERIOD_NOT_OPEN", fmt.Sprintf("La déclaration %s %d n'est possible qu'à partir du %s.", req.Kind, req.Year, frenchDate(win.opens)),
				[]platform.ProblemField{{Pointer: "/year", Detail: "Cette déclaration n'est pas encore ouverte."}}
		case "closed":
			return "DEADLINE_PASSED", fmt.Sprintf("La date limite de la déclaration %s %d (%s) est dépassée.", req.Kind, req.Year, frenchDate(win.deadline)),
				[]platform.ProblemField{{Pointer: "/year", Detail: "La date limite de cette déclaration est dépassée."}}
		}
	}

	want := req.Kind.months()
	seen := map[string]bool{}
	for i, m := range req.Months {
		y, mo, _ := splitMonth(m.Month)
		switch {
		case y != req.Year || mo > want:
			errs = append(errs, platform.ProblemField{Pointer: fmt.Sprintf("/months/%d/month", i), Detail: fmt.Sprintf("Ce mois n'appartient pas à la période de la déclaration %s %d.", req.Kind, req.Year)})
		case seen[m.Month]:
			errs = append(errs, platform.ProblemField{Pointer: fmt.Sprintf("/months/%d/month", i), Detail: "Ce mois est déclaré deux fois."})
		}
		seen[m.Month] = true
	}
	for mo := 1; mo <= want; mo++ {
		if key := fmt.Sprintf("%04d-%02d", req.Year, mo); !seen[key] {
			errs = append(errs, platform.ProblemField{Pointer: "/months", Detail: "Le mois " + key + " manque."})
		}
	}
	if len(errs) > 0 {
		return "MONTHS_MISMATCH", fmt.Sprintf("La déclaration %s %d doit porter sur les mois 01 à %02d de %d, chacun une fois.", req.Kind, req.Year, want, req.Year), errs
	}

	for i, m := range req.Months {
		at := fmt.Sprintf("/months/%d/", i)
		y, mo, _ := splitMonth(m.Month)
		if m.PSUHours > m.BilledHours {
			errs = append(errs, platform.ProblemField{Pointer: at + "psu_hours", Detail: "Les heures PSU dépassent les heures facturées."})
		}
		if m.OpeningDays > daysIn(y, time.Month(mo)) {
			errs = append(errs, platform.ProblemField{Pointer: at + "opening_days", Detail: "Le mois n'a pas autant de jours."})
		}
		if m.OpeningDays == 0 && (m.BilledHours > 0 || m.AttendedHours > 0 || m.PSUHours > 0 || m.Children > 0) {
			errs = append(errs, platform.ProblemField{Pointer: at + "opening_days", Detail: "Un mois sans jour d'ouverture ne peut pas avoir d'activité."})
		}
	}
	if len(errs) > 0 {
		return "INCONSISTENT_FIGURES", "Les chiffres déclarés sont incohérents.", errs
	}
	return "", "", nil
}

// splitMonth reads "YYYY-MM" (the contract's pattern has checked it).
func splitMonth(s string) (year, month int, err error) {
	if len(s) != 7 {
		return 0, 0, fmt.Errorf("reading month %q: not YYYY-MM", s)
	}
	if year, err = strconv.Atoi(s[:4]); err != nil {
		return 0, 0, fmt.Errorf("reading month %q: %w", s, err)
	}
	if month, err = strconv.Atoi(s[5:]); err != nil {
		return 0, 0, fmt.Errorf("reading month %q: %w", s, err)
	}
	return year, month, nil
}

// listDeclarations serves GET /v1/structures/{partner_number}/declarations.
func (s *Server) listDeclarations(w http.ResponseWriter, r *http.Request) {
	st, ok := s.structureFor(w, r, r.PathValue("partner_number"))
	if !ok {
		return
	}
	q := r.URL.Query()
	year, _ := strconv.Atoi(q.Get("year")) // validated by the runtime; 0 when absent
	kind := Kind(q.Get("kind"))
	var found []*declaration
	s.mu.Lock()
	for _, d := range s.declarations {
		if d.partner == st.PartnerNumber && (year == 0 || d.year == year) && (kind == "" || d.kind == kind) {
			found = append(found, d)
		}
	}
	slices.SortFunc(found, func(a, b *declaration) int { return b.seq - a.seq })
	out := struct {
		Declarations []declarationView `json:"declarations"`
	}{Declarations: make([]declarationView, 0, len(found))}
	for _, d := range found {
		out.Declarations = append(out.Declarations, d.view())
	}
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, out)
}

// getDeclaration serves GET /v1/declarations/{declaration_number}.
func (s *Server) getDeclaration(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("declaration_number")
	s.mu.Lock()
	d, ok := s.declarations[number]
	s.mu.Unlock()
	if !ok {
		problems.Write(w, http.StatusNotFound, "DECLARATION_NOT_FOUND", "Aucune déclaration n'a le numéro "+number+".")
		return
	}
	if _, ok := s.structureFor(w, r, d.partner); !ok {
		return
	}
	s.mu.Lock()
	v := d.view()
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, v)
}
