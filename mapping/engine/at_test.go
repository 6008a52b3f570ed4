package engine_test

import (
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping/engine"
)

// atSpec reads the time the platform answered, the CEL variable at, at the
// top level and inside a block.
const atSpec = `spec: relais.mapping/v1
name: test.status.inbound
platform: test
operation: status
direction: inbound
purpose: Read a status as of the day the platform answered.
reads:
  - data.statut
  - data.droits[].code
rules:
  - target: status.code
    from: data.statut
  - target: status.year
    expr: at.getFullYear('Europe/Paris')
  - target: status.month
    expr: at.getMonth('Europe/Paris') + 1
  - target: status.as_of
    expr: string(at)
  - target: rights[]
    each: data.droits[]
    rules:
      - target: code
        from: code
      - target: month
        expr: at.getMonth('Europe/Paris') + 1
`

// TestRunAt checks that at is RunOptions.Source.At, read in the time zone
// the expression names: 23:30 UTC on 31 December is already January in
// Paris.
func TestRunAt(t *testing.T) {
	t.Parallel()
	p := mustParse(t, atSpec)
	in := []byte(`{"data":{"statut":"inscrit","droits":[{"code":"ARE"},{"code":"ASS"}]}}`)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2024, 12, 31, 23, 30, 0, 0, time.UTC),
			`{"status":{"code":"inscrit","year":2025,"month":1,"as_of":"2024-12-31T23:30:00Z"},"rights":[{"code":"ARE","month":1},{"code":"ASS","month":1}]}`},
		{time.Date(2024, 6, 15, 8, 0, 0, 0, time.UTC),
			`{"status":{"code":"inscrit","year":2024,"month":6,"as_of":"2024-06-15T08:00:00Z"},"rights":[{"code":"ARE","month":6},{"code":"ASS","month":6}]}`},
	} {
		res, err := p.Run(in, engine.RunOptions{Source: engine.Source{At: c.at}})
		if err != nil {
			t.Fatalf("at %s: %v", c.at, err)
		}
		if string(res.Output) != c.want {
			t.Errorf("at %s:\n got %s\nwant %s", c.at, res.Output, c.want)
		}
		if !res.Provenance.At.Equal(c.at) {
			t.Errorf("at %s: provenance at %s", c.at, res.Provenance.At)
		}
	}
}
