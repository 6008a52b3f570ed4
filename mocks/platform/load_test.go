package platform_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestLoadFaults(t *testing.T) {
	t.Parallel()
	want := map[string]platform.Faults{
		"apiparticulier": {Rules: []platform.Rule{{
			Operations: []string{"quotientFamilial"},
			Latency:    &platform.Latency{Distribution: "lognormal", Median: platform.Duration(120 * time.Millisecond), P99: platform.Duration(1500 * time.Millisecond)},
			ErrorRate:  0.05,
			Statuses:   []int{502, 503},
			RetryAfter: "2",
		}}},
		"dmp": {Rules: []platform.Rule{{
			Drift:  []platform.Drift{{Kind: "rename", Path: "/entry/*/resource/id", To: "identifier"}},
			Outage: &platform.Window{Start: time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)},
		}}},
	}
	yamlFile := `
apiparticulier:
  rules:
    - operations: [quotientFamilial]
      latency: {distribution: lognormal, median: 120ms, p99: 1500}
      error_rate: 0.05
      statuses: [502, 503]
      retry_after: "2"
dmp:
  rules:
    - drift:
        - {kind: rename, path: /entry/*/resource/id, to: identifier}
      outage: {start: 2026-03-02T22:00:00Z, end: 2026-03-03T06:00:00Z}
`
	jsonFile := `{
  "apiparticulier": {"rules": [{"operations": ["quotientFamilial"], "latency": {"distribution": "lognormal", "median": "120ms", "p99": 1500},
    "error_rate": 0.05, "statuses": [502, 503], "retry_after": "2"}]},
  "dmp": {"rules": [{"drift": [{"kind": "rename", "path": "/entry/*/resource/id", "to": "identifier"}],
    "outage": {"start": "2026-03-02T22:00:00Z", "end": "2026-03-03T06:00:00Z"}}]}
}`
	for name, file := range map[string]string{"yaml": yamlFile, "json": jsonFile} {
		got, err := platform.LoadFaults([]byte(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// The YAML written back loads again.
	out, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := platform.LoadFaults(out); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("YAML round trip: %v\n%s", err, out)
	}
}

func TestLoadFaultsIsStrict(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"dmp:\n  rules:\n    - error_rate: 0.5\n      eror: 1\n": "field eror not found",
		"dmp:\n  regles: []\n":                            "field regles not found",
		"dmp:\n  rules:\n    - error_rate: 2\n":           "rules[0].error_rate",
		"dmp:\n  rules:\n    - latency: {median: soon}\n": `invalid duration "soon"`,
		"dmp:\n  rules: []\n---\nfoo: {}\n":               "want one document",
		`{"dmp": {"rules": [{"eror": 1}]}}`:               `unknown field "eror"`,
		`{"dmp": {"rules": [{"hang_rate": 3}]}}`:          "validating faults of dmp: rules[0].hang_rate",
		`{"dmp": {}} {}`:                                  "trailing data",
	}
	for file, want := range cases {
		if _, err := platform.LoadFaults([]byte(file)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one with %q", file, err, want)
		}
	}
	if got, err := platform.LoadFaults(nil); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v %v", got, err)
	}
}

func TestDurationEncodings(t *testing.T) {
	t.Parallel()
	var d platform.Duration
	for in, want := range map[string]time.Duration{`"1.5s"`: 1500 * time.Millisecond, `250`: 250 * time.Millisecond, `0.5`: 500 * time.Microsecond, `null`: 0} {
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Std() != want {
			t.Errorf("JSON %s: %v %v, want %v", in, d, err, want)
		}
	}
	for _, bad := range []string{`"soon"`, `true`, `1e300`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("JSON %s decoded to %v", bad, d)
		}
	}
	b, _ := json.Marshal(platform.Duration(150 * time.Millisecond))
	if string(b) != `"150ms"` {
		t.Errorf("JSON %s", b)
	}
	y, _ := yaml.Marshal(map[string]platform.Duration{"d": platform.Duration(2 * time.Minute)})
	if string(y) != "d: 2m0s\n" {
		t.Errorf("YAML %q", y)
	}
	var m map[string]platform.Duration
	if err := yaml.Unmarshal([]byte("a: 150ms\nb: 20\nc: [1]\n"), &m); err == nil {
		t.Errorf("YAML sequence decoded as a duration: %v", m)
	}
}
