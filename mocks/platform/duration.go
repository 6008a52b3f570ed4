package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "150ms" in JSON and YAML. It reads
// a Go duration string or a number of milliseconds.
type Duration time.Duration

// compile-time checks: Duration reads and writes itself in JSON and YAML.
var (
	_ json.Marshaler   = Duration(0)
	_ json.Unmarshaler = (*Duration)(nil)
	_ yaml.Marshaler   = Duration(0)
	_ yaml.Unmarshaler = (*Duration)(nil)
)

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d as a Go duration string ("150ms").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, d.String()), nil
}

// UnmarshalJSON reads a Go duration string or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding duration: %w", err)
		}
		return d.parse(s)
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return errors.New("decoding duration: want a duration string (\"150ms\") or a number of milliseconds")
	}
	return d.fromMillis(ms)
}

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a Go duration string or a number of milliseconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("decoding duration at line %d: want a duration string (\"150ms\") or a number of milliseconds", n.Line)
	}
	switch n.Tag {
	case "!!int", "!!float":
		ms, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return fmt.Errorf("decoding duration at line %d: %w", n.Line, err)
		}
		return d.fromMillis(ms)
	case "!!null":
		*d = 0
		return nil
	}
	return d.parse(n.Value)
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("decoding duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

func (d *Duration) fromMillis(ms float64) error {
	ns := ms * float64(time.Millisecond)
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return errors.New("decoding duration: out of range")
	}
	*d = Duration(ns)
	return nil
}
