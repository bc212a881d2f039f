package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/dashboard"
	"github.com/eosweep/eosweep/internal/transport"
)

// dashboardFlags is --http, the web dashboard's address (coordinator, run).
type dashboardFlags struct{ addr string }

func (f *dashboardFlags) bind(fs *pflag.FlagSet, def, usage string) {
	fs.StringVar(&f.addr, "http", def, usage)
}

// start serves the dashboard of c when --http is set, prints its URL to
// out, and returns the function that stops it; cfg gives the token and the
// TLS certificate (the coordinator's own).
func (f dashboardFlags) start(out io.Writer, log *slog.Logger, c *coordinator.Coordinator, cfg transport.ServerConfig) (func(), error) {
	if f.addr == "" {
		return func() {}, nil
	}
	d, err := dashboard.New(dashboard.Config{Source: dashboard.FromCoordinator(c.Scheduler, c.Store), Token: cfg.Token, Logger: log})
	if err != nil {
		return nil, err
	}
	srv, err := dashboard.Serve(d, f.addr, cfg.CertFile, cfg.KeyFile, log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "dashboard on %s\n", srv.URL())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("dashboard shutdown", "err", err)
		}
	}, nil
}
