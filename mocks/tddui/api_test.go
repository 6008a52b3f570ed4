package tddui_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
	"github.com/relais-dev/relais/mocks/tddui"
)

// TestMapperOutputIsAccepted feeds the receiver every Bundle the TDDUI
// mapping spec produces in its golden files: each is stored, and accepted
// without warning (the spec now sends meta.profile, the Organization and
// the Slot's status and schedule).
func TestMapperOutputIsAccepted(t *testing.T) {
	t.Parallel()
	goldens, err := filepath.Glob("../../mapping/specs/tddui/testdata/activity.outbound/*.golden.json")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden output found: %v", err)
	}
	fed := 0
	for _, g := range goldens {
		raw, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		var golden struct {
			Output json.RawMessage `json:"output"`
		}
		if err := json.Unmarshal(raw, &golden); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if golden.Output == nil {
			continue // a case the mapper refuses
		}
		f := setup(t)
		task := f.processed(f.accepted(string(golden.Output)))
		found := issues(task)
		if task["status"] != "completed" {
			t.Errorf("%s: task %v, issues %v", filepath.Base(g), task["status"], found)
		}
		for _, l := range found {
			if strings.HasPrefix(l, "error") || strings.HasPrefix(l, "warning") {
				t.Errorf("%s: %s", filepath.Base(g), l)
			}
		}
		noContractBreach(t, f.mock)
		fed++
	}
	if fed < 2 {
		t.Fatalf("only %d golden outputs fed", fed)
	}
}

func TestTaskFollowsTheClock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	loc := f.accepted(bundleOf(org, patient, sejour, event, absence))
	read := func() map[string]any {
		a := f.do(http.MethodGet, loc, "", "", nil)
		if a.status != http.StatusOK {
			t.Fatalf("task: %d %s", a.status, a.body)
		}
		return a.json(t)
	}
	for _, step := range []struct {
		advance        time.Duration
		status, text   string
		version        string
		lastModified   string
		firstIssueCode string
	}{
		{0, "received", "reçue", "1", "2025-06-02T09:00:00Z", "informational"},
		{tddui.DefaultProcessingDelay/2 - time.Second, "received", "reçue", "1", "2025-06-02T09:00:00Z", "informational"},
		{time.Second, "in-progress", "en cours de traitement", "2", "2025-06-02T09:00:05Z", "informational"},
		{tddui.DefaultProcessingDelay / 2, "completed", "acceptée", "3", "2025-06-02T09:00:10Z", "incomplete"},
	} {
		f.clock.Advance(step.advance)
		task := read()
		meta := task["meta"].(map[string]any)
		if task["status"] != step.status || task["businessStatus"].(map[string]any)["text"] != step.text ||
			meta["versionId"] != step.version || task["lastModified"] != step.lastModified || task["authoredOn"] != "2025-06-02T09:00:00Z" {
			t.Fatalf("after %s: %v", step.advance, task)
		}
		first := task["contained"].([]any)[0].(map[string]any)["issue"].([]any)[0].(map[string]any)
		if first["code"] != step.firstIssueCode {
			t.Fatalf("after %s: first issue %v", step.advance, first)
		}
	}
	input := read()["input"].([]any)
	if len(input) != 4 || input[2].(map[string]any)["valueInteger"] != float64(2) {
		t.Fatalf("input %v", input)
	}
	noContractBreach(t, f.mock)
}

func TestBusinessRulesReject(t *testing.T) {
	t.Parallel()
	noReason := strings.Replace(absence, `"appointmentType":{"text":"Hospitalisation"},`, "", 1)
	otherFINESS := strings.ReplaceAll(patient, "3750000010/DUI500", "3690000020/DUI500")
	for _, tc := range []struct {
		name   string
		bundle string
		want   string
	}{
		{"absence without reason", bundleOf(org, patient, noReason), "error business-rule Bundle.entry[2].resource.appointmentType"},
		{"stay of an unknown person", bundleOf(org, sejour), "error business-rule Bundle.entry[1].resource.subject"},
		{"event of an unknown stay", bundleOf(org, patient, event), "error business-rule Bundle.entry[2].resource.partOf"},
		{"absence of an unknown person", bundleOf(org, absence), "error business-rule Bundle.entry[1].resource.identifier"},
		{"another FINESS", bundleOf(org, otherFINESS), "error business-rule Bundle.entry[1].resource.identifier[0].value"},
	} {
		f := setup(t)
		task := f.processed(f.accepted(tc.bundle))
		if task["status"] != "rejected" || task["businessStatus"].(map[string]any)["text"] != "rejetée" || !has(issues(task), tc.want) {
			t.Errorf("%s: %v %v", tc.name, task["status"], issues(task))
		}
		noContractBreach(t, f.mock)
	}
}

