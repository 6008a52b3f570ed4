// Command relais is the Relais interoperability gateway: one binary for the
// server, the sandbox, migrations, API keys and benchmarks.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, logger: logger})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relais:", err)
		os.Exit(1)
	}
}
