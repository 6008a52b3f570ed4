package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/relais-dev/relais/gateway"
)

// env is what a command may touch of the outside world.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	logger         *slog.Logger
}

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, e env) error
}

func commands() []command {
	return []command{
		{"serve", "serve --config FILE            run the gateway", runServe},
		{"sandbox", "sandbox [--listen ADDR] [--data DIR] [--faults FILE]   run the gateway with every mock and a demo tenant", runSandbox},
		{"mocks", "mocks [--listen HOST] [--faults FILE]   run every mock platform", runMocks},
		{"contracts", "contracts verify|diff [--target NAME=URL ...]   check platforms (or our mocks) against their contracts", runContracts},
		{"migrate", "migrate --config FILE          apply pending database migrations", runMigrate},
		{"tenant", "tenant create|list --config FILE [NAME]   create and list tenants", runTenant},
		{"apikey", "apikey create|list|revoke ...  manage tenants' API keys", runAPIKey},
		{"journal", "journal verify --config FILE   check the journal's hash chain", runJournal},
		{"bench", "bench deliver|lookup [flags]   measure delivery throughput, lookup latency", runBench},
		{"mapping", "mapping lint|run ...         check and try mapping specs", runMapping},
		{"report", "report validate|template|generate ...   check activity report files offline, write their templates", runReport},
		{"version", "version                        print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(ctx, args[1:], e); !errors.Is(err, errHelpShown) {
				return err
			}
			return nil
		}
	}
	usage(e.stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "relais: interoperability gateway for the social and medico-social sector")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintln(w, "  relais "+c.usage)
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("relais "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// errHelpShown stops a command whose flags asked for help: the usage is
// printed and nothing runs; run reports success.
var errHelpShown = errors.New("help shown")

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func loadConfig(path string) (gateway.Config, error) {
	if path == "" {
		return gateway.Config{}, errors.New("--config FILE is required")
	}
	return gateway.LoadConfig(path)
}

// newLogger builds the logger the configuration asks for.
func newLogger(cfg gateway.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Level))) // validated by Config.Validate
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func stderrOr(e env) io.Writer {
	if e.stderr != nil {
		return e.stderr
	}
	return os.Stderr
}
