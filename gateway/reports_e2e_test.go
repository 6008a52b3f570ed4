package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/cafpsu"
	"github.com/relais-dev/relais/connectors/indicateurs"
	conntddui "github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
	mockcafpsu "github.com/relais-dev/relais/mocks/cafpsu"
	mockindicateurs "github.com/relais-dev/relais/mocks/indicateurs"
	mocktddui "github.com/relais-dev/relais/mocks/tddui"
)

// The reporting establishment of activitycsv's samples (their
// identifiers take the upload's FINESS), declared to the CAF as a sandbox
// structure (declarations taken at any date). It is not the indicator
// mock's sandbox establishment, which holds a 2024 report already.
const (
	reportFINESS  = "750000028"
	reportSIRET   = "21759901800017"
	reportPartner = "99000001"
	reportPeriod  = "2024"
	// reportChunk is small so that the samples make several TDDUI chunks,
	// later ones referring to persons and stays of earlier ones.
	reportChunk = 4
)

// reportBench is a gateway with activity reports on, its destinations the
// mocks over real HTTP, its API over real HTTP.
type reportBench struct {
	api    *httptest.Server
	key    string
	tddui  *mocktddui.Server
	tdduiS *httptest.Server
	caf    *mockcafpsu.Server
	ind    *mockindicateurs.Server
	// later moves the mocks' clock on, so that the TDDUI receiver's Tasks
	// end their processing.
	later atomic.Int64
}

func setupReports(t *testing.T, driver string) *reportBench {
	t.Helper()
	ctx := context.Background()
	b := &reportBench{}
	now := func() time.Time { return time.Now().Add(time.Duration(b.later.Load())) }
	b.tddui = mocktddui.New(mocktddui.Options{Now: now})
	b.tdduiS = httptest.NewServer(b.tddui)
	t.Cleanup(b.tdduiS.Close)
	b.caf = mockcafpsu.New(mockcafpsu.Options{Now: now, Structures: []mockcafpsu.Structure{{
		PartnerNumber: reportPartner, Name: "Établissement des échantillons", SIRET: reportSIRET, FINESS: reportFINESS,
		City: "Paris", Capacity: 40, Sandbox: true,
	}}})
	cafS := httptest.NewServer(b.caf)
	t.Cleanup(cafS.Close)
	b.ind = mockindicateurs.New(mockindicateurs.Options{Now: now})
	indS := httptest.NewServer(b.ind)
	t.Cleanup(indS.Close)

	fast := connectors.StackConfig{RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 10000, Burst: 1000}}
	cfg := gateway.Config{
		Store:      gateway.StoreConfig{Driver: driver, DSN: connectors.Secret(storetest.DSN(t, driver))},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(vault.GenerateKeySpec("e2e"))},
		Queue:      gateway.QueueConfig{Workers: 10, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond},
		Connectors: gateway.ConnectorsConfig{
			CAFPSU: &cafpsu.Config{
				BaseURL: cafS.URL, ClientID: mockcafpsu.DefaultClientID, ClientSecret: mockcafpsu.DefaultClientSecret,
				Structures: []cafpsu.Structure{{FINESS: reportFINESS, PartnerNumber: reportPartner}}, Stack: fast,
			},
			TDDUI:       &conntddui.Config{BaseURL: b.tdduiS.URL, Token: mocktddui.DefaultToken, Stack: fast},
			Indicateurs: &indicateurs.Config{BaseURL: indS.URL, Token: mockindicateurs.DefaultToken, Stack: fast},
		},
		Reports: &report.Config{
			ChunkEntries: reportChunk,
			Routes: []report.Route{
				{Output: connectors.ReportTDDUIBundle, Destination: "tddui"},
				{Output: connectors.ReportIndicators, Destination: "indicateurs"},
				{Output: connectors.ReportPSUDeclaration, Destination: "cafpsu"},
			},
			Establishments: []report.Establishment{{FINESS: reportFINESS, Creche: true, SIRET: reportSIRET, Name: "Crèche des échantillons", Capacity: 40}},
			SpoolDir:       t.TempDir(),
		},
	}
	cfg.Delivery.DependencyWait = 20 * time.Millisecond
	gw := startGateway(t, cfg, gateway.Deps{})
	b.api = httptest.NewServer(gw.Handler())
	t.Cleanup(b.api.Close)
	created, err := gw.Store().CreateTenant(ctx, store.NewTenant{Name: "echantillons", FINESS: reportFINESS}, store.ActorCLI)
	if err != nil {
		t.Fatalf("creating tenant: %v", err)
	}
	if _, b.key, err = gw.Store().CreateAPIKey(ctx, created.Tenant.ID, "e2e", ""); err != nil {
		t.Fatalf("creating key: %v", err)
	}
	return b
}

