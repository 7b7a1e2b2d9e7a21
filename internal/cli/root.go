// Package cli is cld's command line: cobra commands, one file per noun, each
// a thin client of the server's API.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/client"
	"github.com/cloudark/cld/internal/state"
)

// Exit codes, decided here only.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	ExitCancelled = 130
)

type usageErr struct{ error }

func usageError(err error) error { return usageErr{err} }

// Main runs cld with args and returns the exit code.
func Main(args []string, ios *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &Factory{IO: ios, Layout: state.Layout{Home: state.DefaultHome()}}
	root := NewRoot(f)
	root.SetArgs(args)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(ios.ErrOut, "cancelled")
		return ExitCancelled
	}
	fmt.Fprintln(ios.ErrOut, "Error:", err)
	var ue usageErr
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.Contains(err.Error(), "arg(s)") {
		return ExitUsage
	}
	return ExitError
}

// NewRoot wires every noun.
func NewRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "cld",
		Short: "Platform-as-code: one definition runs your app locally, on AWS and on Google Cloud",
		Long: `cld creates an environment (a container cluster and its databases) from a YAML
definition, builds your app's container, deploys it bound to the environment's
databases through $CLOUDARK_<TYPE>_<Attribute> variables, shows its logs, and
deletes every element it made when asked.`,
		Version:       api.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setupLogging(f)
		},
	}
	root.SetVersionTemplate("cld version {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.BoolVarP(&f.Verbose, "verbose", "v", false, "show every progress line")
	pf.BoolVarP(&f.Quiet, "quiet", "q", false, "print only results and errors")
	pf.BoolVar(&f.Debug, "debug", false, "log API calls and internals to stderr (or --log-file)")
	pf.StringVar(&f.LogFile, "log-file", "", "write the debug log to this file")
	root.AddCommand(
		newEnvCmd(f),
		newResourceCmd(f),
		newContainerCmd(f),
		newAppCmd(f),
		newDoctorCmd(f),
		newServerCmd(f),
		newUICmd(f),
		newSetupCmd(f),
	)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(err) })
	return root
}

func setupLogging(f *Factory) error {
	if !f.Debug && f.LogFile == "" {
		return nil
	}
	var w io.Writer = f.IO.ErrOut
	if f.LogFile != "" {
		lf, err := os.OpenFile(f.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		w = lf
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return nil
}

// exactArgs is cobra.ExactArgs with a usage hint.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(fmt.Errorf("%s needs %s (got %d argument(s))", cmd.CommandPath(), names, len(args)))
		}
		return nil
	}
}

// completeNames offers existing names of a noun for shell completion.
func completeNames(f *Factory, noun string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.Client(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		objs, err := c.List(cmd.Context(), noun, "")
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []string
		for _, o := range objs {
			names = append(names, o.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// follow shows an operation's progress until it ends. It returns the error
// of a failed operation. Interrupting stops following, not the operation.
func follow(ctx context.Context, f *Factory, c *client.Client, op api.Operation) error {
	after := 0
	for {
		p, err := c.Operation(ctx, op.ID, after, 30*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(f.IO.ErrOut, "\nstopped following; %s goes on in the server (operation %s)\n", op.Kind, op.ID)
				return ctx.Err()
			}
			return err
		}
		for _, ev := range p.Events {
			after = ev.Seq
			if !f.Quiet && showEvent(f, ev.Message) {
				fmt.Fprintf(f.IO.ErrOut, "  %s  %s\n", ev.Time.Local().Format("15:04:05"), ev.Message)
			}
		}
		if p.Operation.Status != state.OpRunning {
			if p.Operation.Status == state.OpSucceeded {
				return nil
			}
			return fmt.Errorf("%s %s: %s", p.Operation.Kind, p.Operation.Status, p.Operation.Error)
		}
	}
}

// showEvent shows a build's steps and result; the rest of its output
// (layer ids, intermediate containers) only with -v.
func showEvent(f *Factory, msg string) bool {
	if f.Verbose {
		return true
	}
	build, isBuild := strings.CutPrefix(msg, "image: ")
	return !isBuild || strings.HasPrefix(build, "Step ") || strings.HasPrefix(build, "Successfully")
}
