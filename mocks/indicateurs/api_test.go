package indicateurs_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/indicateurs"
)

// TestVersionsAndReset: the sandbox history, a new report's versions, and
// a reset back to the sandbox.
func TestVersionsAndReset(t *testing.T) {
	t.Parallel()
	mock := indicateurs.New(indicateurs.Options{Now: func() time.Time { return time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) }})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	post := func(version, days string) int {
		t.Helper()
		body := `{"schema":"relais.indicators/v1","finess":"750000010","period":{"start":"2025-01-01","end":"2025-12-31"},"days_in_period":365,"capacity":null,"occupancy_rate":null,"days_of_presence":` + days + `,"stay_days":` + days + `,"absence_days":0,"persons":{"total":0,"by_sex":{"F":0,"M":0,"U":0},"by_age_band":[]},"stays":{"total":0,"entries":0,"exits":0,"average_length_days":null},"absences":{"total":0,"days":0,"by_reason":[]},"presences":{"total":0,"hours":0},"events":{},"psu":{"months":[],"totals":{"billed_hours":0,"attended_hours":0,"psu_hours":0,"opening_days":0,"billing_rate":null}}}`
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/establishments/750000010/indicator-reports/2025", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+indicateurs.DefaultToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Report-Version", version)
		rsp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		return rsp.StatusCode
	}
	if v := mock.Versions(indicateurs.SandboxFINESS, indicateurs.SandboxYear); len(v) != 2 {
		t.Fatalf("sandbox versions %v", v)
	}
	for _, tc := range []struct {
		version, days string
		want          int
	}{
		{"1", "10", http.StatusCreated},
		{"1", "10", http.StatusOK},
		{"2", "12", http.StatusCreated},
		{"1", "10", http.StatusOK}, // a replay of version 1, after version 2
		{"1", "11", http.StatusConflict},
		{"2", "13", http.StatusConflict},
		{"3", "12", http.StatusCreated}, // the same figures as version 2, a new version
	} {
		if got := post(tc.version, tc.days); got != tc.want {
			t.Errorf("version %s, days %s: %d, want %d", tc.version, tc.days, got, tc.want)
		}
	}
	if c := mock.Counts(); c.Stored != 3 || c.Replacements != 2 || c.Replays != 2 {
		t.Errorf("counts %+v", c)
	}
	if st := mock.Stats(); st.ResponseViolations != 0 || st.Violations != 0 {
		t.Errorf("contract: %d request and %d answer violations", st.Violations, st.ResponseViolations)
	}
	mock.Reset()
	if v := mock.Versions("750000010", 2025); len(v) != 0 || mock.Counts().Stored != 0 {
		t.Errorf("after reset: versions %v, counts %+v", v, mock.Counts())
	}
}
