package state

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Layout is where cld keeps its files under CLD_HOME.
type Layout struct {
	Home string
}

// DefaultHome is $CLD_HOME, or ~/.cld.
func DefaultHome() string {
	if h := os.Getenv("CLD_HOME"); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cld"
	}
	return filepath.Join(home, ".cld")
}

// Deployments is the folder of the database and artifact folders.
func (l Layout) Deployments() string { return filepath.Join(l.Home, "data", "deployments") }

// Database is the SQLite file.
func (l Layout) Database() string { return filepath.Join(l.Deployments(), "cld.sqlite") }

// Socket is the server's unix socket.
func (l Layout) Socket() string { return filepath.Join(l.Home, "cld.sock") }

// ServerLog is where a server started in the background writes its log.
func (l Layout) ServerLog() string { return filepath.Join(l.Home, "server.log") }

// InstallID is this installation's random identity, made on first use and
// kept beside the database. Every platform object carries it (label
// cld-install), so two installations sharing a Docker engine or a cloud
// account, with the same environment names, never sweep or report each
// other's objects.
func (l Layout) InstallID() (string, error) {
	p := filepath.Join(l.Deployments(), "install-id")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(l.Deployments(), 0o700); err != nil {
		return "", err
	}
	raw := make([]byte, 6)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// another server won the race: use its identity
		b, err := os.ReadFile(p)
		return strings.TrimSpace(string(b)), err
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(id + "\n"); err != nil {
		return "", err
	}
	return id, nil
}

// Folder is the artifact folder of an environment, app or container:
// data/deployments/<kind>s/<name>.
func (l Layout) Folder(kind, name string) string {
	return filepath.Join(l.Deployments(), kind+"s", name)
}

// WriteArtifact writes one file into an object's folder (mode 0600: it may hold secrets).
func (l Layout) WriteArtifact(kind, name, file string, data []byte) (string, error) {
	dir := l.Folder(kind, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", fmt.Errorf("artifact %s: %w", p, err)
	}
	return p, nil
}

// RemoveFolder deletes an object's folder after the object is deleted.
func (l Layout) RemoveFolder(kind, name string) error {
	return os.RemoveAll(l.Folder(kind, name))
}
