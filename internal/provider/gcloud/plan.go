package gcloud

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/kube"
	"github.com/cloudark/cld/internal/provider/local"
	"github.com/cloudark/cld/internal/spec"
)

// Element keys of an environment.
const (
	keyNetwork    = "network"
	keyFirewall   = "firewall"
	keyCluster    = "cluster"
	keyKubeconfig = "kubeconfig"
	keyKube       = "kube"
)

// PlanCluster plans the network, its firewall rule, the GKE cluster, the
// kubeconfig cld writes for it, and the Kubernetes runtime's cluster element.
// With `network: <name>` (such as `default`) the cluster goes on that
// existing network and cld makes none.
func (t *Target) PlanCluster(p provider.EnvPlan) ([]*provider.Element, error) {
	d := p.Spec.AppDeployment
	s, err := Resolve(Overrides{Project: d.Project, Region: d.Region, Zone: d.Zone}, p.ClientEnv).Settings()
	if err != nil {
		return nil, err
	}
	var out []*provider.Element
	netName := d.Network
	var clusterDeps []string
	if netName == "" {
		netName = shortName(p.Base, 62)
		out = append(out,
			&provider.Element{Key: keyNetwork, Kind: KindNetwork, Target: TargetName, Name: netName,
				Spec: provider.MustSpec(networkSpec{Settings: s})},
			&provider.Element{Key: keyFirewall, Kind: KindFirewall, Target: TargetName, Name: shortName(p.Base, 52) + "-internal",
				Deps: []string{keyNetwork}, Spec: provider.MustSpec(firewallSpec{Settings: s, Network: netName, SourceRanges: []string{autoModeRange}})},
		)
		clusterDeps = []string{keyNetwork}
	}
	machine := d.InstanceType
	if machine == "" {
		machine = DefaultInstanceType
	}
	clusterName := shortName(p.Base, 40)
	ctxName := "gke_" + s.Project + "_" + s.location() + "_" + clusterName
	out = append(out,
		&provider.Element{Key: keyCluster, Kind: KindCluster, Target: TargetName, Name: clusterName, Deps: clusterDeps,
			Spec: provider.MustSpec(clusterSpec{Settings: s, Network: netName, Size: max(d.ClusterSize, 1), MachineType: machine})},
		&provider.Element{Key: keyKubeconfig, Kind: KindKubeconfig, Target: TargetName, Name: ctxName, Deps: []string{keyCluster},
			Spec: provider.MustSpec(kubeconfigSpec{Settings: s, Cluster: clusterName, Dir: p.Folder})},
	)
	serviceType := d.ServiceType
	if serviceType == "" {
		serviceType = "LoadBalancer"
	}
	k := t.kube.ClusterElement(keyKube, ctxName, kube.ClusterSpec{
		Access:        kube.Access{Kubeconfig: KubeconfigPath(p.Folder), Context: ctxName},
		Namespace:     d.Namespace,
		ServiceType:   serviceType,
		KubeconfigOut: filepath.Join(p.Folder, "kubeconfig"),
	})
	k.Deps = []string{keyKubeconfig}
	return append(out, k), nil
}

