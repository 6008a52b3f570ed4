package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/relais-dev/relais/mocks"
	"github.com/relais-dev/relais/mocks/platform"
)

func runMocks(ctx context.Context, args []string, e env) error {
	return runMocksWith(ctx, args, e, catalog())
}

// runMocksWith is `relais mocks` over the platforms of cat.
func runMocksWith(ctx context.Context, args []string, e env, cat []entry) error {
	fs := newFlagSet("mocks", e)
	host := fs.String("listen", "127.0.0.1", "host (or address) the mocks listen on; each gets a free port")
	faultsFile := fs.String("faults", "", "YAML or JSON file of faults per platform (see mocks/platform.Faults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	faults, err := loadFaultsFile(*faultsFile, cat)
	if err != nil {
		return err
	}
	running, err := startMocks(cat, *host, faults, mockLogger(e))
	if err != nil {
		return err
	}
	printMocks(e.stdout, running, *faultsFile, faults)
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "\nArrêt des plateformes simulées…")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return stopMocks(stopCtx, running)
}

// loadFaultsFile reads a --faults file; every platform it names must be in
// cat.
func loadFaultsFile(path string, cat []entry) (map[string]platform.Faults, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --faults: %w", err)
	}
	faults, err := platform.LoadFaults(raw)
	if err != nil {
		return nil, fmt.Errorf("--faults %s: %w", path, err)
	}
	for name := range faults {
		if _, ok := lookup(cat, name); !ok {
			return nil, fmt.Errorf("--faults %s: unknown platform %q (known: %s)", path, name, names(cat))
		}
	}
	return faults, nil
}

// startedMock is a mock served on a port, with its control.
type startedMock struct {
	*mocks.Running
	control *platform.Server
	// signIn tells an identity provider (a full OpenID Provider).
	signIn bool
}

// startMocks serves a fresh mock of every platform of cat on host:0, with
// its faults; on error the ones started are stopped.
func startMocks(cat []entry, host string, faults map[string]platform.Faults, logger *slog.Logger) (out []startedMock, err error) {
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = stopMocks(stopCtx, out)
		}
	}()
	for _, en := range cat {
		m := en.mock(logger.With("mock", en.name))
		if f, ok := faults[en.name]; ok {
			if err := m.control.SetFaults(f); err != nil {
				return out, fmt.Errorf("faults of %s: %w", en.name, err)
			}
		}
		r, err := mocks.Serve(en.name, listenAddr(host), m.handler)
		if err != nil {
			return out, err
		}
		out = append(out, startedMock{Running: r, control: m.control, signIn: en.signIn != nil})
	}
	return out, nil
}

// listenAddr turns --listen into an address: a bare host gets port 0.
func listenAddr(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "0")
}

func stopMocks(ctx context.Context, running []startedMock) error {
	var errs []error
	for _, r := range slices.Backward(running) {
		errs = append(errs, r.Stop(ctx))
	}
	return errors.Join(errs...)
}

func printMocks(w io.Writer, running []startedMock, faultsFile string, faults map[string]platform.Faults) {
	fmt.Fprintf(w, "Relais : plateformes simulées prêtes.\n\n")
	for _, r := range running {
		note := ""
		if _, ok := faults[r.Name]; ok {
			note = "   pannes injectées"
		}
		fmt.Fprintf(w, "  %-18s  %s   (pilotage : %s/_mock/faults)%s\n", r.Name, r.URL, r.URL, note)
	}
	if slices.ContainsFunc(running, func(r startedMock) bool { return r.signIn }) {
		fmt.Fprintf(w, "\nLes fournisseurs d'identité connaissent le client %q (secret %q), un Relais sur %s\n", localOIDCClientID, localOIDCClientSecret, localRelaisURL)
		fmt.Fprintf(w, "(retour sur %s/auth/<fournisseur>/callback, clés de chiffrement FranceConnect+ lues sur %s/.well-known/jwks.json).\n", localRelaisURL, localRelaisURL)
	}
	if faultsFile != "" {
		fmt.Fprintf(w, "\nPannes lues dans %s.\n", faultsFile)
	}
	if len(running) > 0 {
		first := running[0]
		fmt.Fprintf(w, "\nVérifier un contrat : relais contracts verify --target %s=%s\n", first.Name, first.URL)
		fmt.Fprintf(w, "Injecter une panne : curl -sS -X PUT %s/_mock/faults -d '{\"rules\":[{\"error_rate\":0.5,\"status\":503}]}'\n", first.URL)
	}
	fmt.Fprintf(w, "Ctrl+C pour arrêter.\n")
}
