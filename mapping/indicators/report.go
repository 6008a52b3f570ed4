package indicators

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/relais-dev/relais/mapping"
)

// SchemaID is the value of Report.Schema.
const SchemaID = "relais.indicators/v1"

// Report is an establishment's indicators over a period. Its JSON form is
// described by indicators.schema.json.
type Report struct {
	Schema string         `json:"schema"`
	FINESS string         `json:"finess"`
	Period mapping.Period `json:"period"`
	// DaysInPeriod counts the period's days, both ends included.
	DaysInPeriod int `json:"days_in_period"`
	// Capacity is the number of places, nil when unknown.
	Capacity *int `json:"capacity"`
	// OccupancyRate is DaysOfPresence / (Capacity × DaysInPeriod), 4
	// decimals; nil without a capacity.
	OccupancyRate  *float64  `json:"occupancy_rate"`
	DaysOfPresence int64     `json:"days_of_presence"`
	StayDays       int64     `json:"stay_days"`
	AbsenceDays    int64     `json:"absence_days"`
	Persons        Persons   `json:"persons"`
	Stays          Stays     `json:"stays"`
	Absences       Absences  `json:"absences"`
	Presences      Presences `json:"presences"`
	// Events counts the events by status.
	Events map[mapping.EventStatus]int `json:"events"`
	PSU    PSU                         `json:"psu"`
}

// Persons counts the persons accompanied.
type Persons struct {
	Total int `json:"total"`
	// BySex counts them by sex: F, M, U.
	BySex SexCounts `json:"by_sex"`
	// ByAgeBand lists every band, the unknown one last when not empty.
	ByAgeBand []AgeBand `json:"by_age_band"`
}

// SexCounts counts by sex.
type SexCounts struct {
	F int `json:"F"`
	M int `json:"M"`
	U int `json:"U"`
}

// AgeBand counts the persons of an age band, by sex.
type AgeBand struct {
	// Band is "0-2", "85+" or "inconnu".
	Band  string    `json:"band"`
	Total int       `json:"total"`
	BySex SexCounts `json:"by_sex"`
}

// Stays counts the stays.
type Stays struct {
	Total   int `json:"total"`
	Entries int `json:"entries"`
	Exits   int `json:"exits"`
	// AverageLengthDays is over the exits, 2 decimals; nil without exits.
	AverageLengthDays *float64 `json:"average_length_days"`
}

// Absences counts the absences.
type Absences struct {
	Total    int             `json:"total"`
	Days     int64           `json:"days"`
	ByReason []ReasonAbsence `json:"by_reason"`
}

// ReasonAbsence counts the absences of one reason.
type ReasonAbsence struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	Days   int    `json:"days"`
}

// Presences sums the presences.
type Presences struct {
	Total int     `json:"total"`
	Hours float64 `json:"hours"`
}

// PSU holds the figures of a crèche's PSU declaration.
type PSU struct {
	Months []PSUMonth `json:"months"`
	Totals PSUTotals  `json:"totals"`
}

// PSUMonth is one month of PSU figures. Its JSON form is the one the CAF
// declaration API takes (contracts/cafpsu Month).
type PSUMonth struct {
	// Month is "YYYY-MM".
	Month         string  `json:"month"`
	BilledHours   float64 `json:"billed_hours"`
	AttendedHours float64 `json:"attended_hours"`
	PSUHours      float64 `json:"psu_hours"`
	Children      int     `json:"children"`
	OpeningDays   int     `json:"opening_days"`
}

// PSUTotals sums the months.
type PSUTotals struct {
	BilledHours   float64 `json:"billed_hours"`
	AttendedHours float64 `json:"attended_hours"`
	PSUHours      float64 `json:"psu_hours"`
	OpeningDays   int     `json:"opening_days"`
	// BillingRate is billed over attended, 4 decimals; nil when nothing
	// was attended.
	BillingRate *float64 `json:"billing_rate"`
}

func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

func hours(secs int64) float64 { return round(float64(secs)/3600, 2) }

