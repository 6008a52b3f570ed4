package indicators

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Options are one report's parameters.
type Options struct {
	// FINESS is the reporting establishment's FINESS number. Required.
	FINESS string
	// Period is the report's period, both ends included. Required.
	Period mapping.Period
	// Capacity is the establishment's number of places, for the occupancy
	// rate. Default 0: unknown, no occupancy rate.
	Capacity int
	// Location is the time zone of calendar days. Default Europe/Paris.
	Location *time.Location
	// AgeBands are the lower bounds, in years, of the age bands, in
	// increasing order from 0. Default DefaultAgeBands.
	AgeBands []int
	// PSUBillingCap caps the hours covered by the PSU at hours attended ×
	// PSUBillingCap. Default 1.07.
	PSUBillingCap float64
	// MaxReasons is how many distinct absence reasons are counted apart;
	// the others go under "autre". Default 50.
	MaxReasons int
}

// Defaults.
var DefaultAgeBands = []int{0, 3, 6, 12, 18, 25, 45, 60, 75, 85}

const (
	DefaultPSUBillingCap = 1.07
	DefaultMaxReasons    = 50
	// MaxPeriodDays bounds a report's period (ten years).
	MaxPeriodDays = 3660
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			loc = time.UTC // no tzdata: the caller may set Location
		}
		o.Location = loc
	}
	if len(o.AgeBands) == 0 {
		o.AgeBands = DefaultAgeBands
	}
	if o.PSUBillingCap == 0 {
		o.PSUBillingCap = DefaultPSUBillingCap
	}
	if o.MaxReasons == 0 {
		o.MaxReasons = DefaultMaxReasons
	}
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	switch {
	case !mapping.ValidFINESS(o.FINESS):
		return errors.New("indicators: Options.FINESS is not a valid FINESS number")
	case !o.Period.Start.Valid():
		return errors.New("indicators: Options.Period.Start is not a valid date")
	case !o.Period.End.Valid():
		return errors.New("indicators: Options.Period.End is not a valid date")
	case o.Period.End < o.Period.Start:
		return errors.New("indicators: Options.Period.End is before Options.Period.Start")
	case o.Capacity < 0:
		return fmt.Errorf("indicators: Options.Capacity is negative (%d)", o.Capacity)
	case o.PSUBillingCap < 1:
		return fmt.Errorf("indicators: Options.PSUBillingCap is below 1 (%g)", o.PSUBillingCap)
	case o.MaxReasons < 1:
		return fmt.Errorf("indicators: Options.MaxReasons is below 1 (%d)", o.MaxReasons)
	case len(o.AgeBands) == 0 || o.AgeBands[0] != 0 || !slices.IsSorted(o.AgeBands) || len(slices.Compact(slices.Clone(o.AgeBands))) != len(o.AgeBands):
		return errors.New("indicators: Options.AgeBands must increase strictly from 0")
	case len(o.AgeBands) > 100:
		return errors.New("indicators: Options.AgeBands has more than 100 bands")
	}
	p0, _ := dayNumber(o.Period.Start)
	p1, _ := dayNumber(o.Period.End)
	if p1-p0+1 > MaxPeriodDays {
		return fmt.Errorf("indicators: Options.Period spans more than %d days", MaxPeriodDays)
	}
	return nil
}

// dayNumber is the number of days from 1970-01-01 to d ("YYYY-MM-DD").
func dayNumber(d mapping.Date) (int, bool) {
	s := string(d)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := atoi(s[:4])
	m, ok2 := atoi(s[5:7])
	dd, ok3 := atoi(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || dd < 1 || dd > 31 {
		return 0, false
	}
	return civilDays(y, m, dd), true
}

// civilDays is Howard Hinnant's days_from_civil.
func civilDays(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func atoi(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}
