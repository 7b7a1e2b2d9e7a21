package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/local"
)

// PlanContainer plans three elements: the image built by the local Docker
// engine (the local target's own element), the ECR repository named after
// the container (created when missing, kept if cld did not make it), and
// the push of the image to it.
func (t *Target) PlanContainer(p provider.ContainerPlan) ([]*provider.Element, error) {
	set, err := ResolveSettings(p.Region, p.ClientEnv)
	if err != nil {
		return nil, err
	}
	build, err := local.New().PlanContainer(p)
	if err != nil {
		return nil, err
	}
	s := base{set}
	out := append(build,
		&provider.Element{Key: "repository", Kind: KindRepository, Target: Name, Name: p.Name, Spec: provider.MustSpec(s)},
		&provider.Element{Key: "push", Kind: KindImage, Target: Name, Name: p.Name + ":" + p.Stamp, Deps: []string{build[0].Key, "repository"},
			Spec: provider.MustSpec(imageSpec{base: s, Repository: p.Name, Tag: p.Stamp, Local: build[0].Name})},
	)
	return out, nil
}

// repositoryHandler manages an ECR repository. A repository that exists
// without cld's tags for this container is borrowed: used, never deleted.
type repositoryHandler struct{ t *Target }

var _ provider.Borrowed = repositoryHandler{}

// Borrowed: the repository existed before cld was asked to make it.
func (repositoryHandler) Borrowed(el *provider.Element) bool {
	return el.Outputs["Owner"] == "external"
}

func (h repositoryHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{req.Element.Name}})
	if hasCode(err, "RepositoryNotFoundException") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if len(out.Repositories) == 0 {
		return provider.Observation{}, nil
	}
	r := out.Repositories[0]
	arn := aws.ToString(r.RepositoryArn)
	owner := "external"
	tags, err := c.ECR().ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	tm := map[string]string{}
	for _, t := range tags.Tags {
		tm[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if tm[provider.LabelManagedBy] == provider.ManagedByValue && tm[provider.LabelContainer] == req.Element.Labels[provider.LabelContainer] {
		owner = "cld"
	}
	return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{
		"RepositoryUri": aws.ToString(r.RepositoryUri), "RepositoryArn": arn, "RegistryId": aws.ToString(r.RegistryId), "Owner": owner,
	}}, nil
}

func (h repositoryHandler) Create(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	var tags []ecrtypes.Tag
	m := tagMap(req.Element)
	for _, k := range sortedKeys(m) {
		tags = append(tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	_, err = c.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(req.Element.Name), Tags: tags,
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true},
	})
	if hasCode(err, "RepositoryAlreadyExistsException") {
		return nil
	}
	if err == nil {
		req.Say("ECR repository %s in %s", req.Element.Name, s.AWS.Region)
	}
	return classify(err)
}

func (h repositoryHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	obs, err := h.Observe(ctx, req)
	if err != nil || !obs.Exists || obs.Outputs["Owner"] != "cld" {
		return err // never delete a repository cld did not make
	}
	_, err = c.ECR().DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(req.Element.Name), Force: true})
	if err != nil && !hasCode(err, "RepositoryNotFoundException") {
		return classify(err)
	}
	return nil
}

// imageSpec is a push of a locally built image to a repository.
type imageSpec struct {
	base
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Local      string `json:"local"` // the local image's name:tag
}

// imageHandler tags the local image with the repository's URI and pushes
// it through the Docker Engine API with GetAuthorizationToken credentials.
type imageHandler struct{ t *Target }

var _ provider.Waiter = imageHandler{}

func (imageHandler) ReadyTimeout(*provider.Element) time.Duration { return 2 * time.Minute }

func (h imageHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var is imageSpec
	c, err := h.t.decode(ctx, req.Element, &is)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(is.Repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(is.Tag)}}})
	if hasCode(err, "ImageNotFoundException", "RepositoryNotFoundException") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if len(out.ImageDetails) == 0 {
		return provider.Observation{}, nil
	}
	d := out.ImageDetails[0]
	uri, err := repositoryURI(ctx, c, is.Repository)
	if err != nil {
		return provider.Observation{}, err
	}
	digest := aws.ToString(d.ImageDigest)
	return provider.Observation{Exists: true, Ready: true, Ref: digest, Outputs: map[string]string{
		"Image": uri + ":" + is.Tag, "Digest": digest, "Repository": is.Repository, "Region": is.AWS.Region,
	}}, nil
}

func repositoryURI(ctx context.Context, c *clients, name string) (string, error) {
	out, err := c.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil {
		return "", classify(err)
	}
	if len(out.Repositories) == 0 {
		return "", fmt.Errorf("repository %s not found", name)
	}
	return aws.ToString(out.Repositories[0].RepositoryUri), nil
}

func (h imageHandler) Create(ctx context.Context, req *provider.Request) error {
	var is imageSpec
	c, err := h.t.decode(ctx, req.Element, &is)
	if err != nil {
		return err
	}
	dc, err := local.Engine()
	if err != nil {
		return err
	}
	uri, err := repositoryURI(ctx, c, is.Repository)
	if err != nil {
		return err
	}
	tok, err := c.ECR().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return classify(err)
	}
	if len(tok.AuthorizationData) == 0 {
		return provider.Permanent(errors.New("ECR returned no authorization data"))
	}
	ad := tok.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(ad.AuthorizationToken))
	if err != nil {
		return provider.Permanent(fmt.Errorf("ECR authorization token: %w", err))
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	server := aws.ToString(ad.ProxyEndpoint)
	server = strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	return local.Push(ctx, dc, is.Local, uri+":"+is.Tag, registry.AuthConfig{Username: user, Password: pass, ServerAddress: server}, req.Say)
}

func (h imageHandler) Delete(ctx context.Context, req *provider.Request) error {
	var is imageSpec
	c, err := h.t.decode(ctx, req.Element, &is)
	if err != nil {
		return err
	}
	_, err = c.ECR().BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(is.Repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(is.Tag)}}})
	if err != nil && !hasCode(err, "RepositoryNotFoundException") {
		return classify(err)
	}
	if dc, err := local.Engine(); err == nil {
		if uri, err := repositoryURI(ctx, c, is.Repository); err == nil {
			if _, err := dc.ImageRemove(ctx, uri+":"+is.Tag, image.RemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
				req.Say("local tag %s:%s: %v", uri, is.Tag, err)
			}
		}
	}
	return nil
}
