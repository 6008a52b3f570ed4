package indicators

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/relais-dev/relais/mapping"
)

// CSVContentType is the content type of Report.WriteCSV's output.
const CSVContentType = "text/csv; charset=utf-8"

// CSVHeaders are the columns of Report.WriteCSV's output.
var CSVHeaders = []string{"Rubrique", "Indicateur", "Précision", "Valeur"}

// WriteCSV writes the report for the establishment's spreadsheet: UTF-8
// with a byte order mark (so that Excel reads the accents), ";" between
// cells, a decimal comma, CRLF line ends, French headers (CSVHeaders). One
// line per figure; an unknown figure (no capacity, no exit) is an empty
// cell. No cell starts with a formula character.
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("writing the byte order mark: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	rows := [][]string{CSVHeaders}
	add := func(section, name, detail, value string) {
		rows = append(rows, []string{section, name, safeCell(detail), value})
	}
	const (
		gen = "Général"
		act = "Activité"
		per = "Personnes accompagnées"
		sej = "Séjours"
		abs = "Absences"
		psu = "PSU"
	)
	add(gen, "FINESS", "", r.FINESS)
	add(gen, "Période", "début", frenchDate(r.Period.Start))
	add(gen, "Période", "fin", frenchDate(r.Period.End))
	add(gen, "Jours de la période", "", strconv.Itoa(r.DaysInPeriod))
	add(gen, "Capacité (places)", "", optInt(r.Capacity))
	add(act, "Taux d'occupation (%)", "", optNumber(r.OccupancyRate, 100, 2))
	add(act, "Journées de présence", "", strconv.FormatInt(r.DaysOfPresence, 10))
	add(act, "Journées de séjour", "", strconv.FormatInt(r.StayDays, 10))
	add(act, "Journées d'absence", "", strconv.FormatInt(r.AbsenceDays, 10))
	add(act, "Présences", "nombre", strconv.Itoa(r.Presences.Total))
	add(act, "Présences", "heures", number(r.Presences.Hours, 2))
	for _, s := range []mapping.EventStatus{mapping.EventPlanned, mapping.EventTriaged, mapping.EventFinished, mapping.EventCancelled} {
		add(act, "Évènements", eventLabels[s], strconv.Itoa(r.Events[s]))
	}
	add(per, "Personnes accompagnées", "total", strconv.Itoa(r.Persons.Total))
	add(per, "Personnes accompagnées", "femmes", strconv.Itoa(r.Persons.BySex.F))
	add(per, "Personnes accompagnées", "hommes", strconv.Itoa(r.Persons.BySex.M))
	add(per, "Personnes accompagnées", "sexe inconnu", strconv.Itoa(r.Persons.BySex.U))
	for _, b := range r.Persons.ByAgeBand {
		band := "âge " + strings.Replace(b.Band, "-", " à ", 1)
		if strings.HasSuffix(b.Band, "+") {
			band = "âge " + strings.TrimSuffix(b.Band, "+") + " ans et plus"
		} else if b.Band != "inconnu" {
			band += " ans"
		} else {
			band = "âge inconnu"
		}
		add(per, "Par tranche d'âge", band+", femmes", strconv.Itoa(b.BySex.F))
		add(per, "Par tranche d'âge", band+", hommes", strconv.Itoa(b.BySex.M))
		add(per, "Par tranche d'âge", band+", sexe inconnu", strconv.Itoa(b.BySex.U))
	}
	add(sej, "Séjours", "total", strconv.Itoa(r.Stays.Total))
	add(sej, "Entrées dans la période", "", strconv.Itoa(r.Stays.Entries))
	add(sej, "Sorties dans la période", "", strconv.Itoa(r.Stays.Exits))
	add(sej, "Durée moyenne de séjour (jours)", "", optNumber(r.Stays.AverageLengthDays, 1, 2))
	add(abs, "Absences", "total", strconv.Itoa(r.Absences.Total))
	for _, a := range r.Absences.ByReason {
		add(abs, "Absences par motif", a.Reason+", nombre", strconv.Itoa(a.Count))
		add(abs, "Absences par motif", a.Reason+", journées", strconv.Itoa(a.Days))
	}
	for _, m := range r.PSU.Months {
		month := m.Month[5:] + "/" + m.Month[:4]
		add(psu, "Heures facturées", month, number(m.BilledHours, 2))
		add(psu, "Heures réalisées", month, number(m.AttendedHours, 2))
		add(psu, "Heures PSU", month, number(m.PSUHours, 2))
		add(psu, "Enfants accueillis", month, strconv.Itoa(m.Children))
		add(psu, "Jours d'ouverture", month, strconv.Itoa(m.OpeningDays))
	}
	add(psu, "Heures facturées", "total", number(r.PSU.Totals.BilledHours, 2))
	add(psu, "Heures réalisées", "total", number(r.PSU.Totals.AttendedHours, 2))
	add(psu, "Heures PSU", "total", number(r.PSU.Totals.PSUHours, 2))
	add(psu, "Taux de facturation (%)", "", optNumber(r.PSU.Totals.BillingRate, 100, 2))
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("writing the indicators CSV: %w", err)
	}
	return nil
}

var eventLabels = map[mapping.EventStatus]string{
	mapping.EventPlanned:   "prévus",
	mapping.EventTriaged:   "en cours",
	mapping.EventFinished:  "réalisés",
	mapping.EventCancelled: "annulés",
}

// number writes v with a decimal comma and at most decimals decimals.
func number(v float64, decimals int) string {
	return strings.Replace(strconv.FormatFloat(round(v, decimals), 'f', -1, 64), ".", ",", 1)
}

func optNumber(v *float64, scale float64, decimals int) string {
	if v == nil {
		return ""
	}
	return number(*v*scale, decimals)
}

func optInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func frenchDate(d mapping.Date) string {
	s := string(d)
	if len(s) != 10 {
		return s
	}
	return s[8:10] + "/" + s[5:7] + "/" + s[:4]
}

// safeCell keeps a free-text cell (an absence reason) from starting like
// a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
