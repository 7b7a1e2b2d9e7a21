package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/cloudark/cld/internal/provider"
)

// imageHandler builds an image through the Engine API from the build context
// the CLI uploaded (kept in the container's folder).
type imageHandler struct{ t *Target }

var _ provider.Waiter = imageHandler{}

// ReadyTimeout: a build may take long, but Create already waited for it.
func (imageHandler) ReadyTimeout(*provider.Element) time.Duration { return time.Minute }

func (h imageHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	cli, err := h.t.docker()
	if err != nil {
		return provider.Observation{}, err
	}
	img, err := cli.ImageInspect(ctx, req.Element.Name)
	if errdefs.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, engineError(err)
	}
	var labels map[string]string
	if img.Config != nil {
		labels = img.Config.Labels
	}
	return provider.Observation{Exists: true, Ready: true, Ref: img.ID, Labels: known(labels), Outputs: map[string]string{
		"Image": req.Element.Name, "ID": img.ID, "Size": fmt.Sprintf("%d", img.Size),
	}}, nil
}

func (h imageHandler) Create(ctx context.Context, req *provider.Request) error {
	var is imageSpec
	if err := req.Element.DecodeSpec(&is); err != nil {
		return err
	}
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	f, err := os.Open(is.ContextTar)
	if err != nil {
		return provider.Permanent(fmt.Errorf("build context: %w", err))
	}
	defer f.Close()
	resp, err := cli.ImageBuild(ctx, f, build.ImageBuildOptions{
		Tags:        []string{req.Element.Name},
		Labels:      req.Element.Labels,
		Dockerfile:  is.Dockerfile,
		Remove:      true, // no helper containers left behind
		ForceRemove: true,
	})
	if err != nil {
		return engineError(err)
	}
	defer resp.Body.Close()
	if err := drainJSON(resp.Body, req.Say); err != nil {
		return provider.Permanent(fmt.Errorf("build failed: %w", err))
	}
	return nil
}

// drainJSON reads a stream of Engine JSON messages (a build's or a push's),
// reporting each line, and returns the error the stream carries, if any.
func drainJSON(r io.Reader, say func(string, ...any)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if m.ErrorMessage != "" {
			return errors.New(m.ErrorMessage)
		}
		for _, line := range strings.Split(strings.TrimRight(m.Stream, "\n"), "\n") {
			if strings.TrimSpace(line) != "" {
				say("%s", line)
			}
		}
		if m.Status != "" && m.Progress == nil {
			say("%s %s", m.Status, m.ID)
		}
	}
}

func (h imageHandler) Delete(ctx context.Context, req *provider.Request) error {
	cli, err := h.t.docker()
	if err != nil {
		return err
	}
	_, err = cli.ImageRemove(ctx, req.Element.Name, image.RemoveOptions{Force: true, PruneChildren: true})
	if errdefs.IsNotFound(err) {
		return nil
	}
	return engineError(err)
}
