package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Commands shared by the nouns whose objects the server lists the same way.

func newObjectList(f *Factory, noun, short string) *cobra.Command {
	var output, env string
	cmd := &cobra.Command{
		Use: "list", Short: short, Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			objs, err := c.List(cmd.Context(), noun, env)
			if err != nil {
				return err
			}
			if ok, err := export(f.IO.Out, output, objs); ok {
				return err
			}
			if noun == "apps" {
				t := newTable(f.IO, "NAME", "ENV", "STATUS", "URL", "CREATED")
				for _, o := range objs {
					t.row(o.Name, o.Env, o.Status, orDash(o.URL), o.CreatedAt.Local().Format("2006-01-02 15:04:05"))
				}
				t.flush()
				return nil
			}
			t := newTable(f.IO, "NAME", "REGISTRY", "STATUS", "IMAGE", "CREATED")
			for _, o := range objs {
				t.row(o.Name, o.Target, o.Status, orDash(o.Image), o.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			}
			t.flush()
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	if noun == "apps" {
		cmd.Flags().StringVar(&env, "env", "", "only apps in this environment")
	}
	return cmd
}

func newObjectShow(f *Factory, noun, short string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: "show <name>", Short: short, Args: exactArgs(1, "a name"), ValidArgsFunction: completeNames(f, noun),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			d, err := c.Show(cmd.Context(), noun, args[0])
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

func newObjectDelete(f *Factory, noun, what, short string) *cobra.Command {
	var detach bool
	cmd := &cobra.Command{
		Use: "delete <name>", Short: short, Args: exactArgs(1, "a name"), ValidArgsFunction: completeNames(f, noun),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.Delete(cmd.Context(), noun, args[0])
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error {
				fmt.Fprintf(f.IO.Out, "%s %s deleted\n", what, args[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once")
	return cmd
}
