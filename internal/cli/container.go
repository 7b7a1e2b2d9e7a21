package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/moby/go-archive"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/spf13/cobra"

	"github.com/cloudark/cld/internal/spec"
)

func newContainerCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Build container images and store them in a registry (local, ecr, gcr)"}
	cmd.AddCommand(newContainerCreate(f), newObjectList(f, "containers", "List containers"), newObjectShow(f, "containers", "Show a container and its image reference"),
		newObjectDelete(f, "containers", "container", "Delete a container's image and what was made to store it"))
	return cmd
}

func newContainerCreate(f *Factory) *cobra.Command {
	var detach bool
	var dir string
	cmd := &cobra.Command{
		Use:   "create <name> <local|ecr|gcr>",
		Short: "Build the Dockerfile in the current directory and store the image",
		Example: `  cd examples/greetings && cld container create greetings local
  cld container show greetings      # prints the image reference for app.yaml`,
		Args:      exactArgs(2, "a container name and a registry (local, ecr or gcr)"),
		ValidArgs: []string{"local", "ecr", "gcr"},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, registry := args[0], args[1]
			if err := spec.CheckName("container", name); err != nil {
				return usageError(err)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			tarball, err := buildContext(abs)
			if err != nil {
				return err
			}
			defer tarball.Close()
			c, err := f.Client(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.CreateContainer(cmd.Context(), name, registry, tarball, clientEnv())
			if err != nil {
				return err
			}
			return finish(cmd.Context(), f, a, detach, func() error {
				d, err := c.Show(cmd.Context(), "containers", name)
				if err != nil {
					return err
				}
				fmt.Fprintln(f.IO.Out, d.Image)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once; `cld container show` reports progress")
	cmd.Flags().StringVarP(&dir, "dir", "C", ".", "directory holding the Dockerfile (the build context)")
	return cmd
}

// buildContext tars a directory for the Engine's build: only files under it,
// minus what .dockerignore excludes (the Dockerfile and .dockerignore always go).
func buildContext(dir string) (io.ReadCloser, error) {
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return nil, fmt.Errorf("no Dockerfile in %s: run `cld container create` in your Dockerfile's directory (or pass --dir)", dir)
	}
	var excludes []string
	if fh, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		excludes, err = ignorefile.ReadAll(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ".dockerignore"), err)
		}
	}
	// Like docker build: the Dockerfile and .dockerignore are always sent.
	excludes = append(excludes, "!Dockerfile", "!.dockerignore")
	return archive.TarWithOptions(dir, &archive.TarOptions{ExcludePatterns: excludes})
}
