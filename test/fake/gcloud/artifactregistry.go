package gcloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	artifactregistry "google.golang.org/api/artifactregistry/v1"
	"google.golang.org/api/googleapi"
)

var (
	repoIDRe      = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$`)
	repoFormats   = map[string]bool{"DOCKER": true, "MAVEN": true, "NPM": true, "PYTHON": true, "APT": true, "YUM": true, "GO": true, "GENERIC": true, "KFP": true}
	multiRegions  = map[string]bool{"us": true, "europe": true, "asia": true}
	arMetaType    = "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata"
	arRepoType    = "type.googleapis.com/google.devtools.artifactregistry.v1.Repository"
	emptyType     = "type.googleapis.com/google.protobuf.Empty"
	dockerV2Media = "application/vnd.docker.distribution.manifest.v2+json"
)

type repo struct {
	project, location, id string
	r                     *artifactregistry.Repository
	visible               bool
	deleting              bool
	images                map[string]*arImage // pkg@digest, pushed with PushImage
	hidden                map[string]bool     // pkg@digest of registry images deleted through the API
}

// arImage is one docker manifest in a repository.
type arImage struct {
	pkg      string // image path inside the repository, e.g. "web" or "team/web"
	digest   string
	tags     []string
	size     int64
	media    string
	uploaded time.Time
	registry bool // read from the docker registry
}

func (r *repo) fullName() string {
	return "projects/" + r.project + "/locations/" + r.location + "/repositories/" + r.id
}

func (s *Server) dockerHost(location string) string {
	if s.opts.RegistryHost != "" {
		return s.opts.RegistryHost
	}
	return location + "-docker.pkg.dev"
}

func init() {
	repos := "projects/{project}/locations/{location}/repositories"
	pkgs := repos + "/{repository}/packages"
	register(ArtifactRegistry, map[string]handler{
		"POST " + repos + " projects.locations.repositories.create":                (*call).repoCreate,
		"GET " + repos + " projects.locations.repositories.list":                   (*call).repoList,
		"GET " + repos + "/{repository} projects.locations.repositories.get":       (*call).repoGet,
		"PATCH " + repos + "/{repository} projects.locations.repositories.patch":   (*call).repoPatch,
		"DELETE " + repos + "/{repository} projects.locations.repositories.delete": (*call).repoDelete,

		"GET " + repos + "/{repository}/dockerImages projects.locations.repositories.dockerImages.list":              (*call).dockerImagesList,
		"GET " + repos + "/{repository}/dockerImages/{dockerImage} projects.locations.repositories.dockerImages.get": (*call).dockerImagesGet,

		"GET " + pkgs + " projects.locations.repositories.packages.list":                                            (*call).packagesList,
		"GET " + pkgs + "/{package} projects.locations.repositories.packages.get":                                   (*call).packagesGet,
		"DELETE " + pkgs + "/{package} projects.locations.repositories.packages.delete":                             (*call).packagesDelete,
		"GET " + pkgs + "/{package}/versions projects.locations.repositories.packages.versions.list":                (*call).versionsList,
		"DELETE " + pkgs + "/{package}/versions/{version} projects.locations.repositories.packages.versions.delete": (*call).versionsDelete,
		"GET " + pkgs + "/{package}/tags projects.locations.repositories.packages.tags.list":                        (*call).tagsList,

		"GET projects/{project}/locations/{location}/operations/{operation} projects.locations.operations.get": (*call).arOpGet,
	})
}

// ---------------------------------------------------------------------------
// operations

func (c *call) arOp(d time.Duration) *op {
	o := c.s.newOp(c, "", d)
	o.project = c.v("project")
	o.scope = c.v("location")
	o.name = "projects/" + o.project + "/locations/" + o.scope + "/operations/" + newUUID()
	if o.failMsg != "" {
		o.failCode = "INTERNAL"
	}
	return o
}

func withType(v any, typ string) googleapi.RawMessage {
	m := map[string]any{}
	if v != nil {
		b, _ := json.Marshal(v)
		_ = json.Unmarshal(b, &m)
	}
	m["@type"] = typ
	b, _ := json.Marshal(m)
	return b
}

func (s *Server) renderAROp(o *op) *artifactregistry.Operation {
	out := &artifactregistry.Operation{Name: o.name, Done: o.done, Metadata: withType(nil, arMetaType)}
	switch {
	case o.failed():
		out.Error = &artifactregistry.Status{Code: grpcCode(o.failCode), Message: o.failMsg}
	case o.done:
		if o.response != nil {
			out.Response = withType(o.response, arRepoType)
		} else {
			out.Response = withType(nil, emptyType)
		}
	}
	return out
}

func (c *call) arOpGet() (any, error) {
	name := "projects/" + c.v("project") + "/locations/" + c.v("location") + "/operations/" + c.v("operation")
	o := c.s.lookupOp(ArtifactRegistry, name)
	if o == nil {
		return nil, errf(404, "notFound", "Operation %s not found.", name)
	}
	return c.s.renderAROp(o), nil
}

// ---------------------------------------------------------------------------
// repositories

func repoNotFound() error {
	return errf(404, "notFound", "Requested entity was not found.")
}

func (c *call) findRepo() (*repo, error) {
	r := c.s.st.repos[c.v("project")+"/"+c.v("location")+"/"+c.v("repository")]
	if r == nil || !r.visible {
		return nil, repoNotFound()
	}
	return r, nil
}

func (c *call) repoCreate() (any, error) {
	var in artifactregistry.Repository
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, loc := c.v("project"), c.v("location")
	id := c.query.Get("repositoryId")
	if id == "" {
		return nil, errf(400, "invalid", "repository_id is required.")
	}
	if !repoIDRe.MatchString(id) {
		return nil, errf(400, "invalid", "Invalid repository ID %q: must start with a lowercase letter and contain only lowercase letters, numbers and hyphens (at most 63).", id)
	}
	if !regionRe.MatchString(loc) && !multiRegions[loc] {
		return nil, errf(400, "invalid", "Invalid location %q.", loc)
	}
	if !repoFormats[in.Format] {
		return nil, errf(400, "invalid", "Invalid repository format %q.", in.Format)
	}
	key := p + "/" + loc + "/" + id
	if c.s.st.repos[key] != nil {
		return nil, errf(409, "alreadyExists", "the repository already exists")
	}
	r := &artifactregistry.Repository{
		Name:                "projects/" + p + "/locations/" + loc + "/repositories/" + id,
		Format:              in.Format,
		Description:         in.Description,
		Labels:              cloneLabels(in.Labels),
		Mode:                orDefault(in.Mode, "STANDARD_REPOSITORY"),
		CreateTime:          rfc3339(c.now),
		UpdateTime:          rfc3339(c.now),
		DockerConfig:        in.DockerConfig,
		CleanupPolicies:     in.CleanupPolicies,
		CleanupPolicyDryRun: in.CleanupPolicyDryRun,
		KmsKeyName:          in.KmsKeyName,
	}
	if in.Format == "DOCKER" {
		r.RegistryUri = c.s.dockerHost(loc) + "/" + p + "/" + id
	}
	st := &repo{project: p, location: loc, id: id, r: r, images: map[string]*arImage{}, hidden: map[string]bool{}}
	c.s.st.repos[key] = st
	o := c.arOp(c.s.opts.RepositoryDuration)
	o.targetLink = r.Name
	o.onDone = func(failed bool) {
		if failed {
			delete(c.s.st.repos, key)
			return
		}
		st.visible = true
		o.response = r
	}
	c.s.startOp(o)
	return c.s.renderAROp(o), nil
}

func (c *call) renderRepo(r *repo, images []arImage) *artifactregistry.Repository {
	out := *r.r
	out.SizeBytes = 0
	for _, im := range images {
		out.SizeBytes += im.size
	}
	return &out
}

func (c *call) repoGet() (any, error) {
	r, err := c.findRepo()
	if err != nil {
		return nil, err
	}
	return c.renderRepo(r, c.s.repoImages(r, nil)), nil
}

func (c *call) repoList() (any, error) {
	out := &artifactregistry.ListRepositoriesResponse{Repositories: []*artifactregistry.Repository{}}
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, errf(400, "invalid", "Invalid filter: %v", err)
	}
	for _, k := range sortedKeys(c.s.st.repos) {
		r := c.s.st.repos[k]
		if r.visible && r.project == c.v("project") && (r.location == c.v("location") || c.v("location") == "-") {
			rr := c.renderRepo(r, c.s.repoImages(r, nil))
			if matchFilter(terms, rr) {
				out.Repositories = append(out.Repositories, rr)
			}
		}
	}
	return out, nil
}

func (c *call) repoPatch() (any, error) {
	r, err := c.findRepo()
	if err != nil {
		return nil, err
	}
	var in artifactregistry.Repository
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	mask := c.query.Get("updateMask")
	raw := c.rawBody()
	fields := map[string]bool{}
	if mask == "" {
		for k := range raw {
			fields[k] = true
		}
	} else {
		for _, f := range strings.Split(mask, ",") {
			fields[strings.TrimSpace(f)] = true
		}
	}
	for f := range fields {
		switch f {
		case "labels":
			r.r.Labels = cloneLabels(in.Labels)
		case "description":
			r.r.Description = in.Description
		case "cleanup_policies", "cleanupPolicies":
			r.r.CleanupPolicies = in.CleanupPolicies
		case "cleanup_policy_dry_run", "cleanupPolicyDryRun":
			r.r.CleanupPolicyDryRun = in.CleanupPolicyDryRun
		case "docker_config", "dockerConfig":
			r.r.DockerConfig = in.DockerConfig
		case "name", "format", "createTime", "updateTime", "registryUri", "mode", "sizeBytes":
			// output-only or immutable: ignored as Google does for the body
		default:
			return nil, errf(400, "invalid", "Invalid update_mask path %q.", f)
		}
	}
	r.r.UpdateTime = rfc3339(c.now)
	return c.renderRepo(r, c.s.repoImages(r, nil)), nil
}

// withRegistry runs fn under the lock after reading the docker registry
// (without the lock); fn gets the snapshot.
func (c *call) withRegistry(fn func(snap []regImage) (any, error)) (any, error) {
	snap := c.s.registrySnapshot()
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.now = time.Now()
	c.s.advance(c.now)
	out, err := fn(snap)
	if err != nil || out == nil {
		return out, err
	}
	b, mErr := json.Marshal(out)
	if mErr != nil {
		return nil, mErr
	}
	return json.RawMessage(b), nil
}

func (c *call) repoDelete() (any, error) {
	var toDelete []regImage
	out, err := c.withRegistry(func(snap []regImage) (any, error) {
		r, err := c.findRepo()
		if err != nil {
			return nil, err
		}
		if r.deleting {
			return nil, errf(400, "failedPrecondition", "Repository %s is being deleted.", r.fullName()).withStatus("FAILED_PRECONDITION")
		}
		for _, im := range c.s.repoImages(r, snap) {
			if im.registry {
				toDelete = append(toDelete, regImage{name: r.project + "/" + r.id + "/" + im.pkg, digest: im.digest})
			}
		}
		r.deleting = true
		key := r.project + "/" + r.location + "/" + r.id
		o := c.arOp(c.s.opts.RepositoryDuration)
		o.targetLink = r.r.Name
		o.onDone = func(failed bool) {
			r.deleting = false
			if !failed {
				delete(c.s.st.repos, key)
			}
		}
		c.s.startOp(o)
		if o.failMsg != "" {
			toDelete = nil
		}
		return c.s.renderAROp(o), nil
	})
	if err == nil {
		c.s.registryDelete(toDelete)
	}
	return out, err
}

// repoImages lists a repository's images: those pushed with PushImage and,
// with a registry, those the registry has under project/repo/.
func (s *Server) repoImages(r *repo, snap []regImage) []arImage {
	var out []arImage
	for _, k := range sortedKeys(r.images) {
		out = append(out, *r.images[k])
	}
	prefix := r.project + "/" + r.id + "/"
	for _, im := range snap {
		if !strings.HasPrefix(im.name, prefix) {
			continue
		}
		pkg := strings.TrimPrefix(im.name, prefix)
		if r.hidden[pkg+"@"+im.digest] {
			continue
		}
		out = append(out, arImage{pkg: pkg, digest: im.digest, tags: im.tags, size: im.size, media: im.media, registry: true})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].pkg != out[j].pkg {
			return out[i].pkg < out[j].pkg
		}
		return out[i].digest < out[j].digest
	})
	return out
}

// ---------------------------------------------------------------------------
// docker images, packages, versions, tags

func (s *Server) renderDockerImage(r *repo, im arImage) *artifactregistry.DockerImage {
	t := im.uploaded
	if t.IsZero() {
		t = time.Now()
	}
	return &artifactregistry.DockerImage{
		Name:           r.fullName() + "/dockerImages/" + url.PathEscape(im.pkg) + "@" + im.digest,
		Uri:            s.dockerHost(r.location) + "/" + r.project + "/" + r.id + "/" + im.pkg + "@" + im.digest,
		Tags:           append([]string(nil), im.tags...),
		ImageSizeBytes: im.size,
		MediaType:      orDefault(im.media, dockerV2Media),
		UploadTime:     rfc3339(t),
		BuildTime:      rfc3339(t),
		UpdateTime:     rfc3339(t),
	}
}

func (c *call) dockerImagesList() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, err := c.findRepo()
		if err != nil {
			return nil, err
		}
		out := &artifactregistry.ListDockerImagesResponse{DockerImages: []*artifactregistry.DockerImage{}}
		for _, im := range c.s.repoImages(r, snap) {
			out.DockerImages = append(out.DockerImages, c.s.renderDockerImage(r, im))
		}
		return out, nil
	})
}

func (c *call) dockerImagesGet() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, err := c.findRepo()
		if err != nil {
			return nil, err
		}
		want := c.nameVar("dockerImage")
		pkg, ref, _ := strings.Cut(want, "@")
		for _, im := range c.s.repoImages(r, snap) {
			if im.pkg == pkg && (im.digest == ref || contains(im.tags, ref)) {
				return c.s.renderDockerImage(r, im), nil
			}
		}
		return nil, repoNotFound()
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *repo) pkgName(pkg string) string {
	return r.fullName() + "/packages/" + url.PathEscape(pkg)
}

func (c *call) packagesList() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, err := c.findRepo()
		if err != nil {
			return nil, err
		}
		out := &artifactregistry.ListPackagesResponse{Packages: []*artifactregistry.Package{}}
		seen := map[string]bool{}
		for _, im := range c.s.repoImages(r, snap) {
			if seen[im.pkg] {
				continue
			}
			seen[im.pkg] = true
			t := rfc3339(orNow(im.uploaded))
			out.Packages = append(out.Packages, &artifactregistry.Package{Name: r.pkgName(im.pkg), DisplayName: im.pkg, CreateTime: t, UpdateTime: t})
		}
		return out, nil
	})
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func (c *call) pkgImages(snap []regImage) (*repo, []arImage, error) {
	r, err := c.findRepo()
	if err != nil {
		return nil, nil, err
	}
	var out []arImage
	for _, im := range c.s.repoImages(r, snap) {
		if im.pkg == c.nameVar("package") {
			out = append(out, im)
		}
	}
	if len(out) == 0 {
		return nil, nil, repoNotFound()
	}
	return r, out, nil
}

func (c *call) packagesGet() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, ims, err := c.pkgImages(snap)
		if err != nil {
			return nil, err
		}
		t := rfc3339(orNow(ims[0].uploaded))
		return &artifactregistry.Package{Name: r.pkgName(ims[0].pkg), DisplayName: ims[0].pkg, CreateTime: t, UpdateTime: t}, nil
	})
}

func (c *call) versionsList() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, ims, err := c.pkgImages(snap)
		if err != nil {
			return nil, err
		}
		out := &artifactregistry.ListVersionsResponse{Versions: []*artifactregistry.Version{}}
		for _, im := range ims {
			vn := r.pkgName(im.pkg) + "/versions/" + im.digest
			v := &artifactregistry.Version{Name: vn, CreateTime: rfc3339(orNow(im.uploaded)), UpdateTime: rfc3339(orNow(im.uploaded))}
			for _, t := range im.tags {
				v.RelatedTags = append(v.RelatedTags, &artifactregistry.Tag{Name: r.pkgName(im.pkg) + "/tags/" + t, Version: vn})
			}
			out.Versions = append(out.Versions, v)
		}
		return out, nil
	})
}

func (c *call) tagsList() (any, error) {
	return c.withRegistry(func(snap []regImage) (any, error) {
		r, ims, err := c.pkgImages(snap)
		if err != nil {
			return nil, err
		}
		out := &artifactregistry.ListTagsResponse{Tags: []*artifactregistry.Tag{}}
		for _, im := range ims {
			for _, t := range im.tags {
				out.Tags = append(out.Tags, &artifactregistry.Tag{Name: r.pkgName(im.pkg) + "/tags/" + t,
					Version: r.pkgName(im.pkg) + "/versions/" + im.digest})
			}
		}
		return out, nil
	})
}

func (c *call) packagesDelete() (any, error) { return c.deleteImages(false) }
func (c *call) versionsDelete() (any, error) { return c.deleteImages(true) }

// deleteImages deletes a package (every version) or one version.
func (c *call) deleteImages(version bool) (any, error) {
	var toDelete []regImage
	out, err := c.withRegistry(func(snap []regImage) (any, error) {
		r, ims, err := c.pkgImages(snap)
		if err != nil {
			return nil, err
		}
		if version {
			var sel []arImage
			for _, im := range ims {
				if im.digest == c.nameVar("version") {
					sel = append(sel, im)
				}
			}
			if len(sel) == 0 {
				return nil, repoNotFound()
			}
			if len(sel[0].tags) > 0 && c.query.Get("force") != "true" {
				return nil, errf(400, "failedPrecondition", "Version %s has tags; delete them first or set force.", c.nameVar("version")).withStatus("FAILED_PRECONDITION")
			}
			ims = sel
		}
		o := c.arOp(c.s.opts.RepositoryDuration)
		o.targetLink = r.pkgName(ims[0].pkg)
		o.onDone = func(failed bool) {
			if failed {
				return
			}
			for _, im := range ims {
				delete(r.images, im.pkg+"@"+im.digest)
				if im.registry {
					r.hidden[im.pkg+"@"+im.digest] = true
				}
			}
		}
		c.s.startOp(o)
		if o.failMsg == "" {
			for _, im := range ims {
				if im.registry {
					toDelete = append(toDelete, regImage{name: r.project + "/" + r.id + "/" + im.pkg, digest: im.digest})
				}
			}
		}
		return c.s.renderAROp(o), nil
	})
	if err == nil {
		c.s.registryDelete(toDelete)
	}
	return out, err
}

// PushImage records a docker image in a repository as if it had been
// pushed (for tests without a registry) and returns its digest. The
// repository must exist.
func (s *Server) PushImage(project, location, repository, image string, sizeBytes int64, tags ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.advance(now)
	r := s.st.repos[project+"/"+location+"/"+repository]
	if r == nil || !r.visible {
		return "", fmt.Errorf("repository projects/%s/locations/%s/repositories/%s not found", project, location, repository)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%s/%d/%v", r.fullName(), image, randHex(16), now.UnixNano(), tags)))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	// a pushed tag moves from any other digest of the image
	for _, im := range r.images {
		if im.pkg != image {
			continue
		}
		var keep []string
		for _, t := range im.tags {
			if !contains(tags, t) {
				keep = append(keep, t)
			}
		}
		im.tags = keep
	}
	r.images[image+"@"+digest] = &arImage{pkg: image, digest: digest, tags: append([]string(nil), tags...),
		size: sizeBytes, media: dockerV2Media, uploaded: now}
	return digest, nil
}
