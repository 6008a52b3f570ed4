package dmp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/relais-dev/relais/mocks/dmp"
)

// A test starts the mock health record with httptest, finds the documents
// of a fixture patient (ITI-67) and retrieves the first one (ITI-68) from
// the URL the search gave.
func ExampleNew() {
	mock := dmp.New(dmp.Options{})
	ts := httptest.NewServer(mock)
	defer ts.Close()

	get := func(url, accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+dmp.DefaultToken)
		req.Header.Set("Accept", accept)
		rsp, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		return rsp
	}

	rsp := get(ts.URL+"/fhir/DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.10%7C148117511406227&status=current", "application/fhir+json")
	var set struct {
		Total int `json:"total"`
		Entry []struct {
			Resource struct {
				ID      string `json:"id"`
				Content []struct {
					Attachment struct {
						URL   string `json:"url"`
						Title string `json:"title"`
					} `json:"attachment"`
				} `json:"content"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(rsp.Body).Decode(&set); err != nil {
		panic(err)
	}
	rsp.Body.Close()
	doc := set.Entry[0].Resource
	fmt.Println(rsp.StatusCode, set.Total, doc.ID, doc.Content[0].Attachment.Title)

	rsp = get(doc.Content[0].Attachment.URL, "*/*")
	pdf, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	fmt.Println(rsp.StatusCode, rsp.Header.Get("Content-Type"), string(pdf[:8]))

	st := mock.Stats()
	fmt.Println(st.Requests, st.Documents, st.ResponseViolations)
	// Output:
	// 200 1 dr-000001 Synthèse médicale 2024-11-20
	// 200 application/pdf %PDF-1.4
	// 2 1 0
}
