package cli

import (
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/api"
)

func newResourceCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "resource", Short: "List environments' resources and their attributes for $CLOUDARK_ binding"}
	var output string
	var secrets bool
	run := func(cmd *cobra.Command, env string) error {
		if err := checkFormat(output); err != nil {
			return err
		}
		c, err := f.Client(cmd.Context())
		if err != nil {
			return err
		}
		res, err := c.Resources(cmd.Context(), env, secrets)
		if err != nil {
			return err
		}
		if ok, err := export(f.IO.Out, output, res); ok {
			return err
		}
		printResources(f, res)
		return nil
	}
	list := &cobra.Command{
		Use: "list", Short: "List every resource of every environment", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd, "") },
	}
	show := &cobra.Command{
		Use: "show <env-name>", Short: "Show every output attribute of an environment's resources",
		Args: exactArgs(1, "an environment name"), ValidArgsFunction: completeNames(f, "envs"),
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd, args[0]) },
	}
	for _, c := range []*cobra.Command{list, show} {
		addOutputFlag(c, &output)
		c.Flags().BoolVar(&secrets, "show-secrets", false, "print secret attributes (passwords) instead of masking them")
	}
	cmd.AddCommand(list, show)
	return cmd
}

func printResources(f *Factory, res []api.Resource) {
	t := newTable(f.IO, "ENV", "TYPE", "NAME", "STATUS", "ATTRIBUTE", "VALUE", "VARIABLE")
	for _, r := range res {
		for _, k := range slices.Sorted(maps.Keys(r.Attributes)) {
			t.row(r.Env, r.Type, r.Name, r.Status, k, r.Attributes[k], "$CLOUDARK_"+r.Type+"_"+k)
		}
	}
	t.flush()
}
