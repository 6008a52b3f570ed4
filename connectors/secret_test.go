package connectors_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/relais-dev/relais/connectors"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const value = "hunter2-very-secret"
	s := connectors.Secret(value)
	if s.Reveal() != value {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	type cfg struct {
		ID     string
		Secret connectors.Secret
	}
	var out []string
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, cfg{"id", s}), fmt.Sprintf(verb, &cfg{"id", s}))
	}
	out = append(out, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s))

	b, err := json.Marshal(cfg{"id", s})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	out = append(out, string(b))
	if !strings.Contains(string(b), `"Secret":"***"`) {
		t.Errorf("JSON = %s, want the masked form", b)
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("config", "secret", s, slog.Any("cfg", cfg{"id", s}))
	}
	out = append(out, buf.String())

	for _, o := range out {
		if strings.Contains(o, value) || strings.Contains(o, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked in %q", o)
		}
	}
	if got := fmt.Sprintf("%v|%q", s, s); got != `***|"***"` {
		t.Errorf("masked form = %s", got)
	}
}

func TestEmptySecretPrintsEmpty(t *testing.T) {
	t.Parallel()
	var s connectors.Secret
	if got := fmt.Sprintf("[%v][%s][%#v]", s, s, s); got != "[][][]" {
		t.Errorf("empty secret printed %s", got)
	}
	b, _ := json.Marshal(s)
	if string(b) != `""` {
		t.Errorf("empty secret JSON = %s", b)
	}
}