// Report computes the indicators of what was added so far.
func (a *Accumulator) Report() *Report {
	r := &Report{
		Schema:       SchemaID,
		FINESS:       a.opts.FINESS,
		Period:       a.opts.Period,
		DaysInPeriod: a.p1 - a.p0 + 1,
		StayDays:     a.stayDays,
		AbsenceDays:  a.absenceDays,
		Events:       map[mapping.EventStatus]int{},
	}
	r.DaysOfPresence = max(0, a.stayDays-a.absenceDays)
	if c := a.opts.Capacity; c > 0 {
		r.Capacity = &c
		rate := round(float64(r.DaysOfPresence)/float64(c*r.DaysInPeriod), 4)
		r.OccupancyRate = &rate
	}

	bands := make([]AgeBand, len(a.opts.AgeBands)+1) // the last: unknown
	for i := range a.opts.AgeBands {
		bands[i].Band = a.bandLabel(i)
	}
	bands[len(bands)-1].Band = a.bandLabel(-1)
	for _, p := range a.persons {
		if p.flags&flagStay == 0 {
			continue
		}
		b := &bands[len(bands)-1]
		if p.band >= 0 {
			b = &bands[p.band]
		}
		r.Persons.Total++
		b.Total++
		for _, sc := range []*SexCounts{&r.Persons.BySex, &b.BySex} {
			switch p.sex {
			case sexFemale:
				sc.F++
			case sexMale:
				sc.M++
			default:
				sc.U++
			}
		}
	}
	if bands[len(bands)-1].Total == 0 {
		bands = bands[:len(bands)-1]
	}
	r.Persons.ByAgeBand = bands

	r.Stays = Stays{Total: a.stays, Entries: a.entries, Exits: a.exits}
	if a.exits > 0 {
		avg := round(float64(a.lengthDays)/float64(a.exits), 2)
		r.Stays.AverageLengthDays = &avg
	}
	r.Absences = Absences{Total: a.absences, Days: a.absenceDays, ByReason: []ReasonAbsence{}}
	for _, k := range a.reasonOrder {
		rc := a.reasons[k]
		r.Absences.ByReason = append(r.Absences.ByReason, ReasonAbsence{Reason: rc.label, Count: rc.count, Days: rc.days})
	}
	slices.SortStableFunc(r.Absences.ByReason, func(x, y ReasonAbsence) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Reason, y.Reason))
	})
	r.Presences = Presences{Total: a.presences, Hours: hours(a.presenceSeconds)}
	for s, n := range a.events {
		r.Events[s] = n
	}
	r.PSU = a.psu()
	return r
}

// psu computes the months of PSU figures.
func (a *Accumulator) psu() PSU {
	children := make([]int, min(len(a.months), 64))
	for _, m := range a.childMonths {
		for m != 0 {
			i := bits.TrailingZeros64(m)
			children[i]++
			m &^= 1 << i
		}
	}
	out := PSU{Months: make([]PSUMonth, len(a.months))}
	var billed, attended, covered int64
	for i := range a.months {
		y, mo := a.y0+(a.m0-1+i)/12, (a.m0-1+i)%12+1
		first := civilDays(y, mo, 1)
		next := civilDays(y+mo/12, mo%12+1, 1)
		open := 0
		for d := max(first, a.p0); d < min(next, a.p1+1); d++ {
			di := d - a.p0
			if a.openDays[di/64]&(1<<(di%64)) != 0 {
				open++
			}
		}
		m := a.months[i]
		psu := min(m.billed, int64(math.Floor(float64(m.attended)*a.opts.PSUBillingCap)))
		billed += m.billed
		attended += m.attended
		covered += psu
		pm := PSUMonth{
			Month:         fmt.Sprintf("%04d-%02d", y, mo),
			BilledHours:   hours(m.billed),
			AttendedHours: hours(m.attended),
			PSUHours:      hours(psu),
			OpeningDays:   open,
		}
		if i < len(children) {
			pm.Children = children[i]
		}
		out.Months[i] = pm
		out.Totals.OpeningDays += open
	}
	out.Totals.BilledHours, out.Totals.AttendedHours, out.Totals.PSUHours = hours(billed), hours(attended), hours(covered)
	if attended > 0 {
		rate := round(float64(billed)/float64(attended), 4)
		out.Totals.BillingRate = &rate
	}
	return out
}
