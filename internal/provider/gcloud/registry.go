package gcloud

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	artifactregistry "google.golang.org/api/artifactregistry/v1"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/local"
)

// repositorySpec is an Artifact Registry Docker repository.
type repositorySpec struct {
	Settings Settings `json:"gcloud"`
	Location string   `json:"location"`
}

func repoPath(s Settings, location, id string) string {
	return "projects/" + s.Project + "/locations/" + location + "/repositories/" + id
}

type repositoryHandler struct{ t *Target }

var _ provider.Borrowed = repositoryHandler{}

// Borrowed: a repository that was there before cld (and so does not carry
// its labels) is used but never deleted.
func (repositoryHandler) Borrowed(el *provider.Element) bool { return el.Outputs["Borrowed"] == "true" }

func (h repositoryHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s repositorySpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	r, err := c.ar.Projects.Locations.Repositories.Get(repoPath(s.Settings, s.Location, req.Element.Name)).Context(ctx).Do()
	if isNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "repository %s", req.Element.Name)
	}
	if r.Format != "DOCKER" {
		return provider.Observation{Failed: fmt.Sprintf("repository %s exists and holds %s packages, not Docker images", r.Name, r.Format)}, nil
	}
	ours := matches(r.Labels, map[string]string{provider.LabelElement: req.Element.Labels[provider.LabelElement]})
	return provider.Observation{Exists: true, Ready: true, Ref: r.Name, Outputs: map[string]string{
		"Repository": r.Name, "RegistryURI": r.RegistryUri, "Borrowed": fmt.Sprint(!ours),
	}}, nil
}

func (h repositoryHandler) Create(ctx context.Context, req *provider.Request) error {
	var s repositorySpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	parent := "projects/" + s.Settings.Project + "/locations/" + s.Location
	op, err := c.ar.Projects.Locations.Repositories.Create(parent, &artifactregistry.Repository{
		Format:      "DOCKER",
		Description: "cld container " + req.Element.Labels[provider.LabelContainer],
		Labels:      googleLabels(req.Element.Labels),
	}).RepositoryId(req.Element.Name).Context(ctx).Do()
	if isConflict(err) {
		return nil
	}
	if err != nil {
		return classify(err, "creating repository %s", req.Element.Name)
	}
	// Artifact Registry's operations cannot be listed: follow this one
	// here (it takes a second or two) so a failure is reported, not waited on.
	return c.waitAROp(ctx, op, "creating repository "+req.Element.Name)
}

func (c *apiClients) waitAROp(ctx context.Context, op *artifactregistry.Operation, what string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for !op.Done {
		if time.Now().After(deadline) {
			return nil // Observe follows it from here
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		next, err := c.ar.Projects.Locations.Operations.Get(op.Name).Context(ctx).Do()
		if err != nil {
			return classify(err, "%s", what)
		}
		op = next
	}
	if op.Error != nil {
		return provider.Permanent(fmt.Errorf("%s: %s", what, op.Error.Message))
	}
	return nil
}

func (h repositoryHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s repositorySpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	_, err = c.ar.Projects.Locations.Repositories.Delete(repoPath(s.Settings, s.Location, req.Element.Name)).Context(ctx).Do()
	if isNotFound(err) {
		return nil
	}
	return classify(err, "deleting repository %s", req.Element.Name)
}

// imageSpec is an image pushed from the local engine (where the local
// target's docker-image element built it) to a repository.
type imageSpec struct {
	Settings   Settings `json:"gcloud"`
	Location   string   `json:"location"`
	Repository string   `json:"repository"`
	Image      string   `json:"image"` // package name in the repository
	Tag        string   `json:"tag"`
	Local      string   `json:"local"` // the local image reference
}

type imageHandler struct{ t *Target }

var _ provider.Waiter = imageHandler{}

// ReadyTimeout: the push is done in Create.
func (imageHandler) ReadyTimeout(*provider.Element) time.Duration { return 2 * time.Minute }

func (s imageSpec) packagePath() string {
	return repoPath(s.Settings, s.Location, s.Repository) + "/packages/" + url.PathEscape(s.Image)
}

// version finds the version (digest) the tag points at; "" if none.
func (c *apiClients) tagVersion(ctx context.Context, s imageSpec) (string, error) {
	version := ""
	err := c.ar.Projects.Locations.Repositories.Packages.Tags.List(s.packagePath()).Context(ctx).
		Pages(ctx, func(l *artifactregistry.ListTagsResponse) error {
			for _, t := range l.Tags {
				if t.Name[strings.LastIndex(t.Name, "/")+1:] == s.Tag {
					version = t.Version
				}
			}
			return nil
		})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", classify(err, "tags of %s", s.Image)
	}
	return version, nil
}

func (h imageHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s imageSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	version, err := c.tagVersion(ctx, s)
	if err != nil || version == "" {
		return provider.Observation{}, err
	}
	r, err := c.ar.Projects.Locations.Repositories.Get(repoPath(s.Settings, s.Location, s.Repository)).Context(ctx).Do()
	if err != nil {
		return provider.Observation{}, classify(err, "repository %s", s.Repository)
	}
	digest := version[strings.LastIndex(version, "/")+1:]
	return provider.Observation{Exists: true, Ready: true, Ref: version, Outputs: map[string]string{
		"Image": r.RegistryUri + "/" + s.Image + ":" + s.Tag, "Digest": digest,
	}}, nil
}

func (h imageHandler) Create(ctx context.Context, req *provider.Request) error {
	var s imageSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	r, err := c.ar.Projects.Locations.Repositories.Get(repoPath(s.Settings, s.Location, s.Repository)).Context(ctx).Do()
	if err != nil {
		return classify(err, "repository %s", s.Repository)
	}
	if r.RegistryUri == "" {
		return provider.Permanent(fmt.Errorf("repository %s has no registry URI", r.Name))
	}
	ref := r.RegistryUri + "/" + s.Image + ":" + s.Tag
	host := strings.SplitN(r.RegistryUri, "/", 2)[0]
	tok, err := c.token(ctx)
	if err != nil {
		return err
	}
	dc, err := local.Engine()
	if err != nil {
		return err
	}
	return local.Push(ctx, dc, s.Local, ref, registry.AuthConfig{Username: "oauth2accesstoken", Password: tok.Value, ServerAddress: host}, req.Say)
}

func (h imageHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s imageSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	version, err := c.tagVersion(ctx, s)
	if err != nil || version == "" {
		return err
	}
	_, err = c.ar.Projects.Locations.Repositories.Packages.Versions.Delete(version).Force(true).Context(ctx).Do()
	if isNotFound(err) {
		return nil
	}
	return classify(err, "deleting image %s:%s", s.Image, s.Tag)
}

func dockerError(err error, what string) error {
	if errdefs.IsNotFound(err) || errdefs.IsInvalidParameter(err) || errdefs.IsUnauthorized(err) || errdefs.IsForbidden(err) {
		return provider.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}
