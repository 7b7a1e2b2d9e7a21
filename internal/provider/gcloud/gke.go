package gcloud

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"

	"github.com/cloudark/cld/internal/provider"
)

// clusterSpec is a GKE cluster: one node pool of Size machines of
// MachineType on the environment's network.
type clusterSpec struct {
	Settings    Settings `json:"gcloud"`
	Network     string   `json:"network"`
	Size        int      `json:"size"`
	MachineType string   `json:"machine_type"`
}

func clusterPath(s Settings, name string) string {
	return "projects/" + s.Project + "/locations/" + s.location() + "/clusters/" + name
}

type clusterHandler struct{ t *Target }

var _ provider.Waiter = clusterHandler{}

// ReadyTimeout: GKE takes 5-10 minutes, sometimes more.
func (clusterHandler) ReadyTimeout(*provider.Element) time.Duration { return 30 * time.Minute }

func (h clusterHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s clusterSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	cl, err := c.container.Projects.Locations.Clusters.Get(clusterPath(s.Settings, req.Element.Name)).Context(ctx).Do()
	if isNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "GKE cluster %s", req.Element.Name)
	}
	obs := provider.Observation{Exists: true, Ref: cl.Id, Labels: observedLabels(cl.ResourceLabels, req.Element.Labels), Outputs: map[string]string{
		"Cluster": cl.Name, "Project": s.Settings.Project, "Location": cl.Location, "Region": regionOfZone(cl.Location),
		"Endpoint": cl.Endpoint, "Version": cl.CurrentMasterVersion, "Nodes": strconv.FormatInt(cl.CurrentNodeCount, 10),
	}}
	if s.Settings.Zone != "" {
		obs.Outputs["Zone"] = s.Settings.Zone
	}
	switch cl.Status {
	case "RUNNING":
		obs.Ready = true
	case "ERROR", "DEGRADED":
		msg := cl.StatusMessage
		for _, cond := range cl.Conditions {
			if msg == "" {
				msg = cond.Message
			}
		}
		obs.Failed = fmt.Sprintf("GKE cluster %s is %s: %s", cl.Name, cl.Status, msg)
	default:
		obs.Progress = "GKE cluster " + strings.ToLower(cl.Status)
	}
	return obs, nil
}

func (h clusterHandler) Create(ctx context.Context, req *provider.Request) error {
	var s clusterSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	cl := &container.Cluster{
		Name:           req.Element.Name,
		Description:    "cld environment cluster",
		Network:        s.Network,
		ResourceLabels: googleLabels(req.Element.Labels),
		NodePools: []*container.NodePool{{
			Name:             "default-pool",
			InitialNodeCount: int64(s.Size),
			Config: &container.NodeConfig{
				MachineType: s.MachineType,
				// image pulls from Artifact Registry, the Cloud SQL Auth Proxy
				OauthScopes:    []string{cloudPlatformScope},
				ResourceLabels: googleLabels(req.Element.Labels),
			},
		}},
	}
	parent := "projects/" + s.Settings.Project + "/locations/" + s.Settings.location()
	_, err = c.container.Projects.Locations.Clusters.Create(parent, &container.CreateClusterRequest{Cluster: cl}).Context(ctx).Do()
	if isConflict(err) {
		return nil
	}
	return classify(err, "creating GKE cluster %s", req.Element.Name)
}

func (h clusterHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s clusterSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	path := clusterPath(s.Settings, req.Element.Name)
	return untilSettled(ctx, func() error {
		_, err := c.container.Projects.Locations.Clusters.Delete(path).Context(ctx).Do()
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			// already going away?
			if cl, gerr := c.container.Projects.Locations.Clusters.Get(path).Context(ctx).Do(); isNotFound(gerr) || (gerr == nil && cl.Status == "STOPPING") {
				return nil
			}
		}
		return classify(err, "deleting GKE cluster %s", req.Element.Name)
	})
}

// nodeAddresses returns the external addresses of a cluster's nodes, found
// through its node pools' instance groups.
func (c *apiClients) nodeAddresses(ctx context.Context, s Settings, cluster string) ([]string, error) {
	cl, err := c.container.Projects.Locations.Clusters.Get(clusterPath(s, cluster)).Context(ctx).Do()
	if err != nil {
		return nil, classify(err, "GKE cluster %s", cluster)
	}
	var ips []string
	seen := map[string]bool{}
	for _, np := range cl.NodePools {
		for _, u := range np.InstanceGroupUrls {
			project, zone, group, ok := parseZonal(u, "instanceGroupManagers")
			if !ok {
				project, zone, group, ok = parseZonal(u, "instanceGroups")
			}
			if !ok {
				continue
			}
			err := c.compute.InstanceGroups.ListInstances(project, zone, group, &compute.InstanceGroupsListInstancesRequest{InstanceState: "ALL"}).
				Context(ctx).Pages(ctx, func(l *compute.InstanceGroupsListInstances) error {
				for _, it := range l.Items {
					p, z, name, ok := parseZonal(it.Instance, "instances")
					if !ok {
						continue
					}
					in, err := c.compute.Instances.Get(p, z, name).Context(ctx).Do()
					if isNotFound(err) {
						continue
					}
					if err != nil {
						return err
					}
					for _, nic := range in.NetworkInterfaces {
						for _, ac := range nic.AccessConfigs {
							if ac.NatIP != "" && !seen[ac.NatIP] {
								seen[ac.NatIP] = true
								ips = append(ips, ac.NatIP)
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				return nil, classify(err, "nodes of GKE cluster %s", cluster)
			}
		}
	}
	sort.Strings(ips)
	return ips, nil
}

// parseZonal splits ".../projects/P/zones/Z/<collection>/N".
func parseZonal(u, collection string) (project, zone, name string, ok bool) {
	parts := strings.Split(u, "/")
	for i := 0; i+5 < len(parts); i++ {
		if parts[i] == "projects" && parts[i+2] == "zones" && parts[i+4] == collection {
			return parts[i+1], parts[i+3], parts[i+5], true
		}
	}
	return "", "", "", false
}
