package gateway_test

import (
	"testing"

	"github.com/relais-dev/relais/gateway"
)

func TestMappingsCompileAtStart(t *testing.T) {
	t.Parallel()
	cat, err := gateway.LoadMappings()
	if err != nil {
		t.Fatalf("loading mappings: %v", err)
	}
	for _, want := range [][3]string{
		{"apiparticulier", "quotient_familial", "inbound"},
		{"coffrefort", "document_deposit", "outbound"},
		{"tddui", "bundle", "outbound"},
	} {
		if _, ok := cat.Plan(want[0], want[1], want[2]); !ok {
			t.Errorf("no plan for %v", want)
		}
	}
}

func BenchmarkLoadMappings(b *testing.B) {
	for b.Loop() {
		if _, err := gateway.LoadMappings(); err != nil {
			b.Fatal(err)
		}
	}
}
