package local

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"

	"github.com/cloudark/cld/internal/provider"
)

// engine is the process's Engine API client for the cloud targets, which
// build and push with the local engine.
var engine = sync.OnceValues(func() (*client.Client, error) {
	return client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
})

// Engine returns the Engine API client (DOCKER_HOST and friends honoured,
// the API version negotiated), made once.
func Engine() (*client.Client, error) { return engine() }

// Push pushes the locally built image localRef to a registry as ref, with
// the registry's credentials (ECR's, Artifact Registry's): the cloud
// targets build with the local engine and push from it. The extra local tag
// only serves the push and is removed after. A refused login is Permanent.
func Push(ctx context.Context, dc *client.Client, localRef, ref string, auth registry.AuthConfig, say func(string, ...any)) error {
	enc, err := registry.EncodeAuthConfig(auth)
	if err != nil {
		return provider.Permanent(err)
	}
	if err := dc.ImageTag(ctx, localRef, ref); err != nil {
		return provider.Permanent(fmt.Errorf("tag %s as %s: %w", localRef, ref, err))
	}
	defer dc.ImageRemove(context.WithoutCancel(ctx), ref, image.RemoveOptions{})
	say("pushing %s", ref)
	rc, err := dc.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: enc})
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	defer rc.Close()
	if err := drainJSON(rc, say); err != nil {
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "denied") || strings.Contains(msg, "unauthorized") {
			return provider.Permanent(fmt.Errorf("push %s: %w", ref, err))
		}
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
