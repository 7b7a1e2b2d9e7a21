package gcloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	artifactregistry "google.golang.org/api/artifactregistry/v1"
)

// miniRegistry is the part of the docker registry HTTP API the fake reads:
// catalog, tags, manifest HEAD and DELETE.
type miniRegistry struct {
	mu        sync.Mutex
	manifests map[string]map[string]string // name -> tag -> digest
}

func (m *miniRegistry) push(name, tag string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	sum := sha256.Sum256([]byte(name + ":" + tag))
	d := "sha256:" + hex.EncodeToString(sum[:])
	if m.manifests[name] == nil {
		m.manifests[name] = map[string]string{}
	}
	m.manifests[name][tag] = d
	return d
}

func (m *miniRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	switch {
	case p == "_catalog":
		var names []string
		for n, tags := range m.manifests {
			if len(tags) > 0 {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		_ = json.NewEncoder(w).Encode(map[string]any{"repositories": names})
	case strings.HasSuffix(p, "/tags/list"):
		name := strings.TrimSuffix(p, "/tags/list")
		var tags []string
		for t := range m.manifests[name] {
			tags = append(tags, t)
		}
		if tags == nil {
			http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, 404)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "tags": tags})
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		name, ref := p[:i], p[i+len("/manifests/"):]
		ref, _ = url.PathUnescape(ref)
		switch r.Method {
		case http.MethodHead:
			d, ok := m.manifests[name][ref]
			if !ok {
				w.WriteHeader(404)
				return
			}
			w.Header().Set("Docker-Content-Digest", d)
			w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
			w.Header().Set("Content-Length", "1234")
		case http.MethodDelete:
			found := false
			for t, d := range m.manifests[name] {
				if d == ref {
					delete(m.manifests[name], t)
					found = true
				}
			}
			if !found {
				w.WriteHeader(404)
				return
			}
			w.WriteHeader(202)
		}
	default:
		w.WriteHeader(404)
	}
}

