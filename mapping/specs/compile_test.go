package specs_test

import (
	"testing"

	"github.com/relais-dev/relais/mapping/specs"
)

func TestCompile(t *testing.T) {
	t.Parallel()
	all, err := specs.Compile("")
	if err != nil {
		t.Fatalf("compiling every spec: %v", err)
	}
	for _, want := range [][3]string{
		{"apiparticulier", "quotient_familial", "inbound"},
		{"coffrefort", "document_deposit", "outbound"},
		{"francetravail", "france_travail_statut", "inbound"},
		{"tddui", "bundle", "outbound"},
	} {
		if _, ok := all.Plan(want[0], want[1], want[2]); !ok {
			t.Errorf("no plan for %v", want)
		}
	}
	one, err := specs.Compile("francetravail")
	if err != nil {
		t.Fatalf("compiling the France Travail specs: %v", err)
	}
	if len(one.Plans()) == 0 || len(one.Plans()) >= len(all.Plans()) {
		t.Errorf("francetravail alone: %d plans of %d", len(one.Plans()), len(all.Plans()))
	}
	if _, err := specs.Compile("nowhere"); err == nil {
		t.Error("Compile(nowhere) succeeded")
	}
}

func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := specs.Compile(""); err != nil {
			b.Fatal(err)
		}
	}
}
