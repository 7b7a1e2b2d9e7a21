package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/spec"
)

func newEnvCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "env", Short: "Create, inspect and delete environments (a cluster and its databases)", Aliases: []string{"environment"}}
	cmd.AddCommand(newEnvCreate(f), newEnvList(f), newEnvShow(f), newEnvDelete(f), newEnvHistory(f), newEnvShell(f), newEnvExec(f))
	return cmd
}

// readDefinition reads a definition file and validates it locally, so bad
// input fails fast with file, line and field, before the server is involved.
func readDefinition(path string, validate func(string, []byte) error) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: file not found", path)
		}
		return nil, err
	}
	if err := validate(path, src); err != nil {
		return nil, err
	}
	return src, nil
}

func newEnvCreate(f *Factory) *cobra.Command {
	var detach bool
	cmd := &cobra.Command{
		Use:   "create <env-name> <env-yaml>",
		Short: "Create an environment from its YAML definition",
		Example: `  cld env create dev examples/greetings/env-local-mysql.yaml
  cld env create prod environment-rds-ecs.yaml --detach`,
		Args: exactArgs(2, "an environment name and a YAML file"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 1 {
				return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, file := args[0], args[1]
			if err := spec.CheckName("environment", name); err != nil {
				return usageError(err)
			}
			src, err := readDefinition(file, func(p string, b []byte) error { _, err := spec.ParseEnvironment(p, b); return err })
			if err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.CreateEnv(cmd.Context(), api.Definition{Name: name, File: file, Source: src, ClientEnv: clientEnv()})
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error {
				d, err := c.Show(cmd.Context(), "envs", name)
				if err != nil {
					return err
				}
				fmt.Fprintf(f.IO.Out, "environment %s is %s (%d elements)\n", name, d.Status, len(d.Elements))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once; `cld env show` reports progress")
	return cmd
}

// finish follows an accepted operation unless detached, then runs done.
func finish(ctx context.Context, f *Factory, a *api.Accepted, detach bool, done func() error) error {
	if detach {
		fmt.Fprintf(f.IO.Out, "%s started (operation %s); `cld %s show %s` reports its status\n", a.Operation.Kind, a.Operation.ID, a.Object.Kind, a.Object.Name)
		return nil
	}
	if !f.Quiet {
		fmt.Fprintf(f.IO.ErrOut, "%s %s (operation %s)\n", a.Operation.Kind, a.Object.Name, a.Operation.ID)
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	if err := follow(ctx, f, c, a.Operation); err != nil {
		return err
	}
	return done()
}

func newEnvList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: "list", Short: "List environments", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			envs, err := c.List(cmd.Context(), "envs", "")
			if err != nil {
				return err
			}
			if ok, err := export(f.IO.Out, output, envs); ok {
				return err
			}
			t := newTable(f.IO, "NAME", "TARGET", "STATUS", "CREATED", "ERROR")
			for _, e := range envs {
				t.row(e.Name, orDash(e.Target), e.Status, e.CreatedAt.Local().Format("2006-01-02 15:04:05"), firstLine(e.Error))
			}
			t.flush()
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func newEnvShow(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: "show <env-name>", Short: "Show an environment's status, elements and apps",
		Args: exactArgs(1, "an environment name"), ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			d, err := c.Show(cmd.Context(), "envs", args[0])
			if err != nil {
				return err
			}
			if ok, err := export(f.IO.Out, output, d); ok {
				return err
			}
			printDetail(f, d)
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// printDetail renders an object with its elements.
func printDetail(f *Factory, d *api.Detail) {
	w := f.IO.Out
	fmt.Fprintf(w, "Name:     %s\n", d.Name)
	if d.Env != "" {
		fmt.Fprintf(w, "Env:      %s\n", d.Env)
	}
	fmt.Fprintf(w, "Target:   %s\n", orDash(d.Target))
	fmt.Fprintf(w, "Status:   %s\n", d.Status)
	if d.Error != "" {
		fmt.Fprintf(w, "Error:    %s\n", d.Error)
	}
	if d.URL != "" {
		fmt.Fprintf(w, "URL:      %s\n", d.URL)
	}
	if d.Image != "" {
		fmt.Fprintf(w, "Image:    %s\n", d.Image)
	}
	fmt.Fprintf(w, "Created:  %s\n", d.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	fmt.Fprintf(w, "Folder:   %s\n", d.Folder)
	if len(d.Elements) > 0 {
		fmt.Fprintln(w, "\nElements:")
		t := newTable(f.IO, "KEY", "KIND", "NAME", "STATUS", "OUTPUTS")
		for _, e := range d.Elements {
			var outs []string
			for _, k := range slices.Sorted(maps.Keys(e.Outputs)) {
				outs = append(outs, k+"="+e.Outputs[k])
			}
			status := e.Status
			if e.Error != "" {
				status += ": " + firstLine(e.Error)
			}
			t.row(e.Key, e.Kind, e.Name, status, strings.Join(outs, " "))
		}
		t.flush()
	}
	if len(d.Apps) > 0 {
		fmt.Fprintln(w, "\nApps:")
		t := newTable(f.IO, "NAME", "STATUS", "URL")
		for _, a := range d.Apps {
			t.row(a.Name, a.Status, orDash(a.URL))
		}
		t.flush()
	}
}

func newEnvDelete(f *Factory) *cobra.Command {
	var force, detach bool
	cmd := &cobra.Command{
		Use: "delete <env-name>", Short: "Delete an environment and every element it made",
		Args: exactArgs(1, "an environment name"), ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.DeleteEnv(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error {
				fmt.Fprintf(f.IO.Out, "environment %s deleted\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "also delete the apps deployed in it")
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once")
	return cmd
}

func newEnvHistory(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: "history <env-name>", Short: "List every operation that changed an environment",
		Args: exactArgs(1, "an environment name"), ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			ops, err := c.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if ok, err := export(f.IO.Out, output, ops); ok {
				return err
			}
			t := newTable(f.IO, "STARTED", "DURATION", "OPERATION", "OBJECT", "OUTCOME", "ERROR")
			for _, op := range ops {
				dur := "-"
				if op.EndedAt != nil {
					dur = op.EndedAt.Sub(op.StartedAt).Round(1e7).String()
				}
				t.row(op.StartedAt.Local().Format("2006-01-02 15:04:05"), dur, op.Kind, op.Owner, op.Status, firstLine(op.Error))
			}
			t.flush()
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// envVars returns the variables that point tools at an environment.
func envVars(d *api.Detail) []string {
	vars := []string{"CLD_ENV=" + d.Name, "CLD_ENV_TARGET=" + d.Target}
	for _, e := range d.Elements {
		for k, v := range e.Outputs {
			switch k {
			case "Network":
				vars = append(vars, "CLD_DOCKER_NETWORK="+v)
			case "Kubeconfig":
				vars = append(vars, "KUBECONFIG="+v)
			case "Region":
				vars = append(vars, "AWS_REGION="+v, "CLOUDSDK_COMPUTE_REGION="+v)
			case "Project":
				vars = append(vars, "CLOUDSDK_CORE_PROJECT="+v)
			case "Namespace":
				vars = append(vars, "CLD_NAMESPACE="+v)
			}
		}
	}
	return vars
}

func runIn(cmd *cobra.Command, f *Factory, env string, argv []string) error {
	c, err := f.Client(cmd.Context())
	if err != nil {
		return err
	}
	d, err := c.Show(cmd.Context(), "envs", env)
	if err != nil {
		return err
	}
	x := exec.CommandContext(cmd.Context(), argv[0], argv[1:]...)
	x.Env = append(os.Environ(), envVars(d)...)
	x.Stdin, x.Stdout, x.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
	return x.Run()
}

func newEnvShell(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "shell <env-name>", Short: "Open a shell whose tools point at the environment (KUBECONFIG, AWS_REGION, ...)",
		Args: exactArgs(1, "an environment name"), ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sh := os.Getenv("SHELL")
			if sh == "" {
				sh = "/bin/sh"
			}
			return runIn(cmd, f, args[0], []string{sh})
		},
	}
}

func newEnvExec(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "exec <env-name> -- <command> [args...]", Short: "Run one command with tools pointed at the environment",
		Example: "  cld env exec prod -- kubectl get pods",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError(fmt.Errorf("cld env exec needs an environment name and a command"))
			}
			return nil
		},
		ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIn(cmd, f, args[0], args[1:])
		},
	}
}

// clientEnv picks the variables of the user's shell that targets honour.
// Credentials themselves are not sent: the server reads them where the SDKs
// look (shared files, its own environment, metadata services).
func clientEnv() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "KUBECONFIG":
			var abs []string
			for _, p := range filepath.SplitList(v) {
				if a, err := filepath.Abs(p); err == nil {
					abs = append(abs, a)
				}
			}
			out[k] = strings.Join(abs, string(filepath.ListSeparator))
		case k == "AWS_PROFILE", k == "AWS_REGION", k == "AWS_DEFAULT_REGION", k == "AWS_CONFIG_FILE",
			k == "AWS_SHARED_CREDENTIALS_FILE", strings.HasPrefix(k, "AWS_ENDPOINT_URL"),
			k == "GOOGLE_APPLICATION_CREDENTIALS", k == "GOOGLE_CLOUD_PROJECT", strings.HasPrefix(k, "CLOUDSDK_"):
			out[k] = v
		}
	}
	return out
}