// PlanResources plans, per cloudsql resource, the instance, its database
// and user, and who may reach it (the cluster's nodes, a policy). They do
// not wait for the cluster: only the authorization needs its nodes.
func (t *Target) PlanResources(p provider.EnvPlan, res []spec.Resource, cluster []*provider.Element) ([]*provider.Element, error) {
	var o Overrides
	if d := p.Spec.AppDeployment; d != nil && d.Target == spec.TargetGCloud {
		o = Overrides{Project: d.Project, Region: d.Region, Zone: d.Zone}
	}
	clusterName := ""
	for _, el := range cluster {
		if el.Key == keyCluster && el.Kind == KindCluster {
			clusterName = el.Name
		}
	}
	count := map[string]int{}
	for _, r := range res {
		count[r.Type]++
	}
	ports := map[string]int{}
	var out []*provider.Element
	for i, r := range res {
		if r.Type != "cloudsql" {
			return nil, fmt.Errorf("%s: resource type %s is not a Google Cloud resource", r.Pos, r.Type)
		}
		ro := o
		if reg := r.Configuration["region"]; reg != "" {
			ro.Region = reg
			if ro.Zone != "" && regionOfZone(ro.Zone) != reg {
				ro.Zone = ""
			}
		}
		s, err := Resolve(ro, p.ClientEnv).Settings()
		if err != nil {
			return nil, err
		}
		suffix := "cloudsql"
		if count[r.Type] > 1 {
			suffix = fmt.Sprintf("cloudsql-%d", i+1)
		}
		engine := r.Configuration["engine"]
		if engine == "" {
			engine = "mysql"
		}
		storage := int64(0)
		if v := r.Configuration["storage"]; v != "" {
			storage, _ = strconv.ParseInt(v, 10, 64)
			storage = max(storage, 10) // Cloud SQL's minimum
		}
		is := sqlInstanceSpec{
			Settings: s, Engine: engine, Version: databaseVersion(engine, r.Configuration["version"]),
			Tier: or(r.Configuration["tier"], DefaultTier), StorageGB: storage,
			DBName: or(r.Configuration["dbname"], "app"), Username: or(r.Configuration["username"], "app"),
			Connect: or(r.Configuration["connect"], "direct"),
		}
		if is.Username == "root" || is.Username == "postgres" {
			return nil, fmt.Errorf("%s: username %s is the instance's own administrator: choose another", r.Pos, is.Username)
		}
		if is.Connect == "proxy" {
			is.ProxyPort = enginePorts[engine] + ports[engine]
			ports[engine]++
		}
		password := provider.GeneratePassword(24)
		key := "cloudsql/" + suffix
		instName := shortName(p.Base+"-"+suffix, 80)
		child := sqlChildSpec{Settings: s, Instance: instName, Engine: engine}
		out = append(out,
			&provider.Element{Key: key, Kind: KindSQLInstance, Target: TargetName, Name: instName, BindType: "CLOUDSQL",
				Spec: provider.MustSpec(is), Inputs: map[string]string{"password": password, "root_password": provider.GeneratePassword(24)}},
			&provider.Element{Key: key + "/database", Kind: KindSQLDatabase, Target: TargetName, Name: is.DBName, Deps: []string{key},
				Spec: provider.MustSpec(child)},
			&provider.Element{Key: key + "/user", Kind: KindSQLUser, Target: TargetName, Name: is.Username, Deps: []string{key + "/database"},
				Spec: provider.MustSpec(child), Inputs: map[string]string{"password": password}},
		)
		policy := ""
		if r.Policy != nil {
			policy = r.Policy.Access
		}
		if clusterName != "" || policy != "" {
			deps := []string{key + "/user"}
			if clusterName != "" {
				deps = append(deps, keyCluster)
			}
			out = append(out, &provider.Element{Key: key + "/authorization", Kind: KindSQLAuthorization, Target: TargetName, Name: instName, Deps: deps,
				Spec: provider.MustSpec(sqlAuthorizationSpec{Settings: s, Instance: instName, Cluster: clusterName, Policy: policy})})
		}
	}
	return out, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// PlanContainer plans the image build (the local target's element: the
// image is built by the local engine), the Artifact Registry repository
// named after the container, and the push.
func (t *Target) PlanContainer(p provider.ContainerPlan) ([]*provider.Element, error) {
	s, err := Resolve(Overrides{Region: p.Region}, p.ClientEnv).Settings()
	if err != nil {
		return nil, err
	}
	build, err := local.New().PlanContainer(p)
	if err != nil {
		return nil, err
	}
	if len(build) != 1 {
		return nil, fmt.Errorf("internal: the local build plan has %d elements", len(build))
	}
	img := build[0]
	repo := shortName(p.Name, 63)
	return []*provider.Element{
		img,
		{Key: "repository", Kind: KindRepository, Target: TargetName, Name: repo,
			Spec: provider.MustSpec(repositorySpec{Settings: s, Location: s.Region})},
		{Key: "push", Kind: KindImage, Target: TargetName, Name: p.Name + ":" + p.Stamp, Deps: []string{img.Key, "repository"},
			Spec: provider.MustSpec(imageSpec{Settings: s, Location: s.Region, Repository: repo, Image: p.Name, Tag: p.Stamp, Local: img.Name})},
	}, nil
}

// Cloud SQL Auth Proxy, as a sidecar of apps bound to instances with
// `connect: proxy`: the app reaches the database on 127.0.0.1.
const proxyImage = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2"

// PlanApp plans the app on the Kubernetes runtime, adding the Cloud SQL
// Auth Proxy when an instance of the environment is reached through it.
func (t *Target) PlanApp(p provider.AppPlan) ([]*provider.Element, error) {
	els, err := t.kube.PlanApp(p)
	if err != nil {
		return nil, err
	}
	var args []string
	for _, el := range p.Cluster {
		if el.Kind != KindSQLInstance {
			continue
		}
		var s sqlInstanceSpec
		if err := el.DecodeSpec(&s); err != nil {
			return nil, err
		}
		if s.Connect != "proxy" {
			continue
		}
		conn := el.Outputs["ConnectionName"]
		if conn == "" {
			return nil, fmt.Errorf("Cloud SQL instance %s has no connection name yet", el.Name)
		}
		args = append(args, fmt.Sprintf("%s?port=%d", conn, s.ProxyPort))
	}
	if len(args) == 0 {
		return els, nil
	}
	proxy := map[string]any{
		"name":  "cloud-sql-proxy",
		"image": proxyImage,
		"args":  toAny(append([]string{"--structured-logs"}, args...)),
		"securityContext": map[string]any{
			"runAsNonRoot": true,
		},
		"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}},
	}
	for _, el := range els {
		if el.Kind == kube.KindWorkload {
			if err := kube.AddContainer(el, proxy); err != nil {
				return nil, err
			}
		}
	}
	return els, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// describeSettings is a one-line summary for messages.
func describeSettings(s Settings) string {
	parts := []string{"project " + s.Project, "location " + s.location()}
	if len(s.Endpoints) > 0 {
		parts = append(parts, "endpoints overridden for "+strings.Join(s.endpointNames(), ", "))
	}
	return strings.Join(parts, ", ")
}
