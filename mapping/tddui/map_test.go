package tddui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
	"github.com/relais-dev/relais/mapping/tddui"
)

const finess = "750000010"

func plan(t testing.TB) *engine.Plan {
	t.Helper()
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := engine.LoadCatalog(specs.FS, engine.Options{Schemas: schemas.Get})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cat.Plan("tddui", "bundle", engine.Outbound)
	if !ok {
		t.Fatal("no TDDUI bundle spec")
	}
	return p
}

// report makes a valid report: persons persons, each with stays stays of
// items events and items presences or absences (every third an absence
// with a reason), and one person without stay.
func report(persons, stays, items int) *mapping.ActivityReport {
	r := &mapping.ActivityReport{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}}
	day := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for p := range persons + 1 {
		id := fmt.Sprintf("3%s/U%d", finess, p)
		r.Persons = append(r.Persons, mapping.ReportPerson{LocalID: id, Person: mapping.Person{
			BirthFamilyName: "TEST", GivenNames: []string{"TEST"}, Sex: mapping.SexFemale, BirthDate: "1950-01-02",
		}})
		if p == persons {
			break // the last one has no stay
		}
		n := 0
		for s := range stays {
			sid := fmt.Sprintf("%s-SEJOUR-%d", id, s)
			r.Stays = append(r.Stays, mapping.Stay{Identifier: sid, PersonLocalID: id, Start: "2023-06-01"})
			for i := range items {
				at := day.AddDate(0, 0, n)
				n++
				r.Events = append(r.Events, mapping.Event{Identifier: fmt.Sprintf("E%d", len(r.Events)), StayIdentifier: sid,
					Status: mapping.EventFinished, Start: at, End: at.Add(time.Hour)})
				pa := mapping.PresenceAbsence{Identifier: fmt.Sprintf("%s-PA-%d", id, n), StayIdentifier: sid,
					Kind: mapping.Presence, Start: at, End: at.Add(8 * time.Hour), Invoiced: true}
				if i%3 == 2 {
					pa.Kind, pa.Reason = mapping.Absence, &mapping.Coding{Display: "Maladie"}
				}
				r.PresenceAbsences = append(r.PresenceAbsences, pa)
			}
		}
	}
	return r
}

// segments cuts r as gateway/report stages an upload: its rows in the
// order they are read (persons, stays, events, presences and absences),
// size rows a segment.
func segments(r *mapping.ActivityReport, size int) []*mapping.ActivityReport {
	var out []*mapping.ActivityReport
	cur, n := (*mapping.ActivityReport)(nil), 0
	next := func() *mapping.ActivityReport {
		if cur == nil || n == size {
			cur, n = &mapping.ActivityReport{FINESS: r.FINESS, Period: r.Period}, 0
			out = append(out, cur)
		}
		n++
		return cur
	}
	for _, p := range r.Persons {
		s := next()
		s.Persons = append(s.Persons, p)
	}
	for _, st := range r.Stays {
		s := next()
		s.Stays = append(s.Stays, st)
	}
	for _, e := range r.Events {
		s := next()
		s.Events = append(s.Events, e)
	}
	for _, pa := range r.PresenceAbsences {
		s := next()
		s.PresenceAbsences = append(s.PresenceAbsences, pa)
	}
	return out
}

type parsed struct {
	Identifier struct{ System, Value string }
	Meta       struct{ VersionID string }
	Entry      []struct {
		Resource struct {
			ResourceType string
			Identifier   []struct{ Value string }
		}
	}
}

// TestMapConstraints maps reports cut in segments of several sizes and
// checks every Bundle produced: the guide's constraints (Check), the
// identifier and version, and that every row is sent exactly once, in a
// chunk that comes after the rows it refers to.
func TestMapConstraints(t *testing.T) {
	t.Parallel()
	p := plan(t)
	tests := []struct {
		name                  string
		persons, stays, items int
		size                  int
	}{
		{"one chunk", 3, 2, 3, 1000},
		{"one row a chunk", 2, 2, 2, 1},
		{"odd size", 4, 3, 5, 7},
		{"a stay's rows span chunks", 1, 1, 40, 25},
		{"a person without stay", 0, 0, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := report(tt.persons, tt.stays, tt.items)
			if errs := r.Validate(); len(errs) > 0 {
				t.Fatalf("the test report is invalid: %v", errs[0])
			}
			segs := segments(r, tt.size)
			sent := map[string]int{}
			for i, seg := range segs {
				b, err := tddui.Map(p, seg, tddui.Options{ReportID: "rpt1", Version: 2, Chunk: i + 1, Chunks: len(segs), EstablishmentName: "EHPAD"})
				if err != nil {
					t.Fatal(err)
				}
				if v := tddui.Check(b.Body); len(v) > 0 {
					t.Errorf("chunk %d breaks %d constraints, first: %s", b.Chunk, len(v), v[0])
				}
				var pb parsed
				if err := json.Unmarshal(b.Body, &pb); err != nil {
					t.Fatal(err)
				}
				if b.Chunk != i+1 || b.Chunks != len(segs) || b.Identifier != fmt.Sprintf("rpt1-%d", i+1) ||
					pb.Identifier.Value != b.Identifier || pb.Identifier.System != tddui.BundleIdentifierSystem || pb.Meta.VersionID != "2" {
					t.Errorf("chunk %d: numbered %d/%d, identifier %q (%q in %s), version %q", i+1, b.Chunk, b.Chunks, b.Identifier, pb.Identifier.Value, pb.Identifier.System, pb.Meta.VersionID)
				}
				if len(pb.Entry) != b.Entries || b.Entries > tt.size+1 {
					t.Errorf("chunk %d has %d entries (counted %d), segment size %d", b.Chunk, len(pb.Entry), b.Entries, tt.size)
				}
				for _, e := range pb.Entry[1:] {
					sent[e.Resource.ResourceType+"|"+e.Resource.Identifier[0].Value]++
				}
			}
			if want := len(r.Persons) + len(r.Stays) + len(r.Events) + len(r.PresenceAbsences); len(sent) != want {
				t.Errorf("%d resources sent, want %d", len(sent), want)
			}
			for k, n := range sent {
				if n != 1 {
					t.Errorf("%s sent %d times", k, n)
				}
			}
		})
	}
}

