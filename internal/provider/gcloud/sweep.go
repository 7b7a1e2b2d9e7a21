package gcloud

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	artifactregistry "google.golang.org/api/artifactregistry/v1"
	compute "google.golang.org/api/compute/v1"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/cloudark/cld/internal/provider"
)

// scopes are the distinct places (project, region, endpoints, credentials)
// this process has worked in: Sweep and Inventory look there. A fresh
// server learns them as the engine observes an owner's elements, which it
// always does before sweeping.
func (t *Target) scopes() []Settings {
	seen := map[string]bool{}
	var out []Settings
	for _, s := range t.known() {
		k := Settings{Project: s.Project, Region: s.Region, Credentials: s.Credentials, Endpoints: s.Endpoints, CACertsFile: s.CACertsFile}
		if seen[k.key()] {
			continue
		}
		seen[k.key()] = true
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// owned is one platform object cld made, as Sweep and Inventory find it.
type owned struct {
	kind, name string
	labels     map[string]string
	del        func(ctx context.Context) error
	gone       func(ctx context.Context) bool
	phase      int // clusters, instances and repositories first; firewalls; networks
}

// list finds everything labelled (or described) as cld's in one scope.
func (t *Target) list(ctx context.Context, s Settings, images bool) ([]owned, error) {
	c, err := t.api(s)
	if err != nil {
		return nil, err
	}
	p := s.Project
	var out []owned
	var errs []error

	err = c.compute.Networks.List(p).Context(ctx).Pages(ctx, func(l *compute.NetworkList) error {
		for _, n := range l.Items {
			if lb := describedLabels(n.Description); matches(lb, nil) {
				name := n.Name
				out = append(out, owned{kind: "network", name: name, labels: lb, phase: 2,
					del: func(ctx context.Context) error {
						_, err := c.compute.Networks.Delete(p, name).Context(ctx).Do()
						return ignoreNotFound(err)
					},
					gone: func(ctx context.Context) bool {
						_, err := c.compute.Networks.Get(p, name).Context(ctx).Do()
						return isNotFound(err)
					}})
			}
		}
		return nil
	})
	errs = append(errs, ignoreNotFound(err))

	err = c.compute.Firewalls.List(p).Context(ctx).Pages(ctx, func(l *compute.FirewallList) error {
		for _, f := range l.Items {
			if lb := describedLabels(f.Description); matches(lb, nil) {
				name := f.Name
				out = append(out, owned{kind: "firewall", name: name, labels: lb, phase: 1,
					del: func(ctx context.Context) error {
						_, err := c.compute.Firewalls.Delete(p, name).Context(ctx).Do()
						return ignoreNotFound(err)
					},
					gone: func(ctx context.Context) bool {
						_, err := c.compute.Firewalls.Get(p, name).Context(ctx).Do()
						return isNotFound(err)
					}})
			}
		}
		return nil
	})
	errs = append(errs, ignoreNotFound(err))

	cls, err := c.container.Projects.Locations.Clusters.List("projects/" + p + "/locations/-").Context(ctx).Do()
	errs = append(errs, ignoreNotFound(err))
	if err == nil {
		for _, cl := range cls.Clusters {
			if !matches(cl.ResourceLabels, nil) {
				continue
			}
			path := "projects/" + p + "/locations/" + cl.Location + "/clusters/" + cl.Name
			status := cl.Status
			out = append(out, owned{kind: "gke-cluster", name: cl.Name, labels: cl.ResourceLabels,
				del: func(ctx context.Context) error {
					if status == "STOPPING" {
						return nil
					}
					_, err := c.container.Projects.Locations.Clusters.Delete(path).Context(ctx).Do()
					return ignoreNotFound(err)
				},
				gone: func(ctx context.Context) bool {
					_, err := c.container.Projects.Locations.Clusters.Get(path).Context(ctx).Do()
					return isNotFound(err)
				}})
		}
	}

	err = c.sql.Instances.List(p).Context(ctx).Pages(ctx, func(l *sqladmin.InstancesListResponse) error {
		for _, in := range l.Items {
			if in.Settings == nil || !matches(in.Settings.UserLabels, nil) {
				continue
			}
			name := in.Name
			out = append(out, owned{kind: "cloudsql-instance", name: name, labels: in.Settings.UserLabels,
				del: func(ctx context.Context) error { return c.deleteSQLInstance(ctx, p, name) },
				gone: func(ctx context.Context) bool {
					_, err := c.sql.Instances.Get(p, name).Context(ctx).Do()
					return isNotFound(err)
				}})
			if !images {
				continue
			}
			// what lives inside: databases, users, authorized networks
			if dbs, err := c.sql.Databases.List(p, name).Context(ctx).Do(); err == nil {
				for _, db := range dbs.Items {
					if !systemDatabases[db.Name] {
						out = append(out, owned{kind: "cloudsql-database", name: name + "/" + db.Name, labels: in.Settings.UserLabels})
					}
				}
			}
			if us, err := c.sql.Users.List(p, name).Context(ctx).Do(); err == nil {
				for _, u := range us.Items {
					if u.Name != "root" && u.Name != "postgres" {
						out = append(out, owned{kind: "cloudsql-user", name: name + "/" + u.Name, labels: in.Settings.UserLabels})
					}
				}
			}
			if ipc := in.Settings.IpConfiguration; ipc != nil && len(aclValues(ipc.AuthorizedNetworks, true)) > 0 {
				out = append(out, owned{kind: "cloudsql-authorization", name: name, labels: in.Settings.UserLabels})
			}
		}
		return nil
	})
	errs = append(errs, ignoreNotFound(err))

	err = c.ar.Projects.Locations.Repositories.List("projects/"+p+"/locations/-").Context(ctx).
		Pages(ctx, func(l *artifactregistry.ListRepositoriesResponse) error {
			for _, r := range l.Repositories {
				if !matches(r.Labels, nil) {
					continue
				}
				name := r.Name
				out = append(out, owned{kind: "artifact-repository", name: name, labels: r.Labels,
					del: func(ctx context.Context) error {
						_, err := c.ar.Projects.Locations.Repositories.Delete(name).Context(ctx).Do()
						return ignoreNotFound(err)
					},
					gone: func(ctx context.Context) bool {
						_, err := c.ar.Projects.Locations.Repositories.Get(name).Context(ctx).Do()
						return isNotFound(err)
					}})
				if !images {
					continue
				}
				if ims, err := c.ar.Projects.Locations.Repositories.DockerImages.List(name).Context(ctx).Do(); err == nil {
					for _, im := range ims.DockerImages {
						out = append(out, owned{kind: "docker-image", name: im.Uri, labels: r.Labels})
					}
				}
			}
			return nil
		})
	errs = append(errs, ignoreNotFound(err))
	return out, errors.Join(errs...)
}

var systemDatabases = map[string]bool{"information_schema": true, "mysql": true, "performance_schema": true, "sys": true, "postgres": true}

func ignoreNotFound(err error) error {
	if isNotFound(err) {
		return nil
	}
	return err
}

// Inventory lists every object cld made in the places this process has
// worked in: labelled ones, and networks and firewall rules by their
// description (they take no labels).
func (t *Target) Inventory(ctx context.Context) ([]provider.Found, error) {
	var out []provider.Found
	var errs []error
	for _, s := range t.scopes() {
		items, err := t.list(ctx, s, true)
		errs = append(errs, err)
		for _, o := range items {
			out = append(out, provider.Found{Kind: o.kind, Name: o.name, Labels: o.labels})
		}
	}
	return out, errors.Join(errs...)
}

// sweepTimeout bounds how long Sweep waits for what it deletes (a GKE
// cluster takes minutes) before the next phase.
var sweepTimeout = 15 * time.Minute

// Sweep deletes what carries the owner's labels, in dependency order:
// clusters, Cloud SQL instances and repositories; then firewall rules; then
// networks.
func (t *Target) Sweep(ctx context.Context, labels map[string]string) ([]string, error) {
	var removed []string
	var errs []error
	for _, s := range t.scopes() {
		items, err := t.list(ctx, s, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for phase := 0; phase <= 2; phase++ {
			var doing []owned
			for _, o := range items {
				if o.phase != phase || o.del == nil || !matches(o.labels, labels) {
					continue
				}
				if err := retryTransient(ctx, o.del); err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", o.kind, o.name, err))
					continue
				}
				doing = append(doing, o)
				removed = append(removed, o.kind+" "+o.name)
			}
			if err := waitAllGone(ctx, doing); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return removed, errors.Join(errs...)
}

func waitAllGone(ctx context.Context, items []owned) error {
	deadline := time.Now().Add(sweepTimeout)
	for _, o := range items {
		for !o.gone(ctx) {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s %s still there after %s", o.kind, o.name, sweepTimeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// retryTransient retries what another operation in progress refuses (Cloud
// SQL and GKE take one operation at a time), for up to a minute.
func retryTransient(ctx context.Context, fn func(context.Context) error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn(ctx)
		if err == nil || provider.IsPermanent(classify(err, "")) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
