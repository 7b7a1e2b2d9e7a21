package fake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

type ecrState struct {
	repos map[string]*ecrRepo
}

type ecrRepo struct {
	name, arn, uri string
	created        time.Time
	mutability     ecrtypes.ImageTagMutability
	scanOnPush     bool
	tags           map[string]string
	images         []*ecrImage // pushed through the Go API (PutImage)
	lifecycle      string
	encryption     *ecrtypes.EncryptionConfiguration
}

type ecrImage struct {
	digest    string
	tags      []string
	pushed    time.Time
	size      int64
	mediaType string
	remote    bool // found in the registry
}

func (st *ecrState) inventory() []Resource {
	var out []Resource
	for _, r := range st.repos {
		out = append(out, Resource{Service: "ecr", Type: "repository", ID: r.arn, Name: r.name, Tags: copyTags(r.tags)})
	}
	return out
}

func (s *Server) registryHost(region string) string {
	if s.opts.RegistryHost != "" {
		return s.opts.RegistryHost
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com", s.opts.AccountID, region)
}

// PutImage records an image in a repository without a registry (for tests
// that run no docker registry).
func (s *Server) PutImage(region, repo, tag, digest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(region).ecr.repos[repo]
	if r == nil {
		return fmt.Errorf("repository %s does not exist", repo)
	}
	if digest == "" {
		digest = "sha256:" + randHexFrom(repo+":"+tag+time.Now().String(), 64)
	}
	for _, im := range r.images {
		im.tags = removeString(im.tags, tag)
	}
	for _, im := range r.images {
		if im.digest == digest {
			if tag != "" {
				im.tags = append(im.tags, tag)
			}
			return nil
		}
	}
	im := &ecrImage{digest: digest, pushed: time.Now(), size: 12345678, mediaType: "application/vnd.docker.distribution.manifest.v2+json"}
	if tag != "" {
		im.tags = []string{tag}
	}
	r.images = append(r.images, im)
	return nil
}

func removeString(list []string, v string) []string {
	var out []string
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// registry HTTP API (docker distribution), called without the state lock

var registryClient = &http.Client{Timeout: 3 * time.Second}

const manifestAccept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"

func (s *Server) registryRequest(method, path string, accept string) (*http.Response, error) {
	req, err := http.NewRequest(method, s.opts.RegistryScheme+"://"+s.opts.RegistryHost+path, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("AWS", s.opts.RegistryPassword)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return registryClient.Do(req)
}

// registryImages lists the images of a repository in the real registry.
func (s *Server) registryImages(repo string) []*ecrImage {
	if s.opts.RegistryHost == "" {
		return nil
	}
	resp, err := s.registryRequest("GET", "/v2/"+repo+"/tags/list", "")
	if err != nil {
		return nil
	}
	var tl struct {
		Tags []string `json:"tags"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tl)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	byDigest := map[string]*ecrImage{}
	var out []*ecrImage
	for _, tag := range tl.Tags {
		resp, err := s.registryRequest("GET", "/v2/"+repo+"/manifests/"+tag, manifestAccept)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			continue
		}
		digest := resp.Header.Get("Docker-Content-Digest")
		if digest == "" {
			digest = "sha256:" + fmt.Sprintf("%x", sha256sum(body))
		}
		im := byDigest[digest]
		if im == nil {
			im = &ecrImage{digest: digest, pushed: time.Now(), mediaType: resp.Header.Get("Content-Type"), remote: true}
			var m struct {
				Config struct {
					Size int64 `json:"size"`
				} `json:"config"`
				Layers []struct {
					Size int64 `json:"size"`
				} `json:"layers"`
			}
			if json.Unmarshal(body, &m) == nil {
				im.size = m.Config.Size
				for _, l := range m.Layers {
					im.size += l.Size
				}
			}
			byDigest[digest] = im
			out = append(out, im)
		}
		im.tags = append(im.tags, tag)
	}
	return out
}

func (s *Server) registryDelete(repo, digest string) {
	if s.opts.RegistryHost == "" {
		return
	}
	if resp, err := s.registryRequest("DELETE", "/v2/"+repo+"/manifests/"+digest, ""); err == nil {
		_ = resp.Body.Close()
	}
}

type ecrPre struct {
	remote []*ecrImage
}

func init() {
	fetch := func(s *Server, c *reqCtx) {
		if s.opts.RegistryHost == "" {
			return
		}
		var in struct{ RepositoryName string }
		_ = json.Unmarshal(c.body, &in)
		if in.RepositoryName != "" {
			c.extra = &ecrPre{remote: s.registryImages(in.RepositoryName)}
		}
	}
	for _, op := range []string{"ListImages", "DescribeImages", "BatchDeleteImage", "DeleteRepository"} {
		preHandlers["ecr."+op] = fetch
	}
	register("ecr", map[string]handlerFunc{
		"CreateRepository":      (*Server).ecrCreateRepository,
		"DescribeRepositories":  (*Server).ecrDescribeRepositories,
		"DeleteRepository":      (*Server).ecrDeleteRepository,
		"ListImages":            (*Server).ecrListImages,
		"DescribeImages":        (*Server).ecrDescribeImages,
		"BatchDeleteImage":      (*Server).ecrBatchDeleteImage,
		"GetAuthorizationToken": (*Server).ecrGetAuthorizationToken,
		"TagResource":           (*Server).ecrTagResource,
		"UntagResource":         (*Server).ecrUntagResource,
		"ListTagsForResource":   (*Server).ecrListTagsForResource,
		"PutLifecyclePolicy":    (*Server).ecrPutLifecyclePolicy,
		"GetLifecyclePolicy":    (*Server).ecrGetLifecyclePolicy,
		"DeleteLifecyclePolicy": (*Server).ecrDeleteLifecyclePolicy,
	})
}

var ecrNameRe = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func (s *Server) repoOut(c *reqCtx, r *ecrRepo) *ecrtypes.Repository {
	enc := r.encryption
	if enc == nil {
		enc = &ecrtypes.EncryptionConfiguration{EncryptionType: ecrtypes.EncryptionTypeAes256}
	}
	return &ecrtypes.Repository{RepositoryArn: ptr(r.arn), RegistryId: ptr(c.account()), RepositoryName: ptr(r.name), RepositoryUri: ptr(r.uri),
		CreatedAt: ptr(r.created), ImageTagMutability: r.mutability, ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: r.scanOnPush},
		EncryptionConfiguration: enc}
}

func (st *ecrState) repo(c *reqCtx, name string) (*ecrRepo, error) {
	r := st.repos[name]
	if r == nil {
		return nil, errorf("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, c.account())
	}
	return r, nil
}

func (s *Server) ecrCreateRepository(c *reqCtx) (any, error) {
	var in ecr.CreateRepositoryInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := str(in.RepositoryName)
	if len(name) < 2 || len(name) > 256 || !ecrNameRe.MatchString(name) {
		return nil, errorf("InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
	}
	st := c.rs.ecr
	if st.repos[name] != nil {
		return nil, errorf("RepositoryAlreadyExistsException", "The repository with name '%s' already exists in the registry with id '%s'", name, c.account())
	}
	r := &ecrRepo{name: name, arn: c.arn("ecr", "repository/"+name), uri: s.registryHost(c.region) + "/" + name, created: c.now,
		mutability: in.ImageTagMutability, tags: map[string]string{}, encryption: in.EncryptionConfiguration}
	if r.mutability == "" {
		r.mutability = ecrtypes.ImageTagMutabilityMutable
	}
	if in.ImageScanningConfiguration != nil {
		r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	for _, t := range in.Tags {
		r.tags[str(t.Key)] = str(t.Value)
	}
	st.repos[name] = r
	return &ecr.CreateRepositoryOutput{Repository: s.repoOut(c, r)}, nil
}

func (s *Server) ecrDescribeRepositories(c *reqCtx) (any, error) {
	var in ecr.DescribeRepositoriesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ecr.DescribeRepositoriesOutput{Repositories: []ecrtypes.Repository{}}
	if len(in.RepositoryNames) > 0 {
		for _, n := range in.RepositoryNames {
			r, err := c.rs.ecr.repo(c, n)
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, *s.repoOut(c, r))
		}
		return out, nil
	}
	for _, n := range sortedKeys(c.rs.ecr.repos) {
		out.Repositories = append(out.Repositories, *s.repoOut(c, c.rs.ecr.repos[n]))
	}
	return out, nil
}

// images merges locally recorded and registry images.
func (c *reqCtx) ecrImages(r *ecrRepo) []*ecrImage {
	out := append([]*ecrImage(nil), r.images...)
	if pre, ok := c.extra.(*ecrPre); ok {
		for _, im := range pre.remote {
			dup := false
			for _, l := range out {
				dup = dup || l.digest == im.digest
			}
			if !dup {
				out = append(out, im)
			}
		}
	}
	return out
}

func (s *Server) ecrDeleteRepository(c *reqCtx) (any, error) {
	var in ecr.DeleteRepositoryInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	imgs := c.ecrImages(r)
	if len(imgs) > 0 && !in.Force {
		return nil, errorf("RepositoryNotEmptyException", "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", r.name, c.account())
	}
	for _, im := range imgs {
		if im.remote {
			go s.registryDelete(r.name, im.digest)
		}
	}
	delete(c.rs.ecr.repos, r.name)
	return &ecr.DeleteRepositoryOutput{Repository: s.repoOut(c, r)}, nil
}

func (s *Server) ecrListImages(c *reqCtx) (any, error) {
	var in ecr.ListImagesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	out := &ecr.ListImagesOutput{ImageIds: []ecrtypes.ImageIdentifier{}}
	status := ecrtypes.TagStatusAny
	if in.Filter != nil && in.Filter.TagStatus != "" {
		status = in.Filter.TagStatus
	}
	for _, im := range c.ecrImages(r) {
		if len(im.tags) == 0 {
			if status != ecrtypes.TagStatusTagged {
				out.ImageIds = append(out.ImageIds, ecrtypes.ImageIdentifier{ImageDigest: ptr(im.digest)})
			}
			continue
		}
		if status == ecrtypes.TagStatusUntagged {
			continue
		}
		for _, t := range im.tags {
			out.ImageIds = append(out.ImageIds, ecrtypes.ImageIdentifier{ImageDigest: ptr(im.digest), ImageTag: ptr(t)})
		}
	}
	return out, nil
}

func matchImage(im *ecrImage, id ecrtypes.ImageIdentifier) bool {
	if id.ImageDigest != nil && *id.ImageDigest != im.digest {
		return false
	}
	if id.ImageTag != nil && !contains(im.tags, *id.ImageTag) {
		return false
	}
	return id.ImageDigest != nil || id.ImageTag != nil
}

func imageIDString(id ecrtypes.ImageIdentifier) string {
	d, t := "null", "null"
	if id.ImageDigest != nil {
		d = "'" + *id.ImageDigest + "'"
	}
	if id.ImageTag != nil {
		t = "'" + *id.ImageTag + "'"
	}
	return fmt.Sprintf("{imageDigest:%s, imageTag:%s}", d, t)
}

func (s *Server) ecrDescribeImages(c *reqCtx) (any, error) {
	var in ecr.DescribeImagesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	imgs := c.ecrImages(r)
	detail := func(im *ecrImage) ecrtypes.ImageDetail {
		tags := append([]string{}, im.tags...)
		sort.Strings(tags)
		return ecrtypes.ImageDetail{RegistryId: ptr(c.account()), RepositoryName: ptr(r.name), ImageDigest: ptr(im.digest), ImageTags: tags,
			ImageSizeInBytes: ptr(im.size), ImagePushedAt: ptr(im.pushed), ImageManifestMediaType: nilIfEmpty(im.mediaType),
			ArtifactMediaType: ptr("application/vnd.docker.container.image.v1+json"), ImageStatus: ecrtypes.ImageStatusActive}
	}
	out := &ecr.DescribeImagesOutput{ImageDetails: []ecrtypes.ImageDetail{}}
	if len(in.ImageIds) > 0 {
		for _, id := range in.ImageIds {
			var found *ecrImage
			for _, im := range imgs {
				if matchImage(im, id) {
					found = im
				}
			}
			if found == nil {
				return nil, errorf("ImageNotFoundException", "The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", imageIDString(id), r.name, c.account())
			}
			out.ImageDetails = append(out.ImageDetails, detail(found))
		}
		return out, nil
	}
	for _, im := range imgs {
		if in.Filter != nil && in.Filter.TagStatus == ecrtypes.TagStatusTagged && len(im.tags) == 0 ||
			in.Filter != nil && in.Filter.TagStatus == ecrtypes.TagStatusUntagged && len(im.tags) > 0 {
			continue
		}
		out.ImageDetails = append(out.ImageDetails, detail(im))
	}
	return out, nil
}

func (s *Server) ecrBatchDeleteImage(c *reqCtx) (any, error) {
	var in ecr.BatchDeleteImageInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	imgs := c.ecrImages(r)
	out := &ecr.BatchDeleteImageOutput{ImageIds: []ecrtypes.ImageIdentifier{}, Failures: []ecrtypes.ImageFailure{}}
	for _, id := range in.ImageIds {
		var found *ecrImage
		for _, im := range imgs {
			if matchImage(im, id) {
				found = im
			}
		}
		if found == nil {
			out.Failures = append(out.Failures, ecrtypes.ImageFailure{ImageId: &ecrtypes.ImageIdentifier{ImageDigest: id.ImageDigest, ImageTag: id.ImageTag},
				FailureCode: ecrtypes.ImageFailureCodeImageNotFound, FailureReason: ptr("Requested image not found")})
			continue
		}
		if found.remote {
			go s.registryDelete(r.name, found.digest)
		}
		for i, im := range r.images {
			if im == found {
				r.images = append(r.images[:i], r.images[i+1:]...)
				break
			}
		}
		for _, t := range found.tags {
			out.ImageIds = append(out.ImageIds, ecrtypes.ImageIdentifier{ImageDigest: ptr(found.digest), ImageTag: ptr(t)})
		}
		if len(found.tags) == 0 {
			out.ImageIds = append(out.ImageIds, ecrtypes.ImageIdentifier{ImageDigest: ptr(found.digest)})
		}
	}
	return out, nil
}

func (s *Server) ecrGetAuthorizationToken(c *reqCtx) (any, error) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + s.opts.RegistryPassword))
	proxy := "https://" + s.registryHost(c.region)
	if s.opts.RegistryHost != "" {
		proxy = s.opts.RegistryScheme + "://" + s.opts.RegistryHost
	}
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{
		AuthorizationToken: ptr(token), ExpiresAt: ptr(c.now.Add(12 * time.Hour)), ProxyEndpoint: ptr(proxy),
	}}}, nil
}

func (st *ecrState) repoByArn(c *reqCtx, arn string) (*ecrRepo, error) {
	for _, r := range st.repos {
		if r.arn == arn {
			return r, nil
		}
	}
	name := arn
	if i := strings.Index(arn, ":repository/"); i >= 0 {
		name = arn[i+len(":repository/"):]
	}
	return nil, errorf("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, c.account())
}

func (s *Server) ecrTagResource(c *reqCtx) (any, error) {
	var in ecr.TagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repoByArn(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		r.tags[str(t.Key)] = str(t.Value)
	}
	return &ecr.TagResourceOutput{}, nil
}

func (s *Server) ecrUntagResource(c *reqCtx) (any, error) {
	var in ecr.UntagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repoByArn(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.tags, k)
	}
	return &ecr.UntagResourceOutput{}, nil
}

func (s *Server) ecrListTagsForResource(c *reqCtx) (any, error) {
	var in ecr.ListTagsForResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repoByArn(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	out := &ecr.ListTagsForResourceOutput{Tags: []ecrtypes.Tag{}}
	for _, k := range sortedKeys(r.tags) {
		out.Tags = append(out.Tags, ecrtypes.Tag{Key: ptr(k), Value: ptr(r.tags[k])})
	}
	return out, nil
}

func (s *Server) ecrPutLifecyclePolicy(c *reqCtx) (any, error) {
	var in ecr.PutLifecyclePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	if !json.Valid([]byte(str(in.LifecyclePolicyText))) {
		return nil, errorf("InvalidParameterException", "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: Could not map policyString into LifecyclePolicy.'")
	}
	r.lifecycle = str(in.LifecyclePolicyText)
	return &ecr.PutLifecyclePolicyOutput{RegistryId: ptr(c.account()), RepositoryName: ptr(r.name), LifecyclePolicyText: ptr(r.lifecycle)}, nil
}

func (s *Server) ecrGetLifecyclePolicy(c *reqCtx) (any, error) {
	var in ecr.GetLifecyclePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	if r.lifecycle == "" {
		return nil, errorf("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.name, c.account())
	}
	return &ecr.GetLifecyclePolicyOutput{RegistryId: ptr(c.account()), RepositoryName: ptr(r.name), LifecyclePolicyText: ptr(r.lifecycle), LastEvaluatedAt: ptr(c.now)}, nil
}

func (s *Server) ecrDeleteLifecyclePolicy(c *reqCtx) (any, error) {
	var in ecr.DeleteLifecyclePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := c.rs.ecr.repo(c, str(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	if r.lifecycle == "" {
		return nil, errorf("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.name, c.account())
	}
	text := r.lifecycle
	r.lifecycle = ""
	return &ecr.DeleteLifecyclePolicyOutput{RegistryId: ptr(c.account()), RepositoryName: ptr(r.name), LifecyclePolicyText: ptr(text)}, nil
}

// ecrPullFailure: a task image that points at this fake's registry host but
// at a repository that does not exist cannot be pulled.
func (s *Server) ecrPullFailure(rs *regionState, image string) string {
	host := s.registryHost(rs.name)
	if !strings.HasPrefix(image, host+"/") {
		return ""
	}
	ref := strings.TrimPrefix(image, host+"/")
	name := ref
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	} else if i := strings.LastIndex(name, ":"); i >= 0 {
		name = name[:i]
	}
	if rs.ecr.repos[name] != nil {
		return ""
	}
	return fmt.Sprintf("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref %s: %s: not found", image, image)
}
