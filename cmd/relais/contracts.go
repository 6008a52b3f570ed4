package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/relais-dev/relais/contracts"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/mocks"
)

func runContracts(ctx context.Context, args []string, e env) error {
	return runContractsWith(ctx, args, e, catalog())
}

// runContractsWith is `relais contracts verify|diff` over the platforms of
// cat.
func runContractsWith(ctx context.Context, args []string, e env, cat []entry) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, "Usage: relais contracts verify|diff [flags]   (relais contracts verify --help for the flags)")
		return nil
	}
	switch args[0] {
	case "verify":
		return runContractsVerify(ctx, args[1:], e, cat)
	case "diff":
		return runContractsDiff(ctx, args[1:], e, cat)
	}
	return fmt.Errorf("contracts: unknown sub-command %q (verify, diff)", args[0])
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// contractFlags are the flags verify and diff share.
type contractFlags struct {
	targets, platforms repeated
	timeout            time.Duration
}

func (f *contractFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.targets, "target", "NAME=URL: check platform NAME at URL instead of our mock (repeatable)")
	fs.Var(&f.platforms, "platform", "NAME: check only this platform (repeatable; default: the --target ones, else all)")
	fs.DurationVar(&f.timeout, "timeout", contracts.DefaultTimeout, "bound of each call")
}

// contractsUsage prints the usage of a sub-command, its flags and the
// credentials real targets need.
func contractsUsage(fs *flag.FlagSet, e env, synopsis, what string, cat []entry) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: relais contracts %s\n\n%s\n\nFlags:\n", synopsis, what)
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nCredentials of real targets, from the environment (unset: the value our mock accepts):\n")
		for _, en := range cat {
			for _, c := range en.contract().Credentials {
				secret := ""
				if c.Secret {
					secret = "  (secret)"
				}
				fmt.Fprintf(w, "  %-18s %s%s\n", en.name, c.Env, secret)
			}
		}
		fmt.Fprintf(w, "\nA target that answers GET /_mock/stats is one of our mocks (`relais mocks`): its mock-only cases run too.\nPlatforms: %s\n", names(cat))
	}
}

// planned is one platform to check, and where.
type planned struct {
	entry entry
	url   *url.URL // nil: our mock, started in-process
}

// plan resolves --platform and --target into the platforms to check, in
// catalog order.
func (f *contractFlags) plan(cat []entry) ([]planned, error) {
	urls := map[string]*url.URL{}
	for _, t := range f.targets {
		name, raw, ok := strings.Cut(t, "=")
		if !ok || name == "" || raw == "" {
			return nil, fmt.Errorf("--target %q: want NAME=URL", t)
		}
		if _, found := lookup(cat, name); !found {
			return nil, fmt.Errorf("--target %s: unknown platform (known: %s)", name, names(cat))
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--target %s: %q is not an http(s) URL", name, raw)
		}
		if _, dup := urls[name]; dup {
			return nil, fmt.Errorf("--target %s: given twice", name)
		}
		urls[name] = u
	}
	want := map[string]bool{}
	for _, name := range f.platforms {
		if _, found := lookup(cat, name); !found {
			return nil, fmt.Errorf("--platform %s: unknown platform (known: %s)", name, names(cat))
		}
		want[name] = true
	}
	for name := range urls {
		want[name] = true
	}
	var out []planned
	for _, en := range cat {
		if len(want) == 0 || want[en.name] {
			out = append(out, planned{entry: en, url: urls[en.name]})
		}
	}
	return out, nil
}

// withTarget runs check against the planned platform: its --target, or a
// fresh mock of ours on a loopback port, stopped afterwards.
func withTarget(ctx context.Context, p planned, timeout time.Duration, logger *slog.Logger, check func(contracts.Target)) error {
	client := &http.Client{}
	defer client.CloseIdleConnections()
	t := contracts.Target{Name: p.entry.name, Client: client, Timeout: timeout}
	if p.url != nil {
		t.BaseURL = p.url
		t.Mock = isOurMock(ctx, client, p.url)
		check(t)
		return nil
	}
	m := p.entry.mock(logger.With("mock", p.entry.name))
	r, err := mocks.Serve(p.entry.name, "127.0.0.1:0", m.handler)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = r.Stop(stopCtx) // nothing is left to lose once the checks ran
	}()
	u, err := url.Parse(r.URL)
	if err != nil {
		return fmt.Errorf("parsing the mock's URL: %w", err)
	}
	t.BaseURL, t.Mock = u, true
	check(t)
	return nil
}

