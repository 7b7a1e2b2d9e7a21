// Package local is the local Docker engine target: a user network per
// environment, database containers with named volumes, images built through
// the Engine API, and app containers with published ports.
package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/cloudark/cld/internal/provider"
)

// Element kinds of this target.
const (
	KindNetwork  = "docker-network"
	KindVolume   = "docker-volume"
	KindDatabase = "docker-database"
	KindImage    = "docker-image"
	KindApp      = "docker-app"
)

// Target is the local Docker engine.
type Target struct {
	once   sync.Once
	cli    *client.Client
	cliErr error
	// HTTPHost is the host used to reach published ports (127.0.0.1 unless the
	// engine is remote).
	HTTPHost string
}

var (
	_ provider.Target          = (*Target)(nil)
	_ provider.ClusterPlanner  = (*Target)(nil)
	_ provider.DatabasePlanner = (*Target)(nil)
	_ provider.RegistryPlanner = (*Target)(nil)
	_ provider.RuntimePlanner  = (*Target)(nil)
	_ provider.Logger          = (*Target)(nil)
	_ provider.Sweeper         = (*Target)(nil)
	_ provider.Inventory       = (*Target)(nil)
)

// New returns the local target. Nothing connects until the first call.
func New() *Target { return &Target{HTTPHost: "127.0.0.1"} }

// Name is "local".
func (t *Target) Name() string { return "local" }

// docker returns the Engine API client, honouring DOCKER_HOST and friends and
// negotiating the API version (Engine 20.10 speaks 1.41).
func (t *Target) docker() (*client.Client, error) {
	t.once.Do(func() {
		t.cli, t.cliErr = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	})
	return t.cli, t.cliErr
}

// Handler returns the handler of a kind.
func (t *Target) Handler(kind string) (provider.Handler, bool) {
	switch kind {
	case KindNetwork:
		return networkHandler{t}, true
	case KindVolume:
		return volumeHandler{t}, true
	case KindDatabase:
		return databaseHandler{t}, true
	case KindImage:
		return imageHandler{t}, true
	case KindApp:
		return appHandler{t}, true
	}
	return nil, false
}

// engineError turns Engine API errors into provider classes and a clear message.
func engineError(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("cannot reach the Docker engine (is dockerd running? DOCKER_HOST=%q): %w", client.DefaultDockerHost, err)
	}
	if errdefs.IsInvalidParameter(err) || errdefs.IsForbidden(err) || errdefs.IsUnauthorized(err) {
		return provider.Permanent(err)
	}
	return err
}

func labelFilter(labels map[string]string) filters.Args {
	f := filters.NewArgs()
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// Sweep removes every container, network, volume and image carrying labels.
func (t *Target) Sweep(ctx context.Context, labels map[string]string) ([]string, error) {
	cli, err := t.docker()
	if err != nil {
		return nil, err
	}
	_, imagesOnly := labels[provider.LabelContainer]
	labels = withManaged(labels)
	f := labelFilter(labels)
	var removed []string
	var errs []error
	if imagesOnly {
		// App containers inherit their image's labels: a container's sweep must
		// not reach the apps running it.
		return t.sweepImages(ctx, f)
	}
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	for _, c := range cs {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "container "+strings.TrimPrefix(first(c.Names), "/"))
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return removed, engineError(err)
	}
	for _, n := range ns {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "network "+n.Name)
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return removed, engineError(err)
	}
	for _, v := range vs.Volumes {
		if err := cli.VolumeRemove(ctx, v.Name, true); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "volume "+v.Name)
	}
	imgs, err := t.sweepImages(ctx, f)
	return append(removed, imgs...), errors.Join(append(errs, err)...)
}

func (t *Target) sweepImages(ctx context.Context, f filters.Args) ([]string, error) {
	cli, err := t.docker()
	if err != nil {
		return nil, err
	}
	is, err := cli.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	var removed []string
	var errs []error
	for _, i := range is {
		if _, err := cli.ImageRemove(ctx, i.ID, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "image "+first(i.RepoTags))
	}
	return removed, errors.Join(errs...)
}

func withManaged(labels map[string]string) map[string]string {
	out := map[string]string{provider.LabelManagedBy: provider.ManagedByValue}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Inventory lists every Docker object labelled managed-by=cld.
func (t *Target) Inventory(ctx context.Context) ([]provider.Found, error) {
	cli, err := t.docker()
	if err != nil {
		return nil, err
	}
	f := labelFilter(map[string]string{provider.LabelManagedBy: provider.ManagedByValue})
	var out []provider.Found
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	for _, c := range cs {
		out = append(out, provider.Found{Kind: "container", Name: strings.TrimPrefix(first(c.Names), "/"), Labels: c.Labels})
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	for _, n := range ns {
		out = append(out, provider.Found{Kind: "network", Name: n.Name, Labels: n.Labels})
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	for _, v := range vs.Volumes {
		out = append(out, provider.Found{Kind: "volume", Name: v.Name, Labels: v.Labels})
	}
	is, err := cli.ImageList(ctx, image.ListOptions{Filters: f})
	if err != nil {
		return nil, engineError(err)
	}
	for _, i := range is {
		out = append(out, provider.Found{Kind: "image", Name: first(i.RepoTags), Labels: i.Labels})
	}
	return out, nil
}
