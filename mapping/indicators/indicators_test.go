package indicators_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/indicators"
)

const finess = "750000010"

var paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a Paris wall-clock time.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, paris)
	if err != nil {
		panic(err)
	}
	return t
}

func person(id string, sex mapping.Sex, birth mapping.PartialDate) mapping.ReportPerson {
	return mapping.ReportPerson{LocalID: "3" + finess + "/" + id, Person: mapping.Person{
		BirthFamilyName: "TEST", GivenNames: []string{"TEST"}, Sex: sex, BirthDate: birth,
	}}
}

func stay(person, n string, start, end mapping.Date) mapping.Stay {
	p := "3" + finess + "/" + person
	return mapping.Stay{Identifier: p + "-SEJOUR-" + n, PersonLocalID: p, Start: start, End: end}
}

func slot(person, n string, kind mapping.PresenceKind, start, end string, invoiced bool, reason *mapping.Coding) mapping.PresenceAbsence {
	p := "3" + finess + "/" + person
	return mapping.PresenceAbsence{
		Identifier: p + "-PA-" + n, StayIdentifier: p + "-SEJOUR-1", Kind: kind,
		Start: at(start), End: at(end), Invoiced: invoiced, Reason: reason,
	}
}

// handReport is the report whose indicators are computed by hand in
// TestReportByHand.
func handReport() *mapping.ActivityReport {
	return &mapping.ActivityReport{
		FINESS: finess,
		Period: mapping.Period{Start: "2024-01-01", End: "2024-03-31"},
		Persons: []mapping.ReportPerson{
			person("A", mapping.SexFemale, "1940-06-27"), // 83 at 31/03/2024: 75-84
			person("B", mapping.SexMale, "2021-05"),      // born 15/05/2021: 2, 0-2
			person("C", mapping.SexUnknown, "1990"),      // no stay: not counted
		},
		Stays: []mapping.Stay{
			stay("A", "1", "2023-06-01", ""),           // open: 91 days
			stay("B", "1", "2024-02-01", "2024-02-10"), // 9 days, entry, exit, length 9
			stay("D", "1", "2024-03-31", "2024-03-31"), // same day: 1 day; D not listed
		},
		Events: []mapping.Event{
			{Identifier: "E1", StayIdentifier: "3" + finess + "/A-SEJOUR-1", Status: mapping.EventFinished, Start: at("2024-01-05 10:00:00"), End: at("2024-01-05 11:00:00")},
			{Identifier: "E2", StayIdentifier: "3" + finess + "/A-SEJOUR-1", Status: mapping.EventPlanned, Start: at("2024-03-05 10:00:00"), End: at("2024-03-05 11:00:00")},
		},
		PresenceAbsences: []mapping.PresenceAbsence{
			slot("B", "1", mapping.Presence, "2024-02-05 08:00:00", "2024-02-05 17:30:00", true, nil),  // 9.5 h billed
			slot("B", "2", mapping.Presence, "2024-02-06 08:00:00", "2024-02-06 11:30:00", false, nil), // 3.5 h
			slot("A", "3", mapping.Presence, "2024-01-10 09:00:00", "2024-01-10 11:00:00", true, nil),  // 2 h billed
			// 3 whole days, not billed.
			slot("A", "4", mapping.Absence, "2024-01-20 00:00:00", "2024-01-22 23:59:59", false, &mapping.Coding{Display: "Hospitalisation"}),
			// Only 2 March is whole; 56 h billed in March.
			slot("A", "5", mapping.Absence, "2024-03-01 10:00:00", "2024-03-03 18:00:00", true, &mapping.Coding{Display: " hospitalisation "}),
			// No whole day; 9.5 h billed in February.
			slot("B", "6", mapping.Absence, "2024-02-07 08:00:00", "2024-02-07 17:30:00", true, &mapping.Coding{System: "https://example.org/motifs", Code: "MAL", Display: "Maladie"}),
		},
	}
}

func accumulate(t testing.TB, r *mapping.ActivityReport, capacity int) *indicators.Report {
	t.Helper()
	a, err := indicators.New(indicators.Options{FINESS: r.FINESS, Period: r.Period, Capacity: capacity})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.AddReport(r)
	return a.Report()
}

func ptr[T any](v T) *T { return &v }

