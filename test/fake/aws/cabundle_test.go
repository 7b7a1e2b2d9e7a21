package fake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestCABundle documents how AWS_CA_BUNDLE interacts with the plain-HTTP
// fake: a readable PEM bundle is loaded by config.LoadDefaultConfig and is
// irrelevant for an http:// endpoint; a missing or non-PEM file makes
// LoadDefaultConfig itself fail, before any request is sent; an empty value
// counts as unset.
func TestCABundle(t *testing.T) {
	srv, _ := startFake(t, fastOpts())
	ctx := testCtx(t)
	load := func() (error, error) {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")),
			config.WithBaseEndpoint(srv.URL()))
		if err != nil {
			return err, nil
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return nil, err
	}
	dir := t.TempDir()

	// a valid (self-signed) CA certificate
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake CA"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", good)
	if cerr, rerr := load(); cerr != nil || rerr != nil {
		t.Fatalf("valid CA bundle + http endpoint: config %v, request %v", cerr, rerr)
	}

	t.Setenv("AWS_CA_BUNDLE", filepath.Join(dir, "missing.pem"))
	if cerr, _ := load(); cerr == nil || !strings.Contains(cerr.Error(), "no such file or directory") {
		t.Fatalf("missing bundle: want LoadDefaultConfig to fail, got %v", cerr)
	}

	junk := filepath.Join(dir, "junk.pem")
	_ = os.WriteFile(junk, []byte("not a certificate"), 0o600)
	t.Setenv("AWS_CA_BUNDLE", junk)
	if cerr, _ := load(); cerr == nil || !strings.Contains(cerr.Error(), "failed to load custom CA bundle PEM file") {
		t.Fatalf("non-PEM bundle: want LoadDefaultConfig to fail, got %v", cerr)
	}

	t.Setenv("AWS_CA_BUNDLE", "")
	if cerr, rerr := load(); cerr != nil || rerr != nil {
		t.Fatalf("empty AWS_CA_BUNDLE: config %v, request %v", cerr, rerr)
	}
}
