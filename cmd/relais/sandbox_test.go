package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSandbox starts the sandbox as `relais sandbox` does, checks what it
// prints, and sends the curl example it prints: the document reaches the
// mock safe.
func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const key = "sandbox-test-key-0123456789"
	sb, err := startSandbox(ctx, sandboxOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), APIKey: key})
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			t.Errorf("stopping sandbox: %v", err)
		}
	})

	var out bytes.Buffer
	sb.printWelcome(&out)
	for _, want := range []string{sb.baseURL, "Clé d'API             " + key, "curl -sS -X POST " + sb.baseURL + "/v1/submissions", sandboxExample} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the welcome lacks %q:\n%s", want, out.String())
		}
	}
	// Every platform of the catalog runs, and its address is printed.
	if len(sb.mocks) != len(catalog()) {
		t.Fatalf("the sandbox runs %d mocks, the catalog has %d platforms", len(sb.mocks), len(catalog()))
	}
	for _, m := range sb.mocks {
		if !strings.Contains(out.String(), m.URL) {
			t.Fatalf("the welcome lacks the mock %s at %s:\n%s", m.Name, m.URL, out.String())
		}
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sb.baseURL+"/v1/submissions", strings.NewReader(sandboxExample))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Idempotency-Key", "sandbox-test-1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting the example: %v", err)
	}
	var accepted struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || accepted.ID == "" {
		t.Fatalf("the printed example was answered HTTP %d", resp.StatusCode)
	}

	// The sandbox's mandates API is on: a professional records an
	// in-person mandate and gets the person's opaque reference back.
	mandateBody := `{"professional":{"id":"pro-1","name":"Camille Martin"},"person":{"family_name":"Lefèvre","given_names":"Zoé","birth_date":"1948-03-14","sex":"female","birth_country":"99134"},"demarches":["social"],"duration_days":31,"consent_method":"in_person","attestation_sha256":"` + strings.Repeat("ab", 32) + `"}`
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, sb.baseURL+"/v1/mandates", strings.NewReader(mandateBody))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("creating a mandate: %v", err)
	}
	var created struct {
		Status    string `json:"status"`
		PersonRef string `json:"person_ref"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.Status != "active" || created.PersonRef == "" {
		t.Fatalf("creating a mandate in the sandbox: HTTP %d, %+v", resp.StatusCode, created)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sb.baseURL+"/v1/submissions/"+accepted.ID, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("reading the submission: %v", err)
		}
		var v struct {
			Deliveries []struct {
				Status string `json:"status"`
			} `json:"deliveries"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if len(v.Deliveries) == 1 && v.Deliveries[0].Status == "delivered" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example was not delivered to the mock safe: %+v", v)
		}
		time.Sleep(50 * time.Millisecond) // bounded poll
	}
}