func TestReportByHand(t *testing.T) {
	t.Parallel()
	got := accumulate(t, handReport(), 2)
	sex := func(f, m, u int) indicators.SexCounts { return indicators.SexCounts{F: f, M: m, U: u} }
	want := &indicators.Report{
		Schema:         indicators.SchemaID,
		FINESS:         finess,
		Period:         mapping.Period{Start: "2024-01-01", End: "2024-03-31"},
		DaysInPeriod:   91,
		Capacity:       ptr(2),
		OccupancyRate:  ptr(0.533), // 97 / (2 × 91) = 0.53297
		DaysOfPresence: 97,         // 101 - 4
		StayDays:       101,        // 91 + 9 + 1
		AbsenceDays:    4,          // 3 + 1 + 0
		Persons: indicators.Persons{Total: 3, BySex: sex(1, 1, 1), ByAgeBand: []indicators.AgeBand{
			{Band: "0-2", Total: 1, BySex: sex(0, 1, 0)},
			{Band: "3-5"}, {Band: "6-11"}, {Band: "12-17"}, {Band: "18-24"}, {Band: "25-44"}, {Band: "45-59"}, {Band: "60-74"},
			{Band: "75-84", Total: 1, BySex: sex(1, 0, 0)},
			{Band: "85+"},
			{Band: "inconnu", Total: 1, BySex: sex(0, 0, 1)},
		}},
		Stays: indicators.Stays{Total: 3, Entries: 2, Exits: 2, AverageLengthDays: ptr(5.0)}, // (9 + 1) / 2
		Absences: indicators.Absences{Total: 3, Days: 4, ByReason: []indicators.ReasonAbsence{
			{Reason: "Hospitalisation", Count: 2, Days: 4},
			{Reason: "Maladie", Count: 1, Days: 0},
		}},
		Presences: indicators.Presences{Total: 3, Hours: 15},
		Events:    map[mapping.EventStatus]int{mapping.EventFinished: 1, mapping.EventPlanned: 1},
		PSU: indicators.PSU{
			Months: []indicators.PSUMonth{
				{Month: "2024-01", BilledHours: 2, AttendedHours: 2, PSUHours: 2, Children: 1, OpeningDays: 1},
				// 13 h attended × 1.07 = 13.91 h < 19 h billed.
				{Month: "2024-02", BilledHours: 19, AttendedHours: 13, PSUHours: 13.91, Children: 1, OpeningDays: 2},
				{Month: "2024-03", BilledHours: 56, AttendedHours: 0, PSUHours: 0, Children: 0, OpeningDays: 0},
			},
			Totals: indicators.PSUTotals{BilledHours: 77, AttendedHours: 15, PSUHours: 15.91, OpeningDays: 3, BillingRate: ptr(5.1333)},
		},
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(g, w) {
		t.Errorf("report:\n got %s\nwant %s", g, w)
	}
}

// TestRules checks each rule on a one-row report, computed by hand.
func TestRules(t *testing.T) {
	t.Parallel()
	period := mapping.Period{Start: "2024-01-01", End: "2024-12-31"} // 366 days
	tests := []struct {
		name  string
		stays []mapping.Stay
		slots []mapping.PresenceAbsence
		check func(t *testing.T, r *indicators.Report)
	}{
		{"stay before and after the period", []mapping.Stay{stay("A", "1", "2020-01-01", "2025-06-01")}, nil, func(t *testing.T, r *indicators.Report) {
			expect(t, "stay days", r.StayDays, 366)
			expect(t, "entries, exits", [2]int{r.Stays.Entries, r.Stays.Exits}, [2]int{0, 0})
		}},
		{"exit day excluded", []mapping.Stay{stay("A", "1", "2024-03-10", "2024-03-12")}, nil, func(t *testing.T, r *indicators.Report) {
			expect(t, "stay days", r.StayDays, 2)
			expect(t, "average length", *r.Stays.AverageLengthDays, 2.0)
		}},
		{"left on the first day", []mapping.Stay{stay("A", "1", "2023-03-10", "2024-01-01")}, nil, func(t *testing.T, r *indicators.Report) {
			expect(t, "stay days", r.StayDays, 0)
			expect(t, "exits", r.Stays.Exits, 1)
			expect(t, "average length", *r.Stays.AverageLengthDays, 297.0) // 10/03/2023 to 01/01/2024
		}},
		{"entered on the last day", []mapping.Stay{stay("A", "1", "2024-12-31", "")}, nil, func(t *testing.T, r *indicators.Report) {
			expect(t, "stay days", r.StayDays, 1)
			expect(t, "entries", r.Stays.Entries, 1)
			if r.Stays.AverageLengthDays != nil {
				t.Errorf("average length = %v, want none without exit", *r.Stays.AverageLengthDays)
			}
		}},
		{"absence of a few hours", nil, []mapping.PresenceAbsence{slot("A", "1", mapping.Absence, "2024-05-02 09:00:00", "2024-05-02 12:00:00", false, &mapping.Coding{Display: "RDV"})}, func(t *testing.T, r *indicators.Report) {
			expect(t, "absence days", r.AbsenceDays, 0)
			expect(t, "absences", r.Absences.Total, 1)
		}},
		{"absence over a DST change", nil, []mapping.PresenceAbsence{slot("A", "1", mapping.Absence, "2024-03-30 00:00:00", "2024-04-01 23:59:00", false, &mapping.Coding{Display: "Famille"})}, func(t *testing.T, r *indicators.Report) {
			expect(t, "absence days", r.AbsenceDays, 3)
		}},
		{"absence ending before the end of its day", nil, []mapping.PresenceAbsence{slot("A", "1", mapping.Absence, "2024-06-01 00:00:00", "2024-06-02 23:00:00", false, &mapping.Coding{Display: "Famille"})}, func(t *testing.T, r *indicators.Report) {
			expect(t, "absence days", r.AbsenceDays, 1)
		}},
		{"absence up to midnight", nil, []mapping.PresenceAbsence{slot("A", "1", mapping.Absence, "2024-06-01 00:00:00", "2024-06-03 00:00:00", false, &mapping.Coding{Display: "Famille"})}, func(t *testing.T, r *indicators.Report) {
			expect(t, "absence days", r.AbsenceDays, 2)
		}},
		{"billing capped at 1.07", nil, []mapping.PresenceAbsence{
			slot("A", "1", mapping.Presence, "2024-09-02 08:00:00", "2024-09-02 18:00:00", true, nil),                          // 10 h attended, billed
			slot("A", "2", mapping.Absence, "2024-09-03 08:00:00", "2024-09-03 18:00:00", true, &mapping.Coding{Display: "X"}), // 10 h billed
		}, func(t *testing.T, r *indicators.Report) {
			m := r.PSU.Months[8]
			expect(t, "September", m, indicators.PSUMonth{Month: "2024-09", BilledHours: 20, AttendedHours: 10, PSUHours: 10.7, Children: 1, OpeningDays: 1})
			expect(t, "billing rate", *r.PSU.Totals.BillingRate, 2.0)
		}},
		{"no activity", nil, nil, func(t *testing.T, r *indicators.Report) {
			expect(t, "months", len(r.PSU.Months), 12)
			expect(t, "persons", r.Persons.Total, 0)
			if r.PSU.Totals.BillingRate != nil || r.OccupancyRate != nil {
				t.Errorf("billing rate, occupancy = %v, %v; want none", r.PSU.Totals.BillingRate, r.OccupancyRate)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &mapping.ActivityReport{FINESS: finess, Period: period, Stays: tt.stays, PresenceAbsences: tt.slots}
			tt.check(t, accumulate(t, r, 0))
		})
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestAgeBands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		birth mapping.PartialDate
		end   mapping.Date // the period's last day, the age's reference
		want  string
	}{
		{"2024-12-31", "2024-12-31", "0-2"},
		{"2021-12-31", "2024-12-31", "3-5"}, // 3 on the period's last day
		{"2022-01-01", "2024-12-31", "0-2"},
		{"1939-12", "2024-12-31", "85+"},    // 15/12/1939: 85
		{"1940", "2024-12-31", "75-84"},     // 01/07/1940: 84
		{"2021-06-20", "2024-06-15", "0-2"}, // 3 five days after the period
		{"2021", "2024-06-15", "0-2"},       // 01/07/2021: 3 after the period
		{"2021-06", "2024-06-10", "0-2"},    // 15/06/2021: 3 after the period
		{"2030-01-01", "2024-12-31", "inconnu"},
	}
	for _, tt := range tests {
		t.Run(string(tt.birth)+" at "+string(tt.end), func(t *testing.T) {
			t.Parallel()
			r := &mapping.ActivityReport{
				FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: tt.end},
				Persons: []mapping.ReportPerson{person("A", mapping.SexFemale, tt.birth)},
				Stays:   []mapping.Stay{stay("A", "1", "2024-01-01", "")},
			}
			var got []string
			for _, b := range accumulate(t, r, 0).Persons.ByAgeBand {
				if b.Total > 0 {
					got = append(got, b.Band)
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("bands = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestMaxReasons(t *testing.T) {
	t.Parallel()
	a, err := indicators.New(indicators.Options{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}, MaxReasons: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []string{"A", "B", "C", "D", "A"} {
		pa := slot("P", string(rune('1'+i)), mapping.Absence, "2024-05-02 09:00:00", "2024-05-02 12:00:00", false, &mapping.Coding{Display: r})
		a.AddPresenceAbsence(&pa)
	}
	got := a.Report().Absences.ByReason
	want := []indicators.ReasonAbsence{{Reason: "A", Count: 2}, {Reason: "autre", Count: 2}, {Reason: "B", Count: 1}}
	if len(got) != len(want) {
		t.Fatalf("by reason = %v, want %v", got, want)
	}
	for i := range want {
		expect(t, "reason", got[i], want[i])
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	ok := indicators.Options{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}}
	tests := map[string]func(o *indicators.Options){
		"FINESS":        func(o *indicators.Options) { o.FINESS = "750000011" },
		"Period.Start":  func(o *indicators.Options) { o.Period.Start = "2024-02-30" },
		"Period.End is": func(o *indicators.Options) { o.Period.End = "2023-12-31" },
		"Capacity":      func(o *indicators.Options) { o.Capacity = -1 },
		"PSUBillingCap": func(o *indicators.Options) { o.PSUBillingCap = 0.5 },
		"AgeBands":      func(o *indicators.Options) { o.AgeBands = []int{0, 10, 5} },
		"Period spans":  func(o *indicators.Options) { o.Period.Start = "2000-01-01" },
	}
	if _, err := indicators.New(ok); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for field, mutate := range tests {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			o := ok
			mutate(&o)
			_, err := indicators.New(o)
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("error = %v, want one naming %s", err, field)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	s, err := indicators.CompileSchema()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*indicators.Report{
		"hand":  accumulate(t, handReport(), 2),
		"empty": accumulate(t, &mapping.ActivityReport{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-01-31"}}, 0),
	} {
		b, err := r.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	r := accumulate(t, handReport(), 2)
	r.Absences.ByReason[0].Reason = "=cmd" // as if typed in a spreadsheet
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	b, ok := bytes.CutPrefix(buf.Bytes(), []byte("\uFEFF"))
	if !ok {
		t.Fatal("no byte order mark")
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("lines do not end with CRLF")
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "header", strings.Join(recs[0], ";"), "Rubrique;Indicateur;Précision;Valeur")
	cells := map[string]string{}
	for _, rec := range recs[1:] {
		cells[rec[1]+"|"+rec[2]] = rec[3]
		for _, c := range rec {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q starts like a formula", c)
			}
		}
	}
	for key, want := range map[string]string{
		"Taux d'occupation (%)|":                       "53,3",
		"Journées de présence|":                        "97",
		"Période|début":                                "01/01/2024",
		"Durée moyenne de séjour (jours)|":             "5",
		"Heures PSU|02/2024":                           "13,91",
		"Heures facturées|total":                       "77",
		"Taux de facturation (%)|":                     "513,33",
		"Par tranche d'âge|âge 75 à 84 ans, femmes":    "1",
		"Par tranche d'âge|âge 85 ans et plus, hommes": "0",
		"Absences par motif|'=cmd, nombre":             "2",
	} {
		expect(t, key, cells[key], want)
	}
}

func TestPSUKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		start, end mapping.Date
		kind       string
		year       int
	}{
		{"2025-01-01", "2025-06-30", indicators.PSUUpdateJune, 2025},
		{"2025-01-01", "2025-09-30", indicators.PSUUpdateSeptember, 2025},
		{"2024-01-01", "2024-12-31", indicators.PSUActual, 2024},
		{"2024-01-01", "2024-03-31", "", 0},
		{"2024-02-01", "2024-06-30", "", 0},
		{"2024-01-01", "2025-06-30", "", 0},
	}
	for _, tt := range tests {
		kind, year, err := indicators.PSUKind(mapping.Period{Start: tt.start, End: tt.end})
		if tt.kind == "" {
			if !errors.Is(err, indicators.ErrNotPSUPeriod) {
				t.Errorf("%s..%s: err = %v, want ErrNotPSUPeriod", tt.start, tt.end, err)
			}
			continue
		}
		if err != nil || kind != tt.kind || year != tt.year {
			t.Errorf("%s..%s = %s %d %v, want %s %d", tt.start, tt.end, kind, year, err, tt.kind, tt.year)
		}
	}
}

func TestPSUDeclaration(t *testing.T) {
	t.Parallel()
	r := handReport()
	r.Period = mapping.Period{Start: "2024-01-01", End: "2024-06-30"}
	rep := accumulate(t, r, 0)
	body, err := rep.PSUDeclaration(mapping.Establishment{SIRET: "99000001000019"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Year          int
		Kind          string
		Establishment struct {
			SIRET  string
			FINESS *string
		}
		Months []indicators.PSUMonth
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Year != 2024 || got.Kind != "actualisation_juin" || got.Establishment.SIRET != "99000001000019" || got.Establishment.FINESS != nil || len(got.Months) != 6 {
		t.Errorf("declaration = %+v", got)
	}
	if _, err := rep.PSUDeclaration(mapping.Establishment{SIRET: "99000001000018"}); err == nil {
		t.Error("a bad SIRET key is accepted")
	}
}