// samples reads activitycsv's valid UTF-8 samples, edit applied to each.
func samples(t *testing.T, edit func(name string, b []byte) []byte) map[string][]byte {
	t.Helper()
	dir := filepath.Join("..", "mapping", "activitycsv", "testdata", "samples", "valid", "utf8-bom")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading samples: %v", err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("reading sample: %v", err)
		}
		if edit != nil {
			raw = edit(e.Name(), raw)
		}
		out[e.Name()] = raw
	}
	return out
}

type outputJSON struct {
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	Chunk       int    `json:"chunk"`
	Chunks      int    `json:"chunks"`
	Status      string `json:"status"`
	Href        string `json:"href"`
	Receipt     *struct {
		RemoteID string `json:"remote_id"`
	} `json:"receipt"`
}

type versionJSON struct {
	ReportID string       `json:"report_id"`
	Version  int          `json:"version"`
	Href     string       `json:"href"`
	Outputs  []outputJSON `json:"outputs"`
}

// upload posts the files as multipart/form-data and returns the version.
func (b *reportBench) upload(t *testing.T, files map[string][]byte, idem string) versionJSON {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, raw := range files {
		part, err := mw.CreateFormFile("files", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(raw)
	}
	mw.Close()
	url := fmt.Sprintf("%s/v1/reports?establishment=%s&period=%s", b.api.URL, reportFINESS, reportPeriod)
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Idempotency-Key", idem)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting report: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/reports: HTTP %d: %s", resp.StatusCode, raw)
	}
	var v versionJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding the version: %v", err)
	}
	return v
}

// getJSON reads path of the gateway's API into out.
func (b *reportBench) getJSON(t *testing.T, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

// waitVersion polls the report's API (GET /v1/reports/{id}) until every output of the version has
// ended, within a bound, and returns it.
func (b *reportBench) waitVersion(t *testing.T, v versionJSON) versionJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		var rep struct {
			Versions []versionJSON `json:"versions"`
		}
		b.getJSON(t, v.Href, &rep)
		var got versionJSON
		for _, rv := range rep.Versions {
			if rv.Version == v.Version {
				got = rv
			}
		}
		done := len(got.Outputs) > 0
		for _, o := range got.Outputs {
			done = done && (o.Status == "delivered" || o.Status == "failed" || o.Status == "dead")
		}
		if done {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %d not delivered within 60s: %+v", v.Version, got.Outputs)
		}
		<-tick.C
	}
}

