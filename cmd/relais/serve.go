package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/relais-dev/relais/gateway"
)

func runServe(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("serve", e)
	configPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, stderrOr(e))
	if logger.Enabled(ctx, slog.LevelDebug) {
		shown, _ := json.Marshal(cfg) // secrets marshal as "***"
		logger.Debug("configuration loaded", slog.String("config", string(shown)))
	}
	g, err := gateway.New(ctx, cfg, gateway.Deps{Logger: logger})
	if err != nil {
		return err
	}
	return serveUntilDone(ctx, g, logger)
}

// serveUntilDone starts g and stops it gracefully when ctx ends.
func serveUntilDone(ctx context.Context, g *gateway.Gateway, logger *slog.Logger) error {
	if err := g.Start(ctx, true); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = g.Stop(stopCtx)
		return err
	}
	<-ctx.Done()
	logger.Info("stopping: waiting for deliveries in progress")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := g.Stop(stopCtx); err != nil {
		return fmt.Errorf("stopping: %w", err)
	}
	return nil
}
