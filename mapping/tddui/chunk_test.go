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

type parsed struct {
	Identifier struct{ System, Value string }
	Meta       struct{ VersionID string }
	Entry      []struct {
		Resource struct {
			ResourceType string
			Identifier   []struct{ Value string }
			PartOf       *struct{}
		}
	}
}

// TestChunkConstraints chunks reports at several sizes and checks every
// Bundle produced: the guide's constraints (Check), the size, the
// identifier, and that every event and slot is sent exactly once.
func TestChunkConstraints(t *testing.T) {
	t.Parallel()
	p := plan(t)
	tests := []struct {
		name                  string
		persons, stays, items int
		max, wantChunks       int
	}{
		{"one chunk", 3, 2, 3, 1000, 1},
		{"smallest chunks", 2, 2, 2, 4, 0},
		{"odd size", 4, 3, 5, 7, 0},
		{"a stay spans chunks", 1, 1, 40, 25, 0},
		{"empty report", 0, 0, 0, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := report(tt.persons, tt.stays, tt.items)
			if errs := r.Validate(); len(errs) > 0 {
				t.Fatalf("the test report is invalid: %v", errs[0])
			}
			bundles, err := tddui.Chunk(p, r, tddui.Options{ReportID: "rpt1", Version: 2, MaxEntries: tt.max, EstablishmentName: "EHPAD"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantChunks > 0 && len(bundles) != tt.wantChunks {
				t.Errorf("%d chunks, want %d", len(bundles), tt.wantChunks)
			}
			sent := map[string]int{}
			for i, b := range bundles {
				if v := tddui.Check(b.Body); len(v) > 0 {
					t.Errorf("chunk %d breaks %d constraints, first: %s", b.Chunk, len(v), v[0])
				}
				var pb parsed
				if err := json.Unmarshal(b.Body, &pb); err != nil {
					t.Fatal(err)
				}
				if b.Chunk != i+1 || b.Chunks != len(bundles) || b.Identifier != fmt.Sprintf("rpt1-%d", i+1) ||
					pb.Identifier.Value != b.Identifier || pb.Identifier.System != tddui.BundleIdentifierSystem || pb.Meta.VersionID != "2" {
					t.Errorf("chunk %d: numbered %d/%d, identifier %q (%q in %s), version %q", i+1, b.Chunk, b.Chunks, b.Identifier, pb.Identifier.Value, pb.Identifier.System, pb.Meta.VersionID)
				}
				if len(pb.Entry) != b.Entries || len(pb.Entry) > tt.max {
					t.Errorf("chunk %d has %d entries (counted %d), max %d", b.Chunk, len(pb.Entry), b.Entries, tt.max)
				}
				for _, e := range pb.Entry {
					res := e.Resource
					if (res.ResourceType == "Encounter" && res.PartOf != nil) || res.ResourceType == "Slot" {
						sent[res.ResourceType+"|"+res.Identifier[0].Value]++
					}
				}
			}
			if want := len(r.Events) + len(r.PresenceAbsences); len(sent) != want {
				t.Errorf("%d events and slots sent, want %d", len(sent), want)
			}
			for k, n := range sent {
				if n != 1 {
					t.Errorf("%s sent %d times", k, n)
				}
			}
		})
	}
}

// TestChunkStable: the same report and options give the same Bundles.
func TestChunkStable(t *testing.T) {
	t.Parallel()
	p := plan(t)
	r := report(3, 2, 4)
	opts := tddui.Options{ReportID: "rpt1", Version: 1, MaxEntries: 10}
	a, err := tddui.Chunk(p, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tddui.Chunk(p, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if string(a[i].Body) != string(b[i].Body) {
			t.Fatalf("chunk %d differs between two runs", i+1)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	p := plan(t)
	r := report(1, 1, 1)
	for field, o := range map[string]tddui.Options{
		"ReportID":   {ReportID: "a/b", Version: 1},
		"Version":    {ReportID: "a", Version: 0},
		"MaxEntries": {ReportID: "a", Version: 1, MaxEntries: 3},
	} {
		if _, err := tddui.Chunk(p, r, o); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
}

// TestCheckFinds breaks a good Bundle in each way Check knows.
func TestCheckFinds(t *testing.T) {
	t.Parallel()
	bundles, err := tddui.Chunk(plan(t), report(1, 1, 3), tddui.Options{ReportID: "r", Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	good := string(bundles[0].Body)
	pa := "3" + finess + "/U0-PA-3"
	tests := []struct {
		name, old, new, path, rule string
	}{
		{"absence without reason", `"appointmentType":{"text":"Maladie"},`, ``, "appointmentType", "absence_reason"},
		{"bad presence id", pa, "3" + finess + "/U0-XX-3", "identifier[0]", "pattern"},
		{"bad local id", `"value":"3` + finess + `/U0"}],"name"`, `"value":"U0"}],"name"`, "identifier[0].value", "pattern"},
		{"no profile", `"profile":["https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/tddui-encounter-sejour"]`, `"profile":[]`, "meta.profile", "profile"},
		{"no version", `"versionId":"1"`, `"versionId":""`, "Bundle.meta.versionId", "required"},
		{"event status", `"status":"finished"`, `"status":"done"`, ".status", "value"},
		{"another FINESS", `"value":"1750000010"}]},"request"`, `"value":"1750000028"}]},"request"`, "identifier[0].value", "finess"},
		{"no schedule", `"schedule":`, `"schedule_":`, ".schedule", "required"},
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
