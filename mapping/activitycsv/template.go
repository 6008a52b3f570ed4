package activitycsv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Headers returns the documented headers of a kind's columns, in the
// templates' order.
func Headers(k Kind) []string {
	s := schemaOf(k)
	if s == nil {
		return nil
	}
	h := make([]string, len(s.columns))
	for i, c := range s.columns {
		h[i] = c.header
	}
	return h
}

// WriteTemplate writes a kind's empty template: a UTF-8 byte order mark
// (without it Excel reads the accents as Windows-1252), the documented
// headers separated by ";", and a CRLF, as Excel writes CSV.
func WriteTemplate(w io.Writer, k Kind) error {
	h := Headers(k)
	if h == nil {
		return fmt.Errorf("writing a template: unknown kind %d", k)
	}
	if _, err := io.WriteString(w, "\uFEFF"+strings.Join(h, ";")+"\r\n"); err != nil {
		return fmt.Errorf("writing the %s template: %w", k, err)
	}
	return nil
}

// Sample sizes the synthetic upload WriteSample writes, for load tests and
// benchmarks. Nothing in it is about a real person.
type Sample struct {
	// FINESS is the establishment's FINESS number.
	FINESS string
	// Year is the report's year; presences and events fall in it.
	Year int
	// Persons is the number of persons, each with one stay. It is raised
	// so that no stay has more than one presence a day.
	Persons int
	// Presences is the number of rows of presences.csv.
	Presences int
	// Events is the number of rows of evenements.csv; none when 0.
	Events int
}

// WriteSample writes a synthetic upload into dir: usagers.csv (with a byte
// order mark), sejours.csv, presences.csv and, when asked, evenements.csv,
// every row valid for the report of s.FINESS over s.Year. Presences mix
// durations with a comma decimal mark and end times, absences with a
// reason, some quoted with a ";" inside. It returns the files' paths, in
// reading order.
func WriteSample(dir string, s Sample) ([]string, error) {
	persons := max(s.Persons, (s.Presences+364)/365, 1)
	var paths []string
	write := func(k Kind, body func(w *bufio.Writer) error) error {
		p := filepath.Join(dir, k.TemplateName())
		f, err := os.Create(p) //nolint:gosec // the caller names the folder
		if err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		err = body(w)
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		paths = append(paths, p)
		return nil
	}
	header := func(w *bufio.Writer, k Kind) {
		_, _ = w.WriteString(strings.Join(Headers(k), ";") + "\r\n")
	}
	family := []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"}
	given := []string{"Léa", "Hugo", "Chloé", "Louis", "Emma", "Jules", "Inès", "Gabriel Jean"}
	day := func(d int) time.Time { return time.Date(s.Year, time.January, 1+d, 0, 0, 0, 0, time.UTC) }
	daysInYear := day(0).AddDate(1, 0, 0).Sub(day(0)).Hours() / 24
	err := write(KindPersons, func(w *bufio.Writer) error {
		_, _ = w.WriteString("\uFEFF")
		header(w, KindPersons)
		for i := range persons {
			sex := "F"
			if i%2 == 1 {
				sex = "M"
			}
			_, err := fmt.Fprintf(w, "U%06d;%s;;%s;%s;%02d/%02d/%d;75056;99100;\r\n",
				i, family[i%len(family)], given[i%len(given)], sex, 1+i%28, 1+i%12, s.Year-1-i%80)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = write(KindStays, func(w *bufio.Writer) error {
			header(w, KindStays)
			for i := range persons {
				if _, err := fmt.Fprintf(w, "U%06d-SEJOUR-1;U%06d;01/09/%d;;;Domicile;;Accueil de jour\r\n", i, i, s.Year-1); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil && s.Events > 0 {
		err = write(KindEvents, func(w *bufio.Writer) error {
			header(w, KindEvents)
			for i := range s.Events {
				d := day(i / persons % int(daysInYear)).Format("02/01/2006")
				if _, err := fmt.Fprintf(w, "EV%07d;U%06d-SEJOUR-1;réalisé;%s 10:00;%s 11:30;Soins d'hygiène\r\n", i, i%persons, d, d); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		err = write(KindPresences, func(w *bufio.Writer) error {
			header(w, KindPresences)
			for i := range s.Presences {
				p, d := i%persons, i/persons
				date := day(d).Format("02/01/2006")
				var err error
				switch {
				case i%20 == 7:
					_, err = fmt.Fprintf(w, "U%06d-PA-%d;U%06d-SEJOUR-1;absence;\"Hospitalisation; retour prévu\";%s;%s;;oui;non\r\n", p, d, p, date, date)
				case i%10 == 3:
					_, err = fmt.Fprintf(w, "U%06d-PA-%d;U%06d-SEJOUR-1;absence;Convenance personnelle;%s;;7,5;non;oui\r\n", p, d, p, date)
				case i%2 == 0:
					_, err = fmt.Fprintf(w, "U%06d-PA-%d;U%06d-SEJOUR-1;présence;;%s 08:30;;7,5;;oui\r\n", p, d, p, date)
				default:
					_, err = fmt.Fprintf(w, "U%06d-PA-%d;U%06d-SEJOUR-1;présence;;%s 09:00;%s 16:45;;;oui\r\n", p, d, p, date, date)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return paths, err
}