// TestMapStable: the same rows and options give the same Bundle.
func TestMapStable(t *testing.T) {
	t.Parallel()
	p := plan(t)
	r := report(3, 2, 4)
	opts := tddui.Options{ReportID: "rpt1", Version: 1, Chunk: 1, Chunks: 1}
	a, err := tddui.Map(p, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tddui.Map(p, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Body) != string(b.Body) {
		t.Fatal("the Bundle differs between two runs")
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	p := plan(t)
	r := report(1, 1, 1)
	for field, o := range map[string]tddui.Options{
		"ReportID":          {ReportID: "a/b", Version: 1, Chunk: 1, Chunks: 1},
		"Version":           {ReportID: "a", Version: 0, Chunk: 1, Chunks: 1},
		"Chunk":             {ReportID: "a", Version: 1, Chunk: 2, Chunks: 1},
		"EstablishmentName": {ReportID: "a", Version: 1, Chunk: 1, Chunks: 1, EstablishmentName: strings.Repeat("x", 201)},
	} {
		if _, err := tddui.Map(p, r, o); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
}

// TestCheckFinds breaks a good Bundle in each way Check knows.
func TestCheckFinds(t *testing.T) {
	t.Parallel()
	b, err := tddui.Map(plan(t), report(1, 1, 3), tddui.Options{ReportID: "r", Version: 1, Chunk: 1, Chunks: 1})
	if err != nil {
		t.Fatal(err)
	}
	good := string(b.Body)
	pa := "3" + finess + "/U0-PA-3"
	tests := []struct {
		name, old, new, path, rule string
	}{
		{"absence without reason", `"appointmentType":{"text":"Maladie"},`, ``, "appointmentType", "absence_reason"},
		{"bad presence id", pa, "3" + finess + "/U0-XX-3", "identifier[0]", "pattern"},
		{"bad local id", `"value":"3` + finess + `/U0"}],"name"`, `"value":"U0"}],"name"`, "identifier[0].value", "pattern"},
		{"no profile", `"profile":["https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/tddui-encounter-sejour"]`, `"profile":[]`, "meta.profile", "profile"},
		{"no slot profile", `"profile":["https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/tddui-slot-presence-absence"]`, `"profile":[]`, "meta.profile", "profile"},
		{"request to another type", `"url":"Patient"`, `"url":"Organization"`, ".request", "value"},
		{"no version", `"versionId":"1"`, `"versionId":""`, "Bundle.meta.versionId", "required"},
		{"event status", `"status":"finished"`, `"status":"done"`, ".status", "value"},
		{"another FINESS", `"value":"1750000010"}]},"request"`, `"value":"1750000028"}]},"request"`, "identifier[0].value", "finess"},
		{"no schedule", `"schedule":`, `"schedule_":`, ".schedule", "required"},
		{"bad subject", `"subject":{"identifier":{"value":"3` + finess + `/U0"}}`, `"subject":{"identifier":{"value":"U0"}}`, ".subject", "pattern"},
		{"subject of another stay", `"subject":{"identifier":{"value":"3` + finess + `/U0"}}`, `"subject":{"identifier":{"value":"3` + finess + `/U9"}}`, ".subject", "reference"},
		{"bad partOf", `"partOf":{"identifier":{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"3`, `"partOf":{"identifier":{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"X3`, ".partOf", "pattern"},
	}
	if v := tddui.Check([]byte(good)); len(v) > 0 {
		t.Fatalf("the good Bundle breaks %v", v)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the Bundle has no %s", tt.old)
			}
			bad := strings.Replace(good, tt.old, tt.new, 1)
			for _, v := range tddui.Check([]byte(bad)) {
				if v.Rule == tt.rule && strings.Contains(v.Path, tt.path) {
					return
				}
			}
			t.Errorf("no %s violation at ...%s: %v", tt.rule, tt.path, tddui.Check([]byte(bad)))
		})
	}
}

// BenchmarkMap maps one chunk of 1,000 rows.
func BenchmarkMap(b *testing.B) {
	p := plan(b)
	seg := segments(report(20, 2, 12), 1000)[0]
	opts := tddui.Options{ReportID: "rpt1", Version: 1, Chunk: 1, Chunks: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tddui.Map(p, seg, opts); err != nil {
			b.Fatal(err)
		}
	}
}
