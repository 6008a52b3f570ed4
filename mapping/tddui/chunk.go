package tddui

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// BundleIdentifierSystem is the system of the Bundle identifiers Relais
// gives.
const BundleIdentifierSystem = "https://relais-dev.github.io/relais/fhir/sid/report-chunk"

// ContentType is a Bundle's content type.
const ContentType = "application/fhir+json"

// DefaultMaxEntries is the default size of a chunk, in Bundle entries.
const DefaultMaxEntries = 1000

// MinMaxEntries is the smallest chunk that can hold one self-contained
// item: the Organization, a Patient, its stay and one event or slot.
const MinMaxEntries = 4

// Options say which Bundles to make.
type Options struct {
	// ReportID is Relais's report id, stable across versions: letters,
	// digits, ".", "_" and "-", at most 100. Required.
	ReportID string
	// Version is the report's version, from 1. Required.
	Version int
	// MaxEntries is the most entries a Bundle holds, the Organization
	// included. Default DefaultMaxEntries; at least MinMaxEntries.
	MaxEntries int
	// EstablishmentName is the Organization's name. Default: none.
	EstablishmentName string
}

var reportIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	switch {
	case !reportIDPattern.MatchString(o.ReportID):
		return errors.New("tddui: Options.ReportID must be 1 to 100 letters, digits, '.', '_' or '-'")
	case o.Version < 1:
		return fmt.Errorf("tddui: Options.Version must be at least 1 (%d)", o.Version)
	case o.MaxEntries < MinMaxEntries:
		return fmt.Errorf("tddui: Options.MaxEntries must be at least %d (%d)", MinMaxEntries, o.MaxEntries)
	case len(o.EstablishmentName) > 200:
		return errors.New("tddui: Options.EstablishmentName is longer than 200 bytes")
	}
	return nil
}

// Bundle is one chunk of the report, mapped.
type Bundle struct {
	// Chunk and Chunks number the Bundle among the report's, from 1.
	Chunk, Chunks int
	// Identifier is Bundle.identifier.value, in BundleIdentifierSystem.
	Identifier string
	// Entries counts the Bundle's entries.
	Entries int
	// Body is the Bundle's JSON.
	Body []byte
}

// BundleIdentifier is the identifier of a report's chunk: the same for
// every version.
func BundleIdentifier(reportID string, chunk int) string {
	return fmt.Sprintf("%s-%d", reportID, chunk)
}

// chunk lists the indexes of the report's items one Bundle holds.
type chunk struct {
	persons, stays, events, slots []int
	entries                       int
}

