package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// PartialDate is a calendar date whose day, or month and day, may be
// unknown, as dates of birth often are: "YYYY", "YYYY-MM" or "YYYY-MM-DD",
// with a year from 1000 to 9999. The empty PartialDate means no date.
//
// A PartialDate never holds a day or month that its source did not give:
// build one with [ParsePartialDate] or [PartialDateFromParts].
type PartialDate string

// DatePrecision says how much of a [PartialDate] is known.
type DatePrecision int

// Date precisions, from the coarsest.
const (
	// PrecisionNone is the precision of an empty or malformed date.
	PrecisionNone DatePrecision = iota
	// PrecisionYear: only the year is known ("1980").
	PrecisionYear
	// PrecisionMonth: the year and month are known ("1980-05").
	PrecisionMonth
	// PrecisionDay: the full date is known ("1980-05-12").
	PrecisionDay
)

func (p DatePrecision) String() string {
	switch p {
	case PrecisionYear:
		return "year"
	case PrecisionMonth:
		return "month"
	case PrecisionDay:
		return "day"
	default:
		return "none"
	}
}

// ErrInvalidPartialDate is returned (wrapped) by [ParsePartialDate] and
// [PartialDateFromParts]. Its text never quotes the value, which is personal
// data when it is a date of birth.
var ErrInvalidPartialDate = errors.New("invalid partial date, want YYYY, YYYY-MM or YYYY-MM-DD")

// ParsePartialDate reads a partial date. Besides the canonical forms it
// accepts the zero-padded form of the CAF and MSA, where "00" stands for an
// unknown month or day: "2020-00-00" gives "2020" and "1980-05-00" gives
// "1980-05". A known day under an unknown month ("1980-00-12") is an error:
// the result never invents nor silently drops what the source says.
//
// The parts are fixed-width, so the canonical form is a prefix of s: a valid
// date costs no allocation, which matters to the mapping engine's hot path.
func ParsePartialDate(s string) (PartialDate, error) {
	_, month, day, err := partialDateParts(s)
	switch {
	case err != nil:
		return "", err
	case month == 0:
		return PartialDate(s[:4]), nil
	case day == 0:
		return PartialDate(s[:7]), nil
	}
	return PartialDate(s), nil
}

// partialDateParts splits a partial date, "00" parts included, into its
// numbers, 0 standing for an unknown part.
func partialDateParts(s string) (year, month, day int, err error) {
	ok := true
	switch len(s) {
	case 4:
		year, ok = digits(s)
	case 7:
		if s[4] != '-' {
			return 0, 0, 0, fmt.Errorf("%w: expected a dash after the year", ErrInvalidPartialDate)
		}
		var okY, okM bool
		year, okY = digits(s[:4])
		month, okM = digits(s[5:])
		ok = okY && okM
	case 10:
		if s[4] != '-' || s[7] != '-' {
			return 0, 0, 0, fmt.Errorf("%w: expected dashes between year, month and day", ErrInvalidPartialDate)
		}
		var okY, okM, okD bool
		year, okY = digits(s[:4])
		month, okM = digits(s[5:7])
		day, okD = digits(s[8:])
		ok = okY && okM && okD
	default:
		return 0, 0, 0, fmt.Errorf("%w: wrong length", ErrInvalidPartialDate)
	}
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: expected digits", ErrInvalidPartialDate)
	}
	return year, month, day, checkPartialDate(year, month, day)
}

// checkPartialDate checks the parts of a partial date, 0 standing for an
// unknown month or day.
func checkPartialDate(year, month, day int) error {
	switch {
	case year < 1000 || year > 9999:
		return fmt.Errorf("%w: year out of range", ErrInvalidPartialDate)
	case month < 0 || month > 12:
		return fmt.Errorf("%w: month out of range", ErrInvalidPartialDate)
	case month == 0 && day != 0:
		return fmt.Errorf("%w: day without a month", ErrInvalidPartialDate)
	case day < 0 || day > daysIn(year, month):
		return fmt.Errorf("%w: day out of range", ErrInvalidPartialDate)
	}
	return nil
}

// PartialDateFromParts builds a partial date from its parts, 0 standing for
// an unknown month or day, as in the API Particulier's identity parameters.
func PartialDateFromParts(year, month, day int) (PartialDate, error) {
	if err := checkPartialDate(year, month, day); err != nil {
		return "", err
	}
	switch {
	case month == 0:
		return PartialDate(fmt.Sprintf("%04d", year)), nil
	case day == 0:
		return PartialDate(fmt.Sprintf("%04d-%02d", year, month)), nil
	default:
		return PartialDate(fmt.Sprintf("%04d-%02d-%02d", year, month, day)), nil
	}
}

// Valid reports whether d is in canonical form: "YYYY", "YYYY-MM" or
// "YYYY-MM-DD", an existing date, no "00" parts.
func (d PartialDate) Valid() bool {
	_, month, day, err := partialDateParts(string(d))
	if err != nil {
		return false
	}
	switch len(d) {
	case 7:
		return month != 0
	case 10:
		return day != 0
	default:
		return true
	}
}

// Precision says how much of d is known; PrecisionNone when d is empty or
// not canonical.
func (d PartialDate) Precision() DatePrecision {
	if !d.Valid() {
		return PrecisionNone
	}
	switch len(d) {
	case 4:
		return PrecisionYear
	case 7:
		return PrecisionMonth
	default:
		return PrecisionDay
	}
}

// Parts returns the year, month and day of d, 0 for what is unknown; all
// three are 0 when d is not valid.
func (d PartialDate) Parts() (year, month, day int) {
	p := d.Precision()
	if p == PrecisionNone {
		return 0, 0, 0
	}
	year, _ = strconv.Atoi(string(d[:4]))
	if p >= PrecisionMonth {
		month, _ = strconv.Atoi(string(d[5:7]))
	}
	if p == PrecisionDay {
		day, _ = strconv.Atoi(string(d[8:10]))
	}
	return year, month, day
}

// Matches reports whether d and other can be the same date: both are valid
// and agree at the coarser of their precisions, so "1980" matches
// "1980-05-12" and "1980-05" does not match "1980-06-01". An empty or
// invalid date matches nothing.
func (d PartialDate) Matches(other PartialDate) bool {
	p, q := d.Precision(), other.Precision()
	if p == PrecisionNone || q == PrecisionNone {
		return false
	}
	n := len(d)
	if len(other) < n {
		n = len(other)
	}
	return d[:n] == other[:n]
}

// ErrInvalidDate is returned by [Date.Time]; it never quotes the value.
var ErrInvalidDate = errors.New("invalid date, want YYYY-MM-DD")

// Date is a full calendar date, "YYYY-MM-DD".
type Date string

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date { return Date(t.Format(time.DateOnly)) }

// Valid reports whether d is an existing date in the form YYYY-MM-DD.
func (d Date) Valid() bool {
	_, err := time.Parse(time.DateOnly, string(d))
	return err == nil
}

// Time returns midnight UTC of d.
func (d Date) Time() (time.Time, error) {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		// time's error quotes the value; this one does not.
		return time.Time{}, ErrInvalidDate
	}
	return t, nil
}

// before reports whether d is strictly before e; false unless both are valid.
func (d Date) before(e Date) bool {
	return d.Valid() && e.Valid() && d < e
}

// digits parses a string of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}

// daysIn is the number of days of month in year; 0 for month 0.
func daysIn(year, month int) int {
	if month == 0 {
		return 0
	}
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
