package mandate_test

import (
	"context"
	"testing"

	"github.com/relais-dev/relais/gateway/mandate"
)

// BenchmarkAuthorize is the check made before every pull under a mandate:
// one read and one journal write.
func BenchmarkAuthorize(b *testing.B) {
	f := setup(b)
	m, err := f.svc.Create(context.Background(), f.a, inPerson(zoe(), 365, mandate.Social))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Authorize(context.Background(), m.ID, f.a, mandate.Social, f.clock.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPersonRef is computed for every creation and lookup.
func BenchmarkPersonRef(b *testing.B) {
	p := zoe()
	b.ReportAllocs()
	for b.Loop() {
		_ = mandate.PersonRef(personKey, p)
	}
}

// BenchmarkAuthorizeAll checks three démarches of one mandate at once, as
// a lookup of three sources does: one read and one journal write.
func BenchmarkAuthorizeAll(b *testing.B) {
	f := setup(b)
	ds := []mandate.Demarche{mandate.Famille, mandate.Social, mandate.Travail}
	m, err := f.svc.Create(context.Background(), f.a, inPerson(zoe(), 365, ds...))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.AuthorizeAll(context.Background(), m.ID, f.a, ds, f.clock.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