func TestReferencesAcrossSubmissions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := f.processed(f.accepted(bundleOf(org, patient, sejour)))
	if first["status"] != "completed" {
		t.Fatalf("first: %v", issues(first))
	}
	// The event and the absence refer to what the first Bundle sent.
	second := f.processed(f.accepted(bundleOf(org, event, absence)))
	if second["status"] != "completed" {
		t.Fatalf("second: %v", issues(second))
	}
	// Sending the person again updates them.
	a := f.submit(bundleOf(org, patient))
	entries := a.json(t)["entry"].([]any)
	rsp := entries[1].(map[string]any)["response"].(map[string]any)
	if rsp["status"] != "200 OK" || rsp["location"] != "Patient/4/_history/2" /* 3 sandbox persons before */ || rsp["etag"] != `W/"2"` {
		t.Fatalf("update: %s", a.body)
	}
	if c := f.mock.Counts(); c.Submissions != 3 || c.Resources != 5+6 { // 5 sent here, 6 by the sandbox submissions
		t.Fatalf("counts %+v", c)
	}
	noContractBreach(t, f.mock)
}

func TestUnprocessable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	profiled := func(entry, profile string) string {
		return strings.Replace(entry, `"resource":{`, `"resource":{"meta":{"profile":["`+profile+`"]},`, 1)
	}
	for _, tc := range []struct {
		name, bundle, code, expression string
	}{
		{"patient id", bundleOf(strings.Replace(patient, "3750000010/DUI500", "DUI500", 1)), "value", "Bundle.entry[0].resource.identifier"},
		{"stay system", bundleOf(patient, strings.Replace(sejour, "medicosocial-sejour", "medicosocial-sejours", 1)), "value", "Bundle.entry[1].resource.identifier[0]"},
		{"event status", bundleOf(patient, sejour, strings.Replace(event, `"finished"`, `"in-progress"`, 1)), "value", "Bundle.entry[2].resource.status"},
		{"event end", bundleOf(patient, sejour, strings.Replace(event, `,"end":"2024-03-04T10:00:00+01:00"`, "", 1)), "required", "Bundle.entry[2].resource.period"},
		{"period reversed", bundleOf(patient, sejour, strings.Replace(event, "10:00:00+01:00", "08:00:00+01:00", 1)), "invariant", "Bundle.entry[2].resource.period"},
		{"twice the same", bundleOf(patient, patient), "duplicate", "Bundle.entry[1].resource.identifier"},
		{"foreign profile", bundleOf(profiled(patient, "http://hl7.org/fhir/StructureDefinition/Patient")), "value", "Bundle.entry[0].resource.meta.profile"},
		{"slot profile on a patient", bundleOf(profiled(patient, tddui.ProfileBase+"tddui-slot-presence-absence")), "value", "Bundle.entry[0].resource.meta.profile"},
		{"organization id", bundleOf(strings.Replace(org, "1750000010", "750000010", 1)), "value", "Bundle.entry[0].resource.identifier"},
		{"url and type", bundleOf(strings.Replace(patient, `"url":"Patient"`, `"url":"Slot"`, 1)), "invalid", "Bundle.entry[0].request.url"},
		{"service type", bundleOf(patient, strings.Replace(absence, `"text":"absence"`, `"text":"sortie"`, 1)), "value", "Bundle.entry[1].resource.serviceType[0]"},
	} {
		a := f.submit(tc.bundle)
		if a.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
			continue
		}
		iss := a.json(t)["issue"].([]any)[0].(map[string]any)
		if iss["code"] != tc.code || iss["expression"].([]any)[0] != tc.expression {
			t.Errorf("%s: %s", tc.name, a.body)
		}
	}
	if c := f.mock.Counts(); c.Submissions != 0 {
		t.Fatalf("refused Bundles were stored: %+v", c)
	}
	// A profiled Bundle (the contract's example shape) has no warning.
	task := f.processed(f.accepted(bundleOf(
		profiled(org, tddui.ProfileBase+"tddui-organization"),
		profiled(patient, tddui.ProfileBase+"tddui-patient-ins"),
		profiled(sejour, tddui.ProfileBase+"tddui-encounter-sejour"),
		profiled(event, tddui.ProfileBase+"tddui-encounter-evenement"),
		profiled(absence, tddui.ProfileBase+"tddui-slot-presence-absence"))))
	if got := issues(task); len(got) != 1 || got[0] != "information informational" {
		t.Fatalf("profiled Bundle: %v", got)
	}
	noContractBreach(t, f.mock)
}

