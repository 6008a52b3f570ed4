package cafpsu

import (
	"fmt"
	"time"
)

// Kind is a kind of declaration.
type Kind string

// The kinds of declaration.
const (
	KindForecast        Kind = "previsionnel"
	KindActual          Kind = "reel"
	KindUpdateJune      Kind = "actualisation_juin"
	KindUpdateSeptember Kind = "actualisation_septembre"
)

// letter is the kind's letter in a declaration number.
func (k Kind) letter() byte {
	switch k {
	case KindForecast:
		return 'P'
	case KindActual:
		return 'R'
	case KindUpdateJune:
		return 'J'
	}
	return 'S'
}

// months is how many months of the year the kind covers, from January.
func (k Kind) months() int {
	switch k {
	case KindUpdateJune:
		return 6
	case KindUpdateSeptember:
		return 9
	}
	return 12
}

// window is when a declaration of a kind and year may be sent: from the
// first instant of opens to the last of deadline, Paris time.
type window struct {
	opens, deadline time.Time // dates at midnight in loc
}

// windowOf is the declaration calendar: the deadlines are the CAF's, the
// opening dates Relais' design.
func windowOf(k Kind, year int, loc *time.Location) window {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	switch k {
	case KindForecast:
		return window{day(year-1, time.October, 1), day(year, time.February, 15)}
	case KindActual:
		return window{day(year+1, time.January, 1), day(year+1, time.March, 31)}
	case KindUpdateJune:
		return window{day(year, time.July, 1), day(year, time.July, 10)}
	}
	return window{day(year, time.October, 1), day(year, time.October, 12)}
}

// state is "upcoming", "open" or "closed" at now.
func (w window) state(now time.Time) string {
	switch {
	case now.Before(w.opens):
		return "upcoming"
	case now.Before(w.deadline.AddDate(0, 0, 1)):
		return "open"
	}
	return "closed"
}

// frenchDate formats a date as the staff reads it.
func frenchDate(t time.Time) string {
	return fmt.Sprintf("%02d/%02d/%04d", t.Day(), int(t.Month()), t.Year())
}

// daysIn is the number of days of a month.
func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
