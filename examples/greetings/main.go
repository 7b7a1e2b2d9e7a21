// Command greetings is cld's example app: a small web app that stores and
// lists greetings in a MySQL/MariaDB or PostgreSQL database.
//
// Configuration (environment variables, as in the CaaStle greetings example):
//
//	HOST      database host, optionally host:port (default port 3306 / 5432)
//	DB        database name
//	USER      database user
//	PASSWORD  database password
//	DRIVER    mysql (default) or postgres
//	PORT      HTTP listen port (default 5000)
//	DB_WAIT   how long to wait for the database at start (default 60s)
//
// Endpoints: GET / (HTML list and form), GET /greetings (JSON list),
// POST /greetings (JSON {"message": "..."} or form field message),
// GET /healthz (200 "ok" when the database answers a ping, else 503).
package main

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	logger := log.New(os.Stdout, "", log.LstdFlags|log.LUTC)
	if err := run(logger); err != nil {
		logger.Printf("greetings: %v", err)
		os.Exit(1)
	}
}

func run(logger *log.Logger) error {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	wait := 60 * time.Second
	if v := os.Getenv("DB_WAIT"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil {
			return err
		}
	}

	// PID 1 in a container gets no default signal handling: handle SIGTERM
	// ourselves so `docker stop` is quick.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	logger.Printf("greetings connecting to %s database %q at %s as %q", cfg.Driver, cfg.DB, cfg.hostPort(), cfg.User)
	wctx, cancel := context.WithTimeout(ctx, wait)
	store, err := openStore(wctx, cfg, logger.Printf)
	cancel()
	if err != nil {
		return err
	}
	defer store.db.Close()

	srv := &http.Server{
		Addr:              net.JoinHostPort("", cfg.Port),
		Handler:           (&server{store: store, log: logger}).routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	logger.Printf("greetings listening on %s driver=%s host=%s db=%s", srv.Addr, cfg.Driver, cfg.hostPort(), cfg.DB)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Printf("greetings shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
