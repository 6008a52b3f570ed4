package indicators

import (
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// person flags.
const (
	flagListed uint8 = 1 << iota // a person row was seen
	flagStay                     // a stay refers to the person
)

// person is what is kept of one person: a few bytes.
type person struct {
	band  int8 // index in AgeBands, -1 unknown
	sex   uint8
	flags uint8
}

// reasonCount sums the absences of one reason.
type reasonCount struct {
	label       string
	count, days int
}

// month sums one month of PSU figures, in seconds.
type month struct {
	attended, billed int64
	children         int
	openingDays      int
}

// Accumulator sums the rows of one report. It is not safe for concurrent
// use; feed it from one goroutine.
type Accumulator struct {
	opts     Options
	seed     maphash.Seed
	p0, p1   int // period's first and last day numbers
	endYear  int
	endMonth int
	endDay   int
	// start of the period's first month, for month indexes.
	y0, m0 int

	persons map[uint64]person

	stays, entries, exits int
	stayDays, lengthDays  int64
	absenceDays           int64
	absences, presences   int
	presenceSeconds       int64
	events                map[mapping.EventStatus]int
	reasons               map[string]*reasonCount
	reasonOrder           []string
	months                []month
	childMonths           map[uint64]uint64 // person -> bit per month (64 months at most)
	openDays              []uint64          // bit per day of the period
}

// New returns an Accumulator for the report opts describes.
func New(opts Options) (*Accumulator, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	a := &Accumulator{
		opts:        opts,
		seed:        maphash.MakeSeed(),
		persons:     map[uint64]person{},
		events:      map[mapping.EventStatus]int{},
		reasons:     map[string]*reasonCount{},
		childMonths: map[uint64]uint64{},
	}
	a.p0, _ = dayNumber(opts.Period.Start)
	a.p1, _ = dayNumber(opts.Period.End)
	s, e := string(opts.Period.Start), string(opts.Period.End)
	a.y0, _ = atoi(s[:4])
	a.m0, _ = atoi(s[5:7])
	a.endYear, _ = atoi(e[:4])
	a.endMonth, _ = atoi(e[5:7])
	a.endDay, _ = atoi(e[8:])
	a.months = make([]month, (a.endYear-a.y0)*12+a.endMonth-a.m0+1)
	a.openDays = make([]uint64, (a.p1-a.p0)/64+1)
	return a, nil
}

func (a *Accumulator) hash(id string) uint64 { return maphash.String(a.seed, id) }

// Row adds one row read by activitycsv: it is an activitycsv.Handler.
func (a *Accumulator) Row(r activitycsv.Row) error {
	switch {
	case r.Person != nil:
		a.AddPerson(r.Person)
	case r.Stay != nil:
		a.AddStay(r.Stay)
	case r.Event != nil:
		a.AddEvent(r.Event)
	case r.Presence != nil:
		a.AddPresenceAbsence(r.Presence)
	}
	return nil
}

var _ activitycsv.Handler = (*Accumulator)(nil).Row

// AddReport adds every row of a canonical report.
func (a *Accumulator) AddReport(r *mapping.ActivityReport) {
	for i := range r.Persons {
		a.AddPerson(&r.Persons[i])
	}
	for i := range r.Stays {
		a.AddStay(&r.Stays[i])
	}
	for i := range r.Events {
		a.AddEvent(&r.Events[i])
	}
	for i := range r.PresenceAbsences {
		a.AddPresenceAbsence(&r.PresenceAbsences[i])
	}
}

// AddPerson adds a person: its sex and age band, counted once it has a
// stay.
func (a *Accumulator) AddPerson(rp *mapping.ReportPerson) {
	h := a.hash(rp.LocalID)
	p := a.persons[h]
	p.flags |= flagListed
	p.sex = sexIndex(rp.Person.Sex)
	p.band = int8(a.band(rp.Person.BirthDate))
	a.persons[h] = p
}

// AddStay adds a stay: its days in the period, its entry and exit.
func (a *Accumulator) AddStay(s *mapping.Stay) {
	start, ok := dayNumber(s.Start)
	if !ok {
		return
	}
	end, hasEnd := dayNumber(s.End)
	a.stays++
	h := a.hash(s.PersonLocalID)
	p, known := a.persons[h]
	if !known {
		p.band, p.sex = -1, sexUnknown
	}
	p.flags |= flagStay
	a.persons[h] = p

	lo := max(start, a.p0)
	hi := a.p1 + 1 // exclusive
	if hasEnd && end <= a.p1 {
		hi = end
	}
	days := hi - lo
	if hasEnd && start == end && start >= a.p0 && start <= a.p1 {
		days = 1
	}
	if days > 0 {
		a.stayDays += int64(days)
	}
	if start >= a.p0 && start <= a.p1 {
		a.entries++
	}
	if hasEnd && end >= a.p0 && end <= a.p1 {
		a.exits++
		a.lengthDays += int64(max(1, end-start))
	}
}

// AddEvent adds an event, counted by status.
func (a *Accumulator) AddEvent(e *mapping.Event) {
	a.events[e.Status]++
}

// AddPresenceAbsence adds a presence or an absence: its hours, its whole
// days of absence, its reason.
func (a *Accumulator) AddPresenceAbsence(pa *mapping.PresenceAbsence) {
	if pa.Start.IsZero() || pa.End.Before(pa.Start) {
		return
	}
	start, end := pa.Start.In(a.opts.Location), pa.End.In(a.opts.Location)
	sy, sm, sd := start.Date()
	secs := int64(end.Sub(start) / time.Second)
	mi := (sy-a.y0)*12 + int(sm) - a.m0
	inMonths := mi >= 0 && mi < len(a.months)
	if pa.Invoiced && inMonths {
		a.months[mi].billed += secs
	}
	switch pa.Kind {
	case mapping.Presence:
		a.presences++
		a.presenceSeconds += secs
		if !inMonths {
			return
		}
		a.months[mi].attended += secs
		if di := civilDays(sy, int(sm), sd) - a.p0; di >= 0 && di <= a.p1-a.p0 {
			a.openDays[di/64] |= 1 << (di % 64)
		}
		if mi < 64 {
			h := a.hash(personOf(pa.Identifier))
			a.childMonths[h] |= 1 << mi
		}
	case mapping.Absence:
		a.absences++
		days := a.wholeDays(start, end)
		a.absenceDays += int64(days)
		a.reason(pa.Reason, days)
	}
}

// wholeDays counts the calendar days [start, end] covers from 00:00 to
// 24:00, inside the period.
func (a *Accumulator) wholeDays(start, end time.Time) int {
	sy, sm, sd := start.Date()
	first := civilDays(sy, int(sm), sd)
	if h, m, s := start.Clock(); h != 0 || m != 0 || s != 0 {
		first++
	}
	ey, em, ed := end.Date()
	last := civilDays(ey, int(em), ed)
	if h, m, _ := end.Clock(); h != 23 || m != 59 {
		last-- // the end's day is not covered to its end
	}
	first, last = max(first, a.p0), min(last, a.p1)
	return max(0, last-first+1)
}

// otherReason is the reason the absences beyond MaxReasons reasons go to.
const otherReason = "autre"

func (a *Accumulator) reason(r *mapping.Coding, days int) {
	key, label := otherReason, otherReason
	if r != nil {
		switch {
		case r.Code != "":
			key, label = r.System+"|"+r.Code, r.Code
			if r.Display != "" {
				label = r.Display
			}
		case r.Display != "":
			label = strings.TrimSpace(r.Display)
			key = strings.ToLower(label)
		}
	}
	rc, ok := a.reasons[key]
	if !ok {
		if len(a.reasons) >= a.opts.MaxReasons {
			key, label = otherReason, otherReason
			rc, ok = a.reasons[key]
		}
		if !ok {
			rc = &reasonCount{label: label}
			a.reasons[key] = rc
			a.reasonOrder = append(a.reasonOrder, key)
		}
	}
	rc.count++
	rc.days += days
}

// sex indexes.
const (
	sexFemale uint8 = iota
	sexMale
	sexUnknown
)

func sexIndex(s mapping.Sex) uint8 {
	switch s {
	case mapping.SexFemale:
		return sexFemale
	case mapping.SexMale:
		return sexMale
	}
	return sexUnknown
}

// band is the index of the age band of a person born on d, at the
// period's end; -1 when the birth date cannot be read.
func (a *Accumulator) band(d mapping.PartialDate) int {
	if !d.Valid() {
		return -1
	}
	y, m, day := d.Parts()
	if m == 0 {
		m, day = 7, 1
	}
	if day == 0 {
		day = 15
	}
	age := a.endYear - y
	if a.endMonth < m || (a.endMonth == m && a.endDay < day) {
		age--
	}
	if age < 0 {
		return -1
	}
	b := 0
	for i, lo := range a.opts.AgeBands {
		if age >= lo {
			b = i
		}
	}
	return b
}

// bandLabel names age band i: "0-2", "85+", "inconnu".
func (a *Accumulator) bandLabel(i int) string {
	bands := a.opts.AgeBands
	switch {
	case i < 0:
		return "inconnu"
	case i == len(bands)-1:
		return fmt.Sprintf("%d+", bands[i])
	}
	return fmt.Sprintf("%d-%d", bands[i], bands[i+1]-1)
}

// personOf is the person's local id at the start of a presence/absence
// identifier ("3<FINESS>/<id>-PA-<n>").
func personOf(id string) string {
	if i := strings.LastIndex(id, "-PA-"); i > 0 {
		return id[:i]
	}
	return id
}
