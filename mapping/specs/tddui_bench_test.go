package specs_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// The TDDUI benchmarks map a canonical activity report (one person, one
// stay, two events, a presence and an absence: the first golden case) to the
// TDDUI transaction Bundle, with the engine and the TDDUI spec and with
// handMapTDDUI, the Go a developer would write for the same case. Both
// decode the JSON, map and encode the JSON; "validated" adds the checks each
// does in production (the engine: the canonical schemas on input, the
// bundle schema on output; the hand-written mapper: the canonical report's
// Validate).

const tdduiCaseDir = "tddui/testdata/activity.outbound/"

func tdduiInput(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(tdduiCaseDir + name + ".input.json") //nolint:gosec // the test's own cases
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func tdduiPlan(tb testing.TB) *engine.Plan {
	tb.Helper()
	p, ok := setup(tb).Plan("tddui", "bundle", engine.Outbound)
	if !ok {
		tb.Fatal("no TDDUI bundle spec")
	}
	return p
}

func BenchmarkTDDUIEngine(b *testing.B) {
	benchEngine(b, tdduiPlan(b), tdduiInput(b, "one_stay_events_presence_absence"))
}

func BenchmarkTDDUIHandWritten(b *testing.B) {
	benchMapper(b, tdduiInput(b, "one_stay_events_presence_absence"), handMapTDDUI)
}

// TestTDDUIHandWrittenMatchesEngine keeps the baseline honest: it produces
// the engine's output on the golden cases the engine maps, and refuses the
// one the engine refuses.
func TestTDDUIHandWrittenMatchesEngine(t *testing.T) {
	t.Parallel()
	p := tdduiPlan(t)
	for _, c := range []string{"one_stay_events_presence_absence", "partial_birth_date_compound_given_names"} {
		raw := tdduiInput(t, c)
		assertSameOutput(t, c, p, raw, handMapTDDUI)
	}
	if _, err := handMapTDDUI(tdduiInput(t, "error_absence_without_reason"), true); err == nil {
		t.Error("hand-written: an absence without reason was accepted")
	}
}

type fhirIdentifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

type fhirRef struct {
	Identifier fhirIdentifier `json:"identifier"`
}

type fhirConcept struct {
	Coding []mapping.Coding `json:"coding,omitempty"`
	Text   string           `json:"text,omitempty"`
}

type fhirPeriod struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

type fhirName struct {
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type fhirMeta struct {
	Profile   []string `json:"profile"`
	VersionID string   `json:"versionId,omitempty"`
}

// fhirResource holds the fields of the four resource kinds the bundle
// carries; each kind sets its own.
type fhirResource struct {
	ResourceType    string           `json:"resourceType"`
	Meta            *fhirMeta        `json:"meta,omitempty"`
	Identifier      []fhirIdentifier `json:"identifier"`
	Name            any              `json:"name,omitempty"` // []fhirName, or an Organization's string
	Gender          string           `json:"gender,omitempty"`
	BirthDate       string           `json:"birthDate,omitempty"`
	Status          string           `json:"status,omitempty"`
	Class           *mapping.Coding  `json:"class,omitempty"`
	Subject         *fhirRef         `json:"subject,omitempty"`
	Managing        *fhirRef         `json:"managingOrganization,omitempty"`
	ServiceProvider *fhirRef         `json:"serviceProvider,omitempty"`
	Schedule        *fhirRef         `json:"schedule,omitempty"`
	Type            []fhirConcept    `json:"type,omitempty"`
	Period          *fhirPeriod      `json:"period,omitempty"`
	PartOf          *fhirRef         `json:"partOf,omitempty"`
	ServiceType     []fhirConcept    `json:"serviceType,omitempty"`
	AppointmentType *fhirConcept     `json:"appointmentType,omitempty"`
	Start           string           `json:"start,omitempty"`
	End             string           `json:"end,omitempty"`
	Comment         string           `json:"comment,omitempty"`
}

type fhirRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type fhirEntry struct {
	Resource fhirResource `json:"resource"`
	Request  fhirRequest  `json:"request"`
}

type fhirBundle struct {
	ResourceType string         `json:"resourceType"`
	Meta         fhirMeta       `json:"meta"`
	Identifier   fhirIdentifier `json:"identifier"`
	Type         string         `json:"type"`
	Entry        []fhirEntry    `json:"entry"`
}

const tdduiProfile = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/"

func profile(name string) *fhirMeta { return &fhirMeta{Profile: []string{tdduiProfile + name}} }

var encounterClass = mapping.Coding{System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "IMP"}

// handMapTDDUI is the hand-written baseline.
func handMapTDDUI(raw []byte, validate bool) ([]byte, error) {
	var in struct {
		Bundle struct {
			Identifier    fhirIdentifier `json:"identifier"`
			Version       int            `json:"version"`
			Organizations []struct {
				FINESS string `json:"finess"`
				Name   string `json:"name"`
			} `json:"organizations"`
		} `json:"bundle"`
		Report mapping.ActivityReport `json:"activity_report"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	r := &in.Report
	if validate {
		if errs := r.Validate(); len(errs) > 0 {
			return nil, errs[0]
		}
	}
	out := fhirBundle{ResourceType: "Bundle", Type: "transaction",
		Meta:       fhirMeta{Profile: []string{tdduiProfile + "tddui-bundle"}, VersionID: strconv.Itoa(in.Bundle.Version)},
		Identifier: in.Bundle.Identifier,
		Entry:      make([]fhirEntry, 0, 1+len(r.Persons)+len(r.Stays)+len(r.Events)+len(r.PresenceAbsences))}
	org := &fhirRef{Identifier: fhirIdentifier{System: "urn:oid:1.2.250.1.71.4.2.2", Value: "1" + r.FINESS}}
	for _, o := range in.Bundle.Organizations {
		res := fhirResource{ResourceType: "Organization", Meta: profile("tddui-organization"),
			Identifier: []fhirIdentifier{{System: "urn:oid:1.2.250.1.71.4.2.2", Value: "1" + o.FINESS}}}
		if o.Name != "" {
			res.Name = o.Name
		}
		out.Entry = append(out.Entry, fhirEntry{Resource: res, Request: fhirRequest{"POST", "Organization"}})
	}
	for i := range r.Persons {
		p := &r.Persons[i]
		var gender string
		switch p.Person.Sex {
		case mapping.SexFemale:
			gender = "female"
		case mapping.SexMale:
			gender = "male"
		case mapping.SexUnknown:
			gender = "unknown"
		default:
			return nil, errHand
		}
		out.Entry = append(out.Entry, fhirEntry{
			Resource: fhirResource{ResourceType: "Patient", Meta: profile("tddui-patient"), Identifier: []fhirIdentifier{{Value: p.LocalID}},
				Name:   []fhirName{{Family: p.Person.BirthFamilyName, Given: p.Person.GivenNames}},
				Gender: gender, BirthDate: string(p.Person.BirthDate), Managing: org},
			Request: fhirRequest{"POST", "Patient"},
		})
	}
	for i := range r.Stays {
		s := &r.Stays[i]
		status := "in-progress"
		if s.End != "" {
			status = "finished"
		}
		out.Entry = append(out.Entry, fhirEntry{
			Resource: fhirResource{ResourceType: "Encounter", Meta: profile("tddui-encounter-sejour"),
				Identifier: []fhirIdentifier{{System: mapping.StayIdentifierSystem, Value: s.Identifier}},
				Status:     status, Class: &encounterClass,
				Subject:         &fhirRef{Identifier: fhirIdentifier{Value: s.PersonLocalID}},
				Period:          &fhirPeriod{Start: string(s.Start), End: string(s.End)},
				ServiceProvider: org},
			Request: fhirRequest{"POST", "Encounter"},
		})
	}
	for i := range r.Events {
		e := &r.Events[i]
		res := fhirResource{ResourceType: "Encounter", Meta: profile("tddui-encounter-evenement"), Identifier: []fhirIdentifier{{Value: e.Identifier}},
			Status: string(e.Status), Class: &encounterClass,
			Period: &fhirPeriod{Start: e.Start.Format(time.RFC3339Nano), End: e.End.Format(time.RFC3339Nano)},
			PartOf: &fhirRef{Identifier: fhirIdentifier{System: mapping.StayIdentifierSystem, Value: e.StayIdentifier}}}
		if e.Type != nil {
			res.Type = []fhirConcept{concept(e.Type)}
		}
		out.Entry = append(out.Entry, fhirEntry{Resource: res, Request: fhirRequest{"POST", "Encounter"}})
	}
	for i := range r.PresenceAbsences {
		pa := &r.PresenceAbsences[i]
		status := "busy"
		if pa.Kind != mapping.Presence {
			status = "busy-unavailable"
		}
		res := fhirResource{ResourceType: "Slot", Meta: profile("tddui-slot-presence-absence"),
			Identifier:  []fhirIdentifier{{System: mapping.PresenceAbsenceIdentifierSystem, Value: pa.Identifier}},
			ServiceType: []fhirConcept{{Text: string(pa.Kind)}}, Status: status,
			Schedule: &fhirRef{Identifier: fhirIdentifier{System: mapping.StayIdentifierSystem, Value: pa.StayIdentifier}},
			Start:    pa.Start.Format(time.RFC3339Nano), End: pa.End.Format(time.RFC3339Nano),
			Comment: "planned=" + boolText(pa.Planned) + ";invoiced=" + boolText(pa.Invoiced)}
		if pa.Reason != nil {
			c := concept(pa.Reason)
			res.AppointmentType = &c
		}
		out.Entry = append(out.Entry, fhirEntry{Resource: res, Request: fhirRequest{"POST", "Slot"}})
	}
	return json.Marshal(out)
}

// concept is a coded value's CodeableConcept: its coding, or its text alone.
func concept(c *mapping.Coding) fhirConcept {
	if c.Code != "" {
		return fhirConcept{Coding: []mapping.Coding{*c}}
	}
	return fhirConcept{Text: c.Display}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
