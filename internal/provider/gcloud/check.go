package gcloud

import (
	"context"
	"fmt"
)

// CheckResult is what a working setup reached.
type CheckResult struct {
	// Clusters is how many GKE clusters the project has in any location.
	Clusters int
}

// Check proves that the settings work: the credentials give an access
// token, and the container API answers for the project (listing clusters
// needs only container.clusters.list, which every role that can deploy
// has). Each failure says which step broke.
func Check(ctx context.Context, s Settings) (CheckResult, error) {
	var r CheckResult
	c, err := newClients(s)
	if err != nil {
		return r, err
	}
	if _, err := c.token(ctx); err != nil {
		return r, fmt.Errorf("getting an access token: %w", err)
	}
	parent := "projects/" + s.Project + "/locations/-"
	out, err := c.container.Projects.Locations.Clusters.List(parent).Context(ctx).Do()
	if err != nil {
		return r, classify(err, "listing the GKE clusters of project %s", s.Project)
	}
	r.Clusters = len(out.Clusters)
	return r, nil
}
