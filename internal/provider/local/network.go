package local

import (
	"context"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/cloudark/cld/internal/provider"
)

// networkHandler manages the environment's user-defined bridge network: apps
// reach databases on it by container name.
type networkHandler struct{ t *Target }

func (h networkHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	cli, err := h.t.docker()
	if err != nil {
		return provider.Observation{}, err
	}
	n, err := cli.NetworkInspect(ctx, req.Element.Name, network.InspectOptions{})
	if errdefs.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, engineError(err)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: n.ID, Outputs: map[string]string{"Network": n.Name}, Labels: known(n.Labels)}, nil
}

func (h networkHandler) Create(ctx context.Context, req *provider.Request) error {
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	_, err = cli.NetworkCreate(ctx, req.Element.Name, network.CreateOptions{Driver: "bridge", Labels: req.Element.Labels})
	if errdefs.IsConflict(err) {
		return nil // made meanwhile: the next Observe tells whose it is
	}
	return engineError(err)
}

func (h networkHandler) Delete(ctx context.Context, req *provider.Request) error {
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	err = cli.NetworkRemove(ctx, req.Element.Name)
	if errdefs.IsNotFound(err) {
		return nil
	}
	return engineError(err)
}

// volumeHandler manages a database's named volume.
type volumeHandler struct{ t *Target }

func (h volumeHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	cli, err := h.t.docker()
	if err != nil {
		return provider.Observation{}, err
	}
	v, err := cli.VolumeInspect(ctx, req.Element.Name)
	if errdefs.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, engineError(err)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: v.Name, Outputs: map[string]string{"Volume": v.Name}, Labels: known(v.Labels)}, nil
}

func (h volumeHandler) Create(ctx context.Context, req *provider.Request) error {
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	_, err = cli.VolumeCreate(ctx, volume.CreateOptions{Name: req.Element.Name, Labels: req.Element.Labels})
	return engineError(err)
}

func (h volumeHandler) Delete(ctx context.Context, req *provider.Request) error {
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	err = cli.VolumeRemove(ctx, req.Element.Name, true)
	if errdefs.IsNotFound(err) {
		return nil
	}
	return engineError(err)
}

// known marks labels as read from the platform (non-nil, even when empty):
// see provider.Observation.Labels.
func known(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}