func TestDeduplication(t *testing.T) {
	t.Parallel()
	f := setup(t)
	withID := func(value, entries string) string {
		return `{"resourceType":"Bundle","type":"transaction","identifier":{"system":"urn:ietf:rfc:3986","value":"` + value + `"},"entry":[` + entries + `]}`
	}
	first := f.submit(withID("urn:uuid:1", org+","+patient))
	again := f.submit(withID("urn:uuid:1", org+","+patient))
	if again.status != http.StatusOK || string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay: %d %s", again.status, again.body)
	}
	conflict := f.submit(withID("urn:uuid:1", org))
	if conflict.status != http.StatusConflict || conflict.json(t)["issue"].([]any)[0].(map[string]any)["code"] != "duplicate" {
		t.Fatalf("conflict: %d %s", conflict.status, conflict.body)
	}
	if c := f.mock.Counts(); c.Submissions != 1 || c.Duplicates != 1 {
		t.Fatalf("counts %+v", c)
	}
	task := f.processed(first.header.Get("Location"))
	if task["identifier"].([]any)[0].(map[string]any)["value"] != "urn:uuid:1" {
		t.Fatalf("task identifier: %v", task["identifier"])
	}

	// The Idempotency-Key is the runtime's: a replay, then a conflict.
	key := map[string]string{"Idempotency-Key": "dlv-42"}
	one := f.do(http.MethodPost, "/fhir", "application/fhir+json", bundleOf(org, patient), key)
	two := f.do(http.MethodPost, "/fhir", "application/fhir+json", bundleOf(org, patient), key)
	if one.status != http.StatusOK || string(one.body) != string(two.body) {
		t.Fatalf("keyed replay: %s / %s", one.body, two.body)
	}
	other := f.do(http.MethodPost, "/fhir", "application/fhir+json", bundleOf(org), key)
	if other.status != http.StatusConflict || other.json(t)["resourceType"] != "OperationOutcome" {
		t.Fatalf("keyed conflict: %d %s", other.status, other.body)
	}
	if st := f.mock.Stats(); st.Duplicates != 1 {
		t.Fatalf("runtime duplicates %d", st.Duplicates)
	}
	if c := f.mock.Counts(); c.Submissions != 2 {
		t.Fatalf("counts %+v", c)
	}
	noContractBreach(t, f.mock)
}

