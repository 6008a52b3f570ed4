package api_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/gateway/api"
)

func TestScratch(t *testing.T) {
	for _, mut := range [][2]string{
		{"                status: ok\n", "                status: nope\n"},
		{"                    offset: 51\n", "                    offset: 0\n"},
		{"                    status: retrying\n", "                    status: waiting\n"},
		{"      birth_date: '1948-03-14'\n", "      birth_date: 14\n"},
		{"                code: invalid_api_key\n", "                code: not_found\n"},
	} {
		y := bytes.Replace(api.OpenAPIYAML, []byte(mut[0]), []byte(mut[1]), 1)
		if bytes.Equal(y, api.OpenAPIYAML) {
			t.Errorf("no change for %q", mut[0])
			continue
		}
		doc, err := openapi3.NewLoader().LoadFromData(y)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q: %v", mut[1], doc.Validate(context.Background()))
	}
}
