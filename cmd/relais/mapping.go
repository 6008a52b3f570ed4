package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
)

const mappingUsage = "usage: relais mapping lint [SPEC|DIR...] | relais mapping run [--at TIME] [--cached] [--no-validate] SPEC INPUT.json"

// runMapping checks and tries mapping specs, for integrators:
// `relais mapping lint` and `relais mapping run`.
func runMapping(_ context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(mappingUsage)
	}
	switch args[0] {
	case "lint":
		return mappingLint(args[1:], e)
	case "run":
		return mappingRun(args[1:], e)
	}
	return fmt.Errorf("unknown mapping command %q; %s", args[0], mappingUsage)
}

// mappingOptions wires the canonical schemas into the engine.
func mappingOptions() (engine.Options, error) {
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		return engine.Options{}, fmt.Errorf("compiling the canonical schemas: %w", err)
	}
	return engine.Options{Schemas: schemas.Get}, nil
}

// mappingLint loads every spec named (files, or folders searched for
// specs), or Relais's own specs when none is, and prints every problem as
// file:line:column: code: message.
func mappingLint(args []string, e env) error {
	fset := newFlagSet("mapping lint", e)
	names, err := parseInterspersed(fset, args)
	if err != nil {
		return err
	}
	opts, err := mappingOptions()
	if err != nil {
		return err
	}
	type target struct {
		name string
		load func() (*engine.Plan, error)
	}
	var targets []target
	if len(names) == 0 {
		files, err := engine.SpecFiles(specs.FS)
		if err != nil {
			return fmt.Errorf("listing the built-in specs: %w", err)
		}
		for _, f := range files {
			targets = append(targets, target{"mapping/specs/" + f, func() (*engine.Plan, error) { return engine.LoadFS(specs.FS, f, opts) }})
		}
	}
	for _, arg := range names {
		st, err := os.Stat(arg) //nolint:gosec // the integrator names the specs to check
		if err != nil {
			return fmt.Errorf("reading %s: %w", arg, err)
		}
		if !st.IsDir() {
			targets = append(targets, target{arg, func() (*engine.Plan, error) { return engine.LoadFile(arg, opts) }})
			continue
		}
		files, err := engine.SpecFiles(os.DirFS(arg))
		if err != nil {
			return fmt.Errorf("listing specs in %s: %w", arg, err)
		}
		for _, f := range files {
			p := strings.TrimSuffix(arg, "/") + "/" + f
			targets = append(targets, target{p, func() (*engine.Plan, error) { return engine.LoadFile(p, opts) }})
		}
	}
	bad, problems := 0, 0
	var report strings.Builder
	for _, t := range targets {
		_, err := t.load()
		var le *engine.LoadError
		switch {
		case err == nil:
			continue
		case errors.As(err, &le):
			bad++
			problems += len(le.Problems)
			for _, p := range le.Problems {
				p.File = t.name
				report.WriteString(p.String() + "\n")
			}
		default:
			return err
		}
	}
	if bad == 0 {
		fmt.Fprintf(&report, "%d spec(s) checked, no problem\n", len(targets))
	}
	if _, err := io.WriteString(e.stdout, report.String()); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("%d problem(s) in %d of %d spec(s)", problems, bad, len(targets))
	}
	return nil
}

// mappingRun maps one input with one spec and prints the output on stdout,
// the dropped fields and the provenance on stderr.
func mappingRun(args []string, e env) error {
	fset := newFlagSet("mapping run", e)
	at := fset.String("at", "", "when the input was fetched, RFC 3339 (default: now)")
	cached := fset.Bool("cached", false, "the platform answered from its cache")
	noValidate := fset.Bool("no-validate", false, "skip the input and output schemas")
	pos, err := parseInterspersed(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New(mappingUsage)
	}
	specPath, inputPath := pos[0], pos[1]
	src := engine.Source{At: time.Now().UTC(), Cached: *cached}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		src.At = t
	}
	opts, err := mappingOptions()
	if err != nil {
		return err
	}
	plan, err := loadSpec(specPath, opts)
	if err != nil {
		return err
	}
	input, err := os.ReadFile(inputPath) //nolint:gosec // the integrator names the input to map
	if err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	res, runErr := plan.Run(input, engine.RunOptions{Source: src, SkipValidation: *noValidate})
	var notes strings.Builder // for stderr: what the integrator should know
	if res != nil && len(res.Dropped) > 0 {
		notes.WriteString("dropped (not declared in reads):\n")
		for _, d := range res.Dropped {
			notes.WriteString("  " + d + "\n")
		}
	}
	if runErr != nil {
		var errs engine.Errors
		if !errors.As(runErr, &errs) {
			return runErr
		}
		notes.WriteString("errors:\n")
		for _, me := range errs {
			notes.WriteString("  " + me.Error())
			if me.Line > 0 {
				fmt.Fprintf(&notes, " [%s:%d]", plan.File, me.Line)
			}
			notes.WriteByte('\n')
		}
		if _, err := io.WriteString(e.stderr, notes.String()); err != nil {
			return fmt.Errorf("writing the errors: %w", err)
		}
		return fmt.Errorf("mapping failed: %d error(s)", len(errs))
	}
	if pv := res.Provenance; pv != nil {
		fmt.Fprintf(&notes, "provenance: %s %s at %s (cached: %t), %d output path(s)\n",
			pv.Platform, pv.Operation, pv.At.Format(time.RFC3339), pv.Cached, len(pv.Paths))
	}
	if _, err := io.WriteString(e.stderr, notes.String()); err != nil {
		return fmt.Errorf("writing the notes: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, res.Output, "", "  "); err != nil {
		return fmt.Errorf("formatting the output: %w", err)
	}
	out.WriteByte('\n')
	if _, err := e.stdout.Write(out.Bytes()); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}

// loadSpec loads a spec file, or one of Relais's own specs by its name
// under mapping/specs ("apiparticulier/quotient_familial.inbound.yaml").
func loadSpec(name string, opts engine.Options) (*engine.Plan, error) {
	if _, err := os.Stat(name); err == nil { //nolint:gosec // the integrator names the spec
		return engine.LoadFile(name, opts)
	}
	builtin := strings.TrimPrefix(name, "mapping/specs/")
	if _, err := fs.Stat(specs.FS, builtin); err == nil {
		return engine.LoadFS(specs.FS, builtin, opts)
	}
	return nil, fmt.Errorf("no spec file %s, and no built-in spec of that name", name)
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments, which it returns.
func parseInterspersed(fset *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil
			}
			return nil, err
		}
		if fset.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fset.Arg(0))
		args = fset.Args()[1:]
	}
}
