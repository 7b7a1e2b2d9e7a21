package state

import (
	"fmt"
	"os"
	"path/filepath"
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