// pack splits r into chunks of at most maxEntries entries.
func pack(r *mapping.ActivityReport, maxEntries int) []*chunk {
	personIdx := make(map[string]int, len(r.Persons))
	for i := range r.Persons {
		personIdx[r.Persons[i].LocalID] = i
	}
	staysOf := make(map[int][]int, len(r.Persons))
	var orphanStays []int
	stayIdx := make(map[string]int, len(r.Stays))
	for i := range r.Stays {
		stayIdx[r.Stays[i].Identifier] = i
		if p, ok := personIdx[r.Stays[i].PersonLocalID]; ok {
			staysOf[p] = append(staysOf[p], i)
		} else {
			orphanStays = append(orphanStays, i)
		}
	}
	type item struct {
		event bool
		i     int
	}
	itemsOf := make(map[int][]item, len(r.Stays))
	var orphanItems []item
	for i := range r.Events {
		if s, ok := stayIdx[r.Events[i].StayIdentifier]; ok {
			itemsOf[s] = append(itemsOf[s], item{true, i})
		} else {
			orphanItems = append(orphanItems, item{true, i})
		}
	}
	for i := range r.PresenceAbsences {
		if s, ok := stayIdx[r.PresenceAbsences[i].StayIdentifier]; ok {
			itemsOf[s] = append(itemsOf[s], item{false, i})
		} else {
			orphanItems = append(orphanItems, item{false, i})
		}
	}

	var out []*chunk
	cur := &chunk{entries: 1} // the Organization
	person, stay := -1, -1    // what cur holds of the current person and stay
	// room makes room for need entries, starting a new chunk if cur is
	// full; the new chunk holds neither the person nor the stay.
	room := func(need int) {
		if cur.entries+need > maxEntries && cur.entries > 1 {
			out = append(out, cur)
			cur = &chunk{entries: 1}
			person, stay = -1, -1
		}
	}
	addPerson := func(p int) {
		if p >= 0 && person != p {
			cur.persons = append(cur.persons, p)
			cur.entries++
			person = p
		}
	}
	addStay := func(s int) {
		if stay != s {
			cur.stays = append(cur.stays, s)
			cur.entries++
			stay = s
		}
	}
	need := func(p, s int) int {
		n := 0
		if p >= 0 && person != p {
			n++
		}
		if s >= 0 && stay != s {
			n++
		}
		return n
	}
	addItems := func(p, s int) {
		items := itemsOf[s]
		if len(items) == 0 {
			room(need(p, s))
			addPerson(p)
			addStay(s)
			return
		}
		for _, it := range items {
			room(need(p, s) + 1)
			addPerson(p)
			addStay(s)
			if it.event {
				cur.events = append(cur.events, it.i)
			} else {
				cur.slots = append(cur.slots, it.i)
			}
			cur.entries++
		}
	}
	for p := range r.Persons {
		if len(staysOf[p]) == 0 {
			room(1)
			addPerson(p)
			continue
		}
		for _, s := range staysOf[p] {
			addItems(p, s)
		}
	}
	// What refers to nothing in the report (an unvalidated report) still
	// goes, so that the receiver says what is wrong with it.
	for _, s := range orphanStays {
		addItems(-1, s)
	}
	for _, it := range orphanItems {
		room(1)
		if it.event {
			cur.events = append(cur.events, it.i)
		} else {
			cur.slots = append(cur.slots, it.i)
		}
		cur.entries++
	}
	if cur.entries > 1 || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// input is what the TDDUI spec maps.
type input struct {
	Bundle struct {
		Identifier struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
		Version       int            `json:"version"`
		Organizations []organization `json:"organizations"`
	} `json:"bundle"`
	Report *mapping.ActivityReport `json:"activity_report"`
}

type organization struct {
	FINESS string `json:"finess"`
	Name   string `json:"name,omitempty"`
}

// Chunk maps r into Bundles with plan, the TDDUI spec
// (tddui.activity.outbound). The report should be valid
// (ActivityReport.Validate); the spec refuses what the canonical schema
// refuses.
func Chunk(plan *engine.Plan, r *mapping.ActivityReport, opts Options) ([]Bundle, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	chunks := pack(r, opts.MaxEntries)
	out := make([]Bundle, len(chunks))
	for n, c := range chunks {
		sub := &mapping.ActivityReport{FINESS: r.FINESS, Period: r.Period}
		sub.Persons = pick(r.Persons, c.persons)
		sub.Stays = pick(r.Stays, c.stays)
		sub.Events = pick(r.Events, c.events)
		sub.PresenceAbsences = pick(r.PresenceAbsences, c.slots)
		var in input
		in.Bundle.Identifier.System = BundleIdentifierSystem
		in.Bundle.Identifier.Value = BundleIdentifier(opts.ReportID, n+1)
		in.Bundle.Version = opts.Version
		in.Bundle.Organizations = []organization{{FINESS: r.FINESS, Name: opts.EstablishmentName}}
		in.Report = sub
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding chunk %d: %w", n+1, err)
		}
		res, err := plan.Run(raw, engine.RunOptions{})
		if err != nil {
			return nil, fmt.Errorf("mapping chunk %d: %w", n+1, err)
		}
		out[n] = Bundle{Chunk: n + 1, Chunks: len(chunks), Identifier: in.Bundle.Identifier.Value, Entries: c.entries, Body: res.Output}
	}
	return out, nil
}

func pick[T any](all []T, idx []int) []T {
	if len(idx) == 0 {
		return nil
	}
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}
