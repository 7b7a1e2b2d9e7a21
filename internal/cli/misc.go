package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/client"
	"github.com/cloudark/cld/internal/server"
	"github.com/cloudark/cld/internal/targets"
)

func newDoctorCmd(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find platform elements labelled managed-by=cld that cld does not own (strays), and owned ones that are gone (drift)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			d, err := c.Doctor(cmd.Context())
			if err != nil {
				return err
			}
			if ok, err := export(f.IO.Out, output, d); ok {
				return err
			}
			for _, e := range d.Errors {
				fmt.Fprintln(f.IO.ErrOut, "could not check:", e)
			}
			if len(d.Strays) == 0 && len(d.Drift) == 0 {
				fmt.Fprintln(f.IO.Out, "no strays, no drift")
				return nil
			}
			t := newTable(f.IO, "PROBLEM", "TARGET", "KIND", "NAME", "OWNER")
			for _, s := range d.Strays {
				t.row("stray", s.Target, s.Kind, s.Name, orDash(s.Labels["cld-element"]))
			}
			for _, e := range d.Drift {
				t.row("drift", e.Target, e.Kind, e.Name, e.Owner)
			}
			t.flush()
			return fmt.Errorf("%d stray(s), %d drifted element(s)", len(d.Strays), len(d.Drift))
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func newServerCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the cld engine (the CLI starts it by itself when needed)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelInfo
			if f.Debug {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level}))
			return server.Run(cmd.Context(), server.Options{Layout: f.Layout, Targets: targets.All(), Log: log})
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use: "stop", Short: "Stop the server; running operations resume at its next start", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := client.New(f.Layout)
			if _, err := c.Version(cmd.Context()); err != nil {
				fmt.Fprintln(f.IO.ErrOut, "no cld server is running")
				return nil
			}
			if err := c.Shutdown(cmd.Context()); err != nil {
				return err
			}
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(f.Layout.Socket()); os.IsNotExist(err) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			fmt.Fprintln(f.IO.ErrOut, "cld server stopped")
			return nil
		},
	})
	return cmd
}

func newUICmd(f *Factory) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the web view of every environment on a local address",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "web view on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
			hs := &http.Server{Handler: c.Proxy(), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				hs.Shutdown(ctx)
			}()
			if err := hs.Serve(ln); err != http.ErrServerClosed {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7878", "address to serve on (keep it on loopback: the view shows your environments)")
	return cmd
}
