package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldError is a fault configuration error: Field names the faulty field
// the way the JSON and YAML forms spell it ("rules[1].drift[0].to").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks f against the operations of a contract: rates within
// [0, 1], error statuses, Retry-After values, coherent latency
// distributions, drift kinds, paths and types, known operationIds (when
// operations is not nil) and outage windows. The error is a *FieldError
// naming the first faulty field.
func (f Faults) Validate(operations []string) error {
	for i, r := range f.Rules {
		if err := r.validate(fmt.Sprintf("rules[%d]", i), operations); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) validate(at string, operations []string) error {
	for i, id := range r.Operations {
		if operations != nil && !slices.Contains(operations, id) {
			return fieldErr(fmt.Sprintf("%s.operations[%d]", at, i), "unknown operationId %q (known: %s)", id, strings.Join(operations, ", "))
		}
	}
	rates := []struct {
		name string
		v    float64
	}{{"error_rate", r.ErrorRate}, {"hang_rate", r.HangRate}, {"truncate_rate", r.TruncateRate}, {"malformed_rate", r.MalformedRate}}
	for _, rt := range rates {
		if math.IsNaN(rt.v) || rt.v < 0 || rt.v > 1 {
			return fieldErr(at+"."+rt.name, "%v is not within [0, 1]", rt.v)
		}
	}
	if r.Status != 0 && !errorStatus(r.Status) {
		return fieldErr(at+".status", "%d is not a 4xx or 5xx status", r.Status)
	}
	for i, st := range r.Statuses {
		if !errorStatus(st) {
			return fieldErr(fmt.Sprintf("%s.statuses[%d]", at, i), "%d is not a 4xx or 5xx status", st)
		}
	}
	if r.Status != 0 && len(r.Statuses) > 0 {
		return fieldErr(at+".statuses", "set either status or statuses, not both")
	}
	if r.RetryAfter != "" && !validRetryAfter(r.RetryAfter) {
		return fieldErr(at+".retry_after", "%q is neither delay-seconds nor an HTTP date", r.RetryAfter)
	}
	if r.Latency != nil {
		if err := r.Latency.validate(at + ".latency"); err != nil {
			return err
		}
	}
	for i, d := range r.Drift {
		if _, err := compileDrift(d, fmt.Sprintf("%s.drift[%d]", at, i)); err != nil {
			return err
		}
	}
	if w := r.Outage; w != nil && !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
		return fieldErr(at+".outage.end", "%s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}
	return nil
}

func (l Latency) validate(at string) error {
	neg := []struct {
		name string
		v    Duration
	}{{"median", l.Median}, {"p99", l.P99}, {"min", l.Min}, {"max", l.Max}}
	for _, n := range neg {
		if n.v < 0 {
			return fieldErr(at+"."+n.name, "%s is negative", n.v)
		}
	}
	unused := func(names ...string) error {
		for _, n := range neg {
			if n.v != 0 && slices.Contains(names, n.name) {
				return fieldErr(at+"."+n.name, "is not used by distribution %q", l.dist())
			}
		}
		return nil
	}
	switch l.dist() {
	case DistFixed:
		return unused("p99", "min", "max")
	case DistUniform:
		if l.Max < l.Min {
			return fieldErr(at+".max", "%s is below min %s", l.Max, l.Min)
		}
		if l.Max == 0 {
			return fieldErr(at+".max", "is required by distribution %q", DistUniform)
		}
		return unused("median", "p99")
	case DistLognormal:
		if l.Median <= 0 {
			return fieldErr(at+".median", "must be positive for distribution %q", DistLognormal)
		}
		if l.P99 < l.Median {
			return fieldErr(at+".p99", "%s is below median %s", l.P99, l.Median)
		}
		return unused("min", "max")
	default:
		return fieldErr(at+".distribution", "%q is not one of %q, %q, %q", l.Distribution, DistFixed, DistUniform, DistLognormal)
	}
}

func (l Latency) dist() string {
	if l.Distribution == "" {
		return DistFixed
	}
	return l.Distribution
}

func errorStatus(s int) bool { return s >= 400 && s <= 599 }

func validRetryAfter(v string) bool {
	if _, err := strconv.ParseUint(v, 10, 32); err == nil {
		return true
	}
	_, err := http.ParseTime(v)
	return err == nil
}

// DecodeFaults reads the JSON form of Faults strictly: unknown fields and
// trailing data are errors. It does not Validate.
func DecodeFaults(b []byte) (Faults, error) {
	var f Faults
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Faults{}, fmt.Errorf("decoding faults: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Faults{}, errors.New("decoding faults: trailing data after the JSON object")
	}
	return f, nil
}

// LoadFaults reads a --faults file: YAML or JSON whose top-level keys are
// platform names, each with its Faults. Unknown keys are errors, and every
// Faults is validated except its operationIds, which only the platform's
// Server knows (SetFaults checks them).
func LoadFaults(b []byte) (map[string]Faults, error) {
	out := map[string]Faults{}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("decoding faults file (JSON): %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("decoding faults file (JSON): trailing data after the JSON object")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&out); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("decoding faults file (YAML): %w", err)
		}
		var extra any
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, errors.New("decoding faults file (YAML): want one document")
		}
	}
	for name, f := range out {
		if err := f.Validate(nil); err != nil {
			return nil, fmt.Errorf("validating faults of %s: %w", name, err)
		}
	}
	return out, nil
}