func TestArtifactRegistryLifecycle(t *testing.T) {
	reg := &miniRegistry{manifests: map[string]map[string]string{}}
	rs := httptest.NewServer(reg)
	defer rs.Close()
	host := strings.TrimPrefix(rs.URL, "http://")

	s := newFake(t, Options{RegistryHost: host, RepositoryDuration: 150 * time.Millisecond})
	ctx := testCtx(t)
	svc := arClient(t, ctx, s.ArtifactRegistryURL())
	parent := "projects/" + project + "/locations/" + region

	op, err := svc.Projects.Locations.Repositories.Create(parent, &artifactregistry.Repository{
		Format: "DOCKER", Description: "cld images", Labels: map[string]string{"managed-by": "cld"},
	}).RepositoryId("cld").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Done || !strings.HasPrefix(op.Name, parent+"/operations/") {
		t.Fatalf("create op = %+v", op)
	}
	_, err = svc.Projects.Locations.Repositories.Get(parent + "/repositories/cld").Do()
	gerr(t, err, 404, "notFound")
	_, err = svc.Projects.Locations.Repositories.Create(parent, &artifactregistry.Repository{Format: "DOCKER"}).RepositoryId("cld").Do()
	gerr(t, err, 409, "alreadyExists")
	_, err = svc.Projects.Locations.Repositories.Create(parent, &artifactregistry.Repository{Format: "DOCKER"}).RepositoryId("Bad").Do()
	gerr(t, err, 400, "invalid")

	op = waitAR(t, svc, op)
	if op.Error != nil {
		t.Fatalf("create failed %+v", op.Error)
	}
	var created artifactregistry.Repository
	if err := json.Unmarshal(op.Response, &created); err != nil || created.Name != parent+"/repositories/cld" {
		t.Fatalf("op response %s: %v", op.Response, err)
	}
	repo, err := svc.Projects.Locations.Repositories.Get(parent + "/repositories/cld").Do()
	if err != nil {
		t.Fatal(err)
	}
	if repo.RegistryUri != host+"/cld-test/cld" || repo.Labels["managed-by"] != "cld" || repo.Format != "DOCKER" || repo.Mode != "STANDARD_REPOSITORY" {
		t.Fatalf("repo = %+v", repo)
	}
	list, err := svc.Projects.Locations.Repositories.List(parent).Do()
	if err != nil || len(list.Repositories) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	repo, err = svc.Projects.Locations.Repositories.Patch(parent+"/repositories/cld", &artifactregistry.Repository{
		Labels: map[string]string{"managed-by": "cld", "app": "web"}}).UpdateMask("labels").Do()
	if err != nil || repo.Labels["app"] != "web" {
		t.Fatalf("patch: %v %+v", err, repo)
	}

	// images: one pushed to the real registry, one recorded with PushImage
	d1 := reg.push("cld-test/cld/web", "v1")
	reg.push("cld-test/other/x", "v1") // another repository
	d2, err := s.PushImage(project, region, "cld", "team/api", 4096, "latest", "v2")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := svc.Projects.Locations.Repositories.DockerImages.List(parent + "/repositories/cld").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.DockerImages) != 2 {
		t.Fatalf("images = %+v", imgs.DockerImages)
	}
	byURI := map[string]*artifactregistry.DockerImage{}
	for _, im := range imgs.DockerImages {
		byURI[im.Uri] = im
	}
	web := byURI[host+"/cld-test/cld/web@"+d1]
	api := byURI[host+"/cld-test/cld/team/api@"+d2]
	if web == nil || api == nil || web.Tags[0] != "v1" || len(api.Tags) != 2 || !strings.Contains(api.Name, "/dockerImages/team%2Fapi@sha256:") {
		t.Fatalf("images = %+v", byURI)
	}
	im, err := svc.Projects.Locations.Repositories.DockerImages.Get(api.Name).Do()
	if err != nil || im.Uri != api.Uri {
		t.Fatalf("image get: %v %+v", err, im)
	}
	pkgs, err := svc.Projects.Locations.Repositories.Packages.List(parent + "/repositories/cld").Do()
	if err != nil || len(pkgs.Packages) != 2 {
		t.Fatalf("packages: %v %+v", err, pkgs)
	}
	tags, err := svc.Projects.Locations.Repositories.Packages.Tags.List(parent + "/repositories/cld/packages/team%2Fapi").Do()
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("tags: %v %+v", err, tags)
	}

	// inventory shows the repository and both images
	n := 0
	for _, r := range s.Inventory() {
		if r.API == ArtifactRegistry {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("inventory %+v", s.Inventory())
	}

	// deleting a package deletes its manifests in the registry
	dop, err := svc.Projects.Locations.Repositories.Packages.Delete(parent + "/repositories/cld/packages/web").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitAR(t, svc, dop)
	if len(reg.manifests["cld-test/cld/web"]) != 0 {
		t.Fatalf("registry still has web: %v", reg.manifests)
	}
	imgs, _ = svc.Projects.Locations.Repositories.DockerImages.List(parent + "/repositories/cld").Do()
	if len(imgs.DockerImages) != 1 {
		t.Fatalf("images after package delete = %d", len(imgs.DockerImages))
	}

	// deleting the repository deletes what is left
	reg.push("cld-test/cld/worker", "v1")
	dop, err = svc.Projects.Locations.Repositories.Delete(parent + "/repositories/cld").Do()
	if err != nil {
		t.Fatal(err)
	}
	if dop.Done {
		t.Fatal("delete done at once")
	}
	dop = waitAR(t, svc, dop)
	if dop.Error != nil || !strings.Contains(string(dop.Response), "google.protobuf.Empty") {
		t.Fatalf("delete op %+v %s", dop.Error, dop.Response)
	}
	if len(reg.manifests["cld-test/cld/worker"]) != 0 {
		t.Fatalf("registry still has worker: %v", reg.manifests)
	}
	_, err = svc.Projects.Locations.Repositories.Get(parent + "/repositories/cld").Do()
	gerr(t, err, 404, "notFound")
	_, err = svc.Projects.Locations.Operations.Get(parent + "/operations/nope").Do()
	gerr(t, err, 404, "notFound")
	assertEmptyInventory(t, s)
}

func TestArtifactRegistryDefaultHost(t *testing.T) {
	s := newFake(t, Options{RepositoryDuration: -1})
	ctx := testCtx(t)
	svc := arClient(t, ctx, s.ArtifactRegistryURL())
	parent := "projects/" + project + "/locations/europe-west1"
	op, err := svc.Projects.Locations.Repositories.Create(parent, &artifactregistry.Repository{Format: "DOCKER"}).RepositoryId("r").Do()
	if err != nil || !op.Done {
		t.Fatalf("create: %v %+v", err, op)
	}
	repo, err := svc.Projects.Locations.Repositories.Get(parent + "/repositories/r").Do()
	if err != nil || repo.RegistryUri != "europe-west1-docker.pkg.dev/cld-test/r" {
		t.Fatalf("repo: %v %+v", err, repo)
	}
	if _, err := s.PushImage(project, "europe-west1", "r", "app", 10, "v1"); err != nil {
		t.Fatal(err)
	}
	imgs, err := svc.Projects.Locations.Repositories.DockerImages.List(parent + "/repositories/r").Do()
	if err != nil || len(imgs.DockerImages) != 1 || !strings.HasPrefix(imgs.DockerImages[0].Uri, "europe-west1-docker.pkg.dev/cld-test/r/app@sha256:") {
		t.Fatalf("images: %v %+v", err, imgs)
	}
	op, err = svc.Projects.Locations.Repositories.Delete(parent + "/repositories/r").Do()
	if err != nil || !op.Done {
		t.Fatalf("delete: %v %+v", err, op)
	}
	assertEmptyInventory(t, s)
}
