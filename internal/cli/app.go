package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/client"
	"github.com/cloudark/cld/internal/spec"
)

func newAppCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "Deploy apps into environments, show them, their logs, and delete them", Aliases: []string{"application"}}
	cmd.AddCommand(newAppDeploy(f), newAppRedeploy(f), newObjectList(f, "apps", "List apps"), newObjectShow(f, "apps", "Show an app's status, URL and elements"),
		newAppLogs(f), newObjectDelete(f, "apps", "app", "Delete an app and every element it made"))
	return cmd
}

func validateApp(p string, b []byte) error { _, err := spec.ParseApp(p, b); return err }

func newAppDeploy(f *Factory) *cobra.Command {
	var detach bool
	cmd := &cobra.Command{
		Use:     "deploy <app-name> <env-name> <app-yaml>",
		Short:   "Deploy an app into an environment, bound to its resources",
		Example: "  cld app deploy greetings dev examples/greetings/app-local-mysql.yaml",
		Args:    exactArgs(3, "an app name, an environment name and a YAML file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, env, file := args[0], args[1], args[2]
			if err := spec.CheckName("app", name); err != nil {
				return usageError(err)
			}
			src, err := readDefinition(file, validateApp)
			if err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.DeployApp(cmd.Context(), api.Definition{Name: name, Env: env, File: file, Source: src, ClientEnv: clientEnv()})
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error { return printURL(cmd, f, c, name) })
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once; `cld app show` reports progress")
	return cmd
}

func printURL(cmd *cobra.Command, f *Factory, c *client.Client, name string) error {
	d, err := c.Show(cmd.Context(), "apps", name)
	if err != nil {
		return err
	}
	if d.URL != "" {
		fmt.Fprintln(f.IO.Out, d.URL)
	} else {
		fmt.Fprintf(f.IO.Out, "app %s is %s\n", name, d.Status)
	}
	return nil
}

func newAppRedeploy(f *Factory) *cobra.Command {
	var detach bool
	cmd := &cobra.Command{
		Use:   "redeploy <app-name> <app-yaml>",
		Short: "Replace an app with a new version (image or settings); the environment is untouched",
		Args:  exactArgs(2, "an app name and a YAML file"), ValidArgsFunction: completeNames(f, "apps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, file := args[0], args[1]
			src, err := readDefinition(file, validateApp)
			if err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.RedeployApp(cmd.Context(), api.Definition{Name: name, File: file, Source: src, ClientEnv: clientEnv()})
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error { return printURL(cmd, f, c, name) })
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once")
	return cmd
}

func newAppLogs(f *Factory) *cobra.Command {
	var o client.LogOptions
	var since string
	var deployment, runtime bool
	cmd := &cobra.Command{
		Use:   "logs <app-name>",
		Short: "Show an app's deployment logs (what the platform did) and runtime logs (its output)",
		Args:  exactArgs(1, "an app name"), ValidArgsFunction: completeNames(f, "apps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if since != "" {
				if d, err := time.ParseDuration(since); err == nil {
					o.Since = time.Now().Add(-d)
				} else if t, err := time.Parse(time.RFC3339, since); err == nil {
					o.Since = t
				} else {
					return usageError(fmt.Errorf("--since %q: give a duration such as 10m or a time such as 2026-01-02T15:04:05Z", since))
				}
			}
			if deployment && !runtime {
				o.Part = "deployment"
			} else if runtime && !deployment {
				o.Part = "runtime"
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			return c.Logs(cmd.Context(), args[0], o, f.IO.Out)
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep streaming new lines")
	cmd.Flags().IntVar(&o.Tail, "tail", 0, "only the last N lines of each container's output (0: all)")
	cmd.Flags().StringVar(&since, "since", "", "only lines newer than a duration (10m) or a time (RFC 3339)")
	cmd.Flags().BoolVar(&deployment, "deployment", false, "only the deployment logs")
	cmd.Flags().BoolVar(&runtime, "runtime", false, "only the runtime logs")
	return cmd
}
