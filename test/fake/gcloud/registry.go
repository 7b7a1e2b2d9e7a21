package gcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// regImage is one manifest (digest) of one image name in the docker
// registry of Options.RegistryHost.
type regImage struct {
	name   string // full registry name: project/repo/image...
	digest string
	tags   []string
	media  string
	size   int64
}

var manifestAccept = strings.Join([]string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
}, ", ")

func (s *Server) registryClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second}
}

func (s *Server) registryURL(path string) string {
	return s.opts.RegistryScheme + "://" + s.opts.RegistryHost + path
}

// registrySnapshot reads every image of the registry (nil without a
// registry or when it cannot be reached). Call it without s.mu held.
// (docker-registry answers 400 to a catalog page size above its
// maxentries, 1000 by default.)
func (s *Server) registrySnapshot() []regImage {
	if s.opts.RegistryHost == "" {
		return nil
	}
	hc := s.registryClient()
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	if err := s.registryGetJSON(hc, "/v2/_catalog?n=1000", &cat); err != nil {
		s.logf("fake gcloud: registry catalog: %v", err)
		return nil
	}
	var out []regImage
	for _, name := range cat.Repositories {
		if strings.Count(name, "/") < 2 {
			continue // not project/repo/image
		}
		var tl struct {
			Tags []string `json:"tags"`
		}
		if err := s.registryGetJSON(hc, "/v2/"+name+"/tags/list", &tl); err != nil {
			continue
		}
		byDigest := map[string]*regImage{}
		for _, tag := range tl.Tags {
			digest, media, size, err := s.registryHead(hc, name, tag)
			if err != nil || digest == "" {
				continue
			}
			im := byDigest[digest]
			if im == nil {
				im = &regImage{name: name, digest: digest, media: media, size: size}
				byDigest[digest] = im
			}
			im.tags = append(im.tags, tag)
		}
		for _, d := range sortedKeys(byDigest) {
			im := byDigest[d]
			sort.Strings(im.tags)
			out = append(out, *im)
		}
	}
	return out
}

func (s *Server) registryGetJSON(hc *http.Client, path string, v any) error {
	resp, err := hc.Get(s.registryURL(path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}

func (s *Server) registryHead(hc *http.Client, name, ref string) (digest, media string, size int64, err error) {
	req, err := http.NewRequest(http.MethodHead, s.registryURL("/v2/"+name+"/manifests/"+url.PathEscape(ref)), nil)
	if err != nil {
		return "", "", 0, err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", "", 0, fmt.Errorf("HEAD manifest %s:%s: %s", name, ref, resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Content-Type"), resp.ContentLength, nil
}

// registryDelete deletes manifests by digest (best effort: the registry
// must run with deletion enabled).
func (s *Server) registryDelete(images []regImage) {
	if s.opts.RegistryHost == "" || len(images) == 0 {
		return
	}
	hc := s.registryClient()
	for _, im := range images {
		req, err := http.NewRequest(http.MethodDelete, s.registryURL("/v2/"+im.name+"/manifests/"+im.digest), nil)
		if err != nil {
			continue
		}
		resp, err := hc.Do(req)
		if err != nil {
			s.logf("fake gcloud: registry delete %s@%s: %v", im.name, im.digest, err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			s.logf("fake gcloud: registry delete %s@%s: %s", im.name, im.digest, resp.Status)
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}