func TestRefusalsAreOperationOutcomes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	outcome := func(a answer, status int, code string) {
		t.Helper()
		m := a.json(t)
		if a.status != status || m["resourceType"] != "OperationOutcome" || m["issue"].([]any)[0].(map[string]any)["code"] != code ||
			a.header.Get("Content-Type") != "application/fhir+json" {
			t.Fatalf("got %d %s, want %d %s", a.status, a.body, status, code)
		}
	}
	noToken := f.do(http.MethodPost, "/fhir", "application/fhir+json", bundleOf(patient), map[string]string{"Authorization": ""})
	outcome(noToken, http.StatusUnauthorized, "login")
	if noToken.header.Get("WWW-Authenticate") != "Bearer" {
		t.Error("401 without WWW-Authenticate")
	}
	outcome(f.do(http.MethodGet, "/fhir/Task/sandbox-accepted", "", "", map[string]string{"Authorization": "Bearer nope"}), http.StatusUnauthorized, "login")
	outcome(f.submit(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation"},"request":{"method":"POST","url":"Observation"}}]}`), http.StatusBadRequest, "structure")
	outcome(f.submit(`{"resourceType":"Bundle","type":"transaction"`), http.StatusBadRequest, "structure")
	outcome(f.do(http.MethodPost, "/fhir", "application/xml", "<Bundle/>", nil), http.StatusUnsupportedMediaType, "not-supported")
	outcome(f.do(http.MethodGet, "/fhir", "", "", nil), http.StatusMethodNotAllowed, "not-supported")
	outcome(f.do(http.MethodGet, "/fhir/Patient/1", "", "", nil), http.StatusNotFound, "not-found")
	outcome(f.do(http.MethodGet, "/fhir/Task/nope", "", "", nil), http.StatusNotFound, "not-found")
	// application/json is accepted as well as application/fhir+json.
	if a := f.do(http.MethodPost, "/fhir", "application/json", bundleOf(patient), nil); a.status != http.StatusOK {
		t.Fatalf("application/json: %d %s", a.status, a.body)
	}
	if st := f.mock.Stats(); st.Violations != 5 {
		t.Errorf("violations %d, want 5", st.Violations)
	}
	noContractBreach(t, f.mock)
}

func TestSandboxTasksAndReset(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for id, want := range map[string]string{tddui.SandboxAcceptedTask: "completed", tddui.SandboxRejectedTask: "rejected"} {
		a := f.do(http.MethodGet, "/fhir/Task/"+id, "", "", nil)
		if a.status != http.StatusOK || a.json(t)["status"] != want {
			t.Fatalf("%s: %d %s", id, a.status, a.body)
		}
	}
	loc := f.accepted(bundleOf(org, patient))
	if err := f.mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Status: http.StatusServiceUnavailable}}}); err != nil {
		t.Fatal(err)
	}
	a := f.submit(bundleOf(org, patient))
	if a.status != http.StatusServiceUnavailable || a.json(t)["issue"].([]any)[0].(map[string]any)["code"] != "transient" {
		t.Fatalf("injected: %d %s", a.status, a.body)
	}
	f.mock.Reset()
	if a := f.do(http.MethodGet, loc, "", "", nil); a.status != http.StatusNotFound {
		t.Fatalf("after reset: %d", a.status)
	}
	if a := f.do(http.MethodGet, "/fhir/Task/"+tddui.SandboxAcceptedTask, "", "", nil); a.status != http.StatusOK {
		t.Fatalf("sandbox after reset: %d", a.status)
	}
	if c := f.mock.Counts(); c.Submissions != 0 || c.Resources != 6 {
		t.Fatalf("counts after reset %+v", c)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	d := tddui.Options{}.WithDefaults()
	if d.Token != tddui.DefaultToken || d.ProcessingDelay != tddui.DefaultProcessingDelay || d.Now == nil || d.RateLimit.Limit != 0 {
		t.Fatalf("defaults %+v", d)
	}
	for name, o := range map[string]tddui.Options{
		"ProcessingDelay": {ProcessingDelay: -time.Second},
		"RateLimit":       {RateLimit: platform.RateLimit{Limit: -1}},
	} {
		if err := o.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestReplacement: a higher meta.versionId of a Bundle.identifier replaces
// the current version (its Task cancelled, its resources updated, those it
// no longer sends removed); the same content replays; a lower version or
// another content under the same version is refused.
func TestReplacement(t *testing.T) {
	t.Parallel()
	f := setup(t)
	version := func(v, entries string) string {
		meta := ""
		if v != "" {
			meta = `"meta":{"versionId":"` + v + `"},`
		}
		return `{"resourceType":"Bundle","type":"transaction",` + meta + `"identifier":{"system":"https://relais-dev.github.io/relais/fhir/sid/report-chunk","value":"rpt1-1"},"entry":[` + entries + `]}`
	}
	v1 := version("1", strings.Join([]string{org, patient, sejour, event, absence}, ","))
	v2 := version("2", strings.Join([]string{org, patient, strings.Replace(sejour, `"2024-01-02"`, `"2024-01-03"`, 1)}, ","))

	first := f.submit(v1)
	oldTask := first.header.Get("Location")
	replay := f.submit(v1)
	if first.status != http.StatusOK || replay.status != http.StatusOK || string(replay.body) != string(first.body) {
		t.Fatalf("v1 and its replay: %d %d %s", first.status, replay.status, replay.body)
	}
	before := f.mock.Counts()

	second := f.submit(v2)
	if second.status != http.StatusOK || second.header.Get("Location") == oldTask {
		t.Fatalf("v2: %d %s (Location %s)", second.status, second.body, second.header.Get("Location"))
	}
	for i, e := range second.json(t)["entry"].([]any) {
		if st := e.(map[string]any)["response"].(map[string]any)["status"]; st != "200 OK" {
			t.Errorf("v2 entry %d: %v, want 200 OK (updated, not duplicated)", i, st)
		}
	}
	c := f.mock.Counts()
	// The event and the absence only v1 sent are gone: 3 resources left
	// of the 5 (and the sandbox's 6).
	if c.Submissions != 2 || c.Duplicates != 1 || c.Replacements != 1 || before.Resources != 5+6 || c.Resources != 3+6 {
		t.Fatalf("counts before %+v, after %+v", before, c)
	}

	old := f.processed(oldTask)
	if old["status"] != "cancelled" || old["businessStatus"].(map[string]any)["text"] != "remplacée" ||
		!strings.Contains(old["statusReason"].(map[string]any)["text"].(string), second.header.Get("Location")[len("/fhir/"):]) {
		t.Fatalf("replaced Task: %v %v %v", old["status"], old["businessStatus"], old["statusReason"])
	}
	current := f.processed(second.header.Get("Location"))
	if current["status"] != "completed" {
		t.Fatalf("replacing Task: %v %v", current["status"], issues(current))
	}
	if raw, _ := json.Marshal(current); !strings.Contains(string(raw), "replaces "+oldTask[len("/fhir/"):]) {
		t.Errorf("the replacing Task does not name the Task it replaces (%s): %s", oldTask, raw)
	}

	for _, tc := range []struct {
		name, bundle string
		status       int
		code         string
	}{
		{"v1 replayed after v2", v1, http.StatusOK, ""},
		{"v2 replayed", v2, http.StatusOK, ""},
		{"v1 corrected", version("1", org+","+patient), http.StatusConflict, "conflict"},
		{"v2 with another content", version("2", org), http.StatusConflict, "duplicate"},
		{"no version", version("", org), http.StatusConflict, "conflict"},
		{"version zero", version("0", org), http.StatusBadRequest, "structure"},
		{"version not a number", version("v3", org), http.StatusBadRequest, "structure"},
	} {
		a := f.submit(tc.bundle)
		if a.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
			continue
		}
		if tc.code == "" {
			continue
		}
		if code := a.json(t)["issue"].([]any)[0].(map[string]any)["code"]; code != tc.code {
			t.Errorf("%s: code %v, want %s", tc.name, code, tc.code)
		}
	}
	if replayed := f.submit(v1); string(replayed.body) != string(first.body) {
		t.Errorf("v1 replayed after v2 is not v1's first answer: %s", replayed.body)
	}
	c = f.mock.Counts()
	if c.Submissions != 2 || c.Replacements != 1 || c.Duplicates != 4 {
		t.Errorf("counts at the end %+v: want 2 stored, 1 replacement, 4 replays", c)
	}
	if per := f.mock.StoredPerIdentifier(); len(per) != 1 || per["rpt1-1"] != 2 {
		t.Errorf("stored per identifier %v", per)
	}
	noContractBreach(t, f.mock)
}