// taskStatus reads a Task of the TDDUI receiver.
func (b *reportBench) taskStatus(t *testing.T, id string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.tdduiS.URL+"/fhir/Task/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+mocktddui.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reading Task %s: %v", id, err)
	}
	defer resp.Body.Close()
	var task struct {
		Status       string `json:"status"`
		StatusReason *struct {
			Text string `json:"text"`
		} `json:"statusReason"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&task); err != nil {
		t.Fatalf("decoding Task %s: %v", id, err)
	}
	if task.StatusReason != nil {
		return task.Status + " (" + task.StatusReason.Text + ")"
	}
	return task.Status
}

// checkDelivered checks that every output of v is delivered with a
// receipt, and returns the TDDUI chunks' receipts and the count by kind.
func (b *reportBench) checkDelivered(t *testing.T, v versionJSON) (tasks []string, kinds map[string]int) {
	t.Helper()
	kinds = map[string]int{}
	for _, o := range v.Outputs {
		kinds[o.Kind]++
		if o.Status != "delivered" || o.Receipt == nil || o.Receipt.RemoteID == "" {
			var d json.RawMessage
			b.getJSON(t, o.Href, &d)
			t.Errorf("version %d: %s chunk %d/%d at %s: %s: %s", v.Version, o.Kind, o.Chunk, o.Chunks, o.Destination, o.Status, d)
			continue
		}
		if o.Kind == string(connectors.ReportTDDUIBundle) {
			tasks = append(tasks, o.Receipt.RemoteID)
		}
	}
	return tasks, kinds
}

// TestReportsEndToEnd uploads activitycsv's samples over HTTP: TDDUI
// chunks reach the TDDUI receiver's mock (each one processed without
// error, references to earlier chunks resolved), the indicator report the
// indicator endpoint's mock, the PSU declaration the CAF's mock, all with
// receipts, each destination configured as an operator would. A corrected upload of the same period
// replaces each of them: the mocks hold one of each, nothing duplicated.
func TestReportsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			b := setupReports(t, driver)

			// mapping/indicators counts a month's opening days from its
			// presences, and the CAF refuses billed hours in a month
			// without opening days: the samples' August leave, billed
			// while nobody is present, would be refused. It is not billed
			// here.
			notBilled := func(name string, raw []byte) []byte {
				if strings.HasPrefix(name, "presences") {
					return bytes.Replace(raw, []byte("Congés;01/08/2024;15/08/2024;;oui;oui"), []byte("Congés;01/08/2024;15/08/2024;;oui;non"), 1)
				}
				return raw
			}
			v1 := b.waitVersion(t, b.upload(t, samples(t, notBilled), "e2e-report-v1"))
			tasks1, kinds := b.checkDelivered(t, v1)
			chunks := kinds[string(connectors.ReportTDDUIBundle)]
			if chunks < 3 || kinds[string(connectors.ReportPSUDeclaration)] != 1 || kinds[string(connectors.ReportIndicators)] != 1 {
				t.Fatalf("version 1 outputs by kind: %v, want 3 TDDUI chunks or more, one indicator report and one PSU declaration", kinds)
			}
			b.later.Store(int64(time.Hour)) // the receiver processes the Tasks
			for i, id := range tasks1 {
				if st := b.taskStatus(t, id); st != "completed" {
					t.Errorf("chunk %d's Task %s is %s, want completed", i+1, id, st)
				}
			}
			counts1 := b.tddui.Counts()
			if counts1.Submissions != int64(chunks) || counts1.Replacements != 0 || b.caf.Declared() != 1 || b.ind.Counts().Stored != 1 {
				t.Fatalf("after version 1: receiver %+v, %d declarations, indicators %+v; want %d submissions, one declaration, one indicator report",
					counts1, b.caf.Declared(), b.ind.Counts(), chunks)
			}

			// The correction: one presence's hours change.
			fixed := samples(t, func(name string, raw []byte) []byte {
				return bytes.Replace(notBilled(name, raw), []byte(";7,5;"), []byte(";6,5;"), 1)
			})
			v2 := b.waitVersion(t, b.upload(t, fixed, "e2e-report-v2"))
			if v2.Version != 2 || v2.ReportID != v1.ReportID {
				t.Fatalf("the correction is version %d of %s, want version 2 of %s", v2.Version, v2.ReportID, v1.ReportID)
			}
			tasks2, _ := b.checkDelivered(t, v2)
			b.later.Store(int64(2 * time.Hour))
			for i, id := range tasks2 {
				if st := b.taskStatus(t, id); st != "completed" {
					t.Errorf("version 2 chunk %d's Task %s is %s, want completed", i+1, id, st)
				}
			}
			for i, id := range tasks1 {
				if st := b.taskStatus(t, id); !strings.HasPrefix(st, "cancelled") {
					t.Errorf("version 1 chunk %d's Task %s is %s, want cancelled (replaced)", i+1, id, st)
				}
			}
			counts2 := b.tddui.Counts()
			if counts2.Replacements != int64(chunks) || counts2.Resources != counts1.Resources || counts2.Duplicates != 0 {
				t.Errorf("after version 2: receiver %+v, want %d replacements and the %d resources of version 1", counts2, chunks, counts1.Resources)
			}
			perID := b.tddui.StoredPerIdentifier()
			for k := 1; k <= chunks; k++ {
				if n := perID[fmt.Sprintf("%s-%d", v1.ReportID, k)]; n != 2 {
					t.Errorf("chunk %d stored %d times, want twice (versions 1 and 2)", k, n)
				}
			}
			for key, n := range b.tddui.StoredPerKey() {
				if n != 1 {
					t.Errorf("TDDUI key %s stored %d times", key, n)
				}
			}
			if b.caf.Declared() != 2 {
				t.Errorf("%d declarations, want 2 (the correction supersedes the first)", b.caf.Declared())
			}
			if ic, versions := b.ind.Counts(), b.ind.Versions(reportFINESS, 2024); ic.Stored != 2 || ic.Replacements != 1 || len(versions) != 2 {
				t.Errorf("indicator endpoint: %+v, versions %v; want 2 stored, the second replacing the first", ic, versions)
			}
			for key, n := range b.ind.StoredPerKey() {
				if n != 1 {
					t.Errorf("indicator key %s stored %d times", key, n)
				}
			}
			for key, n := range b.caf.CreatedPerKey() {
				if n != 1 {
					t.Errorf("CAF key %s created %d declarations", key, n)
				}
			}
		})
	}
}