// isOurMock reports whether the target is one of our mocks: it answers
// GET /_mock/stats with the runtime's statistics.
func isOurMock(ctx context.Context, client *http.Client, base *url.URL) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath("_mock", "stats").String(), nil)
	if err != nil {
		return false
	}
	rsp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer rsp.Body.Close()
	mt, _, _ := mime.ParseMediaType(rsp.Header.Get("Content-Type"))
	if rsp.StatusCode != http.StatusOK || mt != "application/json" {
		return false
	}
	var stats struct {
		Requests *int64 `json:"requests"`
	}
	raw, err := io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	return err == nil && json.Unmarshal(raw, &stats) == nil && stats.Requests != nil
}

// mockLogger is the console logger of the mocks, the contract checks and
// the sandbox: text, warnings only, unless RELAIS_LOG_LEVEL says otherwise.
func mockLogger(e env) *slog.Logger {
	level := e.getenv("RELAIS_LOG_LEVEL")
	if level == "" {
		level = "warn"
	}
	return newLogger(gateway.LogConfig{Level: level, Format: "text"}, stderrOr(e))
}

func runContractsVerify(ctx context.Context, args []string, e env, cat []entry) error {
	fs := newFlagSet("contracts verify", e)
	var f contractFlags
	f.register(fs)
	junitFile := fs.String("junit", "", "also write the report as JUnit XML to FILE")
	fs.Usage = contractsUsage(fs, e, "verify [--target NAME=URL ...] [--platform NAME ...] [--junit FILE]",
		"Calls each platform's contract cases on its target (our mock by default) and checks every answer\nagainst the contract: status, content type, headers, body schema, fields added, removed or retyped.\nExits non-zero on any violation.", cat)
	if err := parseFlags(fs, args); err != nil || helpAsked(args) {
		return err
	}
	plan, err := f.plan(cat)
	if err != nil {
		return err
	}
	logger := mockLogger(e)
	var reports []contracts.Report
	for _, p := range plan {
		err := withTarget(ctx, p, f.timeout, logger, func(t contracts.Target) {
			reports = append(reports, contracts.Verify(ctx, p.entry.contract(), t, e.getenv))
		})
		if err != nil {
			return err
		}
	}
	if err := contracts.WriteText(e.stdout, reports); err != nil {
		return err
	}
	if *junitFile != "" {
		var buf bytes.Buffer
		if err := contracts.WriteJUnit(&buf, reports); err != nil {
			return err
		}
		if err := os.WriteFile(*junitFile, buf.Bytes(), 0o644); err != nil { //nolint:gosec // a CI report, meant to be read
			return fmt.Errorf("writing --junit: %w", err)
		}
	}
	var failed []string
	for _, r := range reports {
		if r.Failed() {
			failed = append(failed, r.Platform)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("contracts verify: violations on %s", strings.Join(failed, ", "))
	}
	return nil
}

func runContractsDiff(ctx context.Context, args []string, e env, cat []entry) error {
	fs := newFlagSet("contracts diff", e)
	var f contractFlags
	f.register(fs)
	fs.Usage = contractsUsage(fs, e, "diff --target NAME=URL [--target ...] [--platform NAME ...]",
		"Calls each platform's contract cases on its target (our mock by default) and prints every structural\nchange of the JSON bodies: fields added, removed or retyped, with their JSON paths. Exits non-zero if any.", cat)
	if err := parseFlags(fs, args); err != nil || helpAsked(args) {
		return err
	}
	plan, err := f.plan(cat)
	if err != nil {
		return err
	}
	logger := mockLogger(e)
	var (
		all  []contracts.Change
		errs []error
	)
	for _, p := range plan {
		err := withTarget(ctx, p, f.timeout, logger, func(t contracts.Target) {
			changes, err := contracts.Diff(ctx, p.entry.contract(), t, e.getenv)
			for _, c := range changes {
				fmt.Fprintf(e.stdout, "%-8s %s  (%s.%s, %s) %s→%s\n", c.Kind, c.Path, p.entry.name, c.Operation, c.Case, c.Want, c.Got)
			}
			all = append(all, changes...)
			if err != nil {
				errs = append(errs, err)
			}
		})
		if err != nil {
			return err
		}
	}
	if len(all) == 0 && len(errs) == 0 {
		fmt.Fprintf(e.stdout, "no structural change on %d platforms\n", len(plan))
		return nil
	}
	if len(all) > 0 {
		errs = slices.Insert(errs, 0, fmt.Errorf("contracts diff: %d structural changes", len(all)))
	}
	return errors.Join(errs...)
}

// helpAsked reports whether args ask for help (parseFlags then returns nil
// after printing the usage).
func helpAsked(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
}
