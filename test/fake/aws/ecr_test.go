package fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestECRLifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := ecr.NewFromConfig(cfg)
	repo := must(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("cld/demo-web"), Tags: []ecrtypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}))
	if uri := aws.ToString(repo.Repository.RepositoryUri); uri != "123456789012.dkr.ecr.us-east-1.amazonaws.com/cld/demo-web" {
		t.Fatalf("uri %q", uri)
	}
	_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("cld/demo-web")})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("want RepositoryAlreadyExistsException, got %v", err)
	}
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
	var nf *ecrtypes.RepositoryNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want RepositoryNotFoundException, got %v", err)
	}
	tags := must(c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repo.Repository.RepositoryArn}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "demo" {
		t.Fatalf("tags %+v", tags.Tags)
	}
	auth := must(c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	tok, _ := base64.StdEncoding.DecodeString(aws.ToString(auth.AuthorizationData[0].AuthorizationToken))
	if string(tok) != "AWS:fake-ecr-password" || aws.ToString(auth.AuthorizationData[0].ProxyEndpoint) != "https://123456789012.dkr.ecr.us-east-1.amazonaws.com" {
		t.Fatalf("auth %q %q", tok, aws.ToString(auth.AuthorizationData[0].ProxyEndpoint))
	}
	if err := srv.PutImage("us-east-1", "cld/demo-web", "v1", ""); err != nil {
		t.Fatal(err)
	}
	imgs := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("cld/demo-web")}))
	if len(imgs.ImageIds) != 1 || aws.ToString(imgs.ImageIds[0].ImageTag) != "v1" {
		t.Fatalf("images %+v", imgs.ImageIds)
	}
	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("cld/demo-web")})
	var ne *ecrtypes.RepositoryNotEmptyException
	if !errors.As(err, &ne) {
		t.Fatalf("want RepositoryNotEmptyException, got %v", err)
	}
	del := must(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("cld/demo-web"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}, {ImageTag: aws.String("v2")}}}))
	if len(del.ImageIds) != 1 || len(del.Failures) != 1 || del.Failures[0].FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
		t.Fatalf("batch delete %+v", del)
	}
	must(c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("cld/demo-web")}))
	assertEmptyInventory(t, srv)
}

// TestECRWithRegistry runs a real docker-registry (when installed), pushes
// an image to it over the registry API and checks that ECR reports it.
func TestECRWithRegistry(t *testing.T) {
	defer catch(t)
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dir := t.TempDir()
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(rctx, bin, "serve", filepath.Join(dir, "config.yml"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	eventually(t, 10*time.Second, "registry up", func() bool {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == 200
	})

	opts := fastOpts()
	opts.RegistryHost = addr
	srv, cfg := startFake(t, opts)
	ctx := testCtx(t)
	c := ecr.NewFromConfig(cfg)
	repo := must(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("cld/web")}))
	if aws.ToString(repo.Repository.RepositoryUri) != addr+"/cld/web" {
		t.Fatalf("uri %q", aws.ToString(repo.Repository.RepositoryUri))
	}
	auth := must(c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	if aws.ToString(auth.AuthorizationData[0].ProxyEndpoint) != "http://"+addr {
		t.Fatalf("proxy endpoint %q", aws.ToString(auth.AuthorizationData[0].ProxyEndpoint))
	}
	digest := pushImage(t, addr, "cld/web", "v1")
	imgs := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("cld/web")}))
	if len(imgs.ImageIds) != 1 || aws.ToString(imgs.ImageIds[0].ImageTag) != "v1" || aws.ToString(imgs.ImageIds[0].ImageDigest) != digest {
		t.Fatalf("images %+v (pushed %s)", imgs.ImageIds, digest)
	}
	det := must(c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("cld/web"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if aws.ToInt64(det.ImageDetails[0].ImageSizeInBytes) <= 0 {
		t.Fatalf("details %+v", det.ImageDetails[0])
	}
	must(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("cld/web"), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digest)}}}))
	eventually(t, 5*time.Second, "image deleted in the registry", func() bool {
		imgs := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("cld/web")}))
		return len(imgs.ImageIds) == 0
	})
	must(c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("cld/web"), Force: true}))
	assertEmptyInventory(t, srv)
}

// pushImage uploads a config blob, one layer and a schema2 manifest.
func pushImage(t *testing.T, addr, repo, tag string) string {
	t.Helper()
	upload := func(data []byte) string {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		resp, err := http.Post("http://"+addr+"/v2/"+repo+"/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "http") {
			loc = "http://" + addr + loc
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		req, _ := http.NewRequest("PUT", loc+sep+"digest="+d, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("blob upload: %v %v", err, resp)
		}
		_ = resp.Body.Close()
		return d
	}
	cfgBlob := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`)
	layer := bytes.Repeat([]byte("layer"), 1000)
	cfgDigest, layerDigest := upload(cfgBlob), upload(layer)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.docker.distribution.manifest.v2+json",
		"config":        map[string]any{"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(cfgBlob), "digest": cfgDigest},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer), "digest": layerDigest}},
	})
	req, _ := http.NewRequest("PUT", "http://"+addr+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(manifest))
	req.Header.Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("manifest put: %v %v", err, resp)
	}
	_ = resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest")
}
