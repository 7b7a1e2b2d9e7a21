package gcloud

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
)

const containerBase = "https://container.googleapis.com/v1/"

// DefaultClusterVersion is the GKE version clusters get unless the request
// names one.
const DefaultClusterVersion = "1.33.5-gke.1080000"

var (
	clusterNameRe = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$`)
	zoneRe        = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	regionRe      = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
)

type cluster struct {
	project, location, name string
	c                       *container.Cluster
	netKey                  string
	subnetLink              string
	subnetCIDR              string
	zones                   []string
	busy                    *op // operation in progress on the cluster
	createOp                *op
	deleting                bool
	hash                    string
	pools                   map[string]*pool
}

type pool struct {
	np       *container.NodePool
	igms     []string // igm keys
	hash     string
	deleting bool
}

func (cl *cluster) fullName() string {
	return "projects/" + cl.project + "/locations/" + cl.location + "/clusters/" + cl.name
}

func regionOf(loc string) string {
	if zoneRe.MatchString(loc) {
		return loc[:strings.LastIndex(loc, "-")]
	}
	return loc
}

func init() {
	clusters := "projects/{project}/locations/{location}/clusters"
	zclusters := "projects/{project}/zones/{location}/clusters"
	register(Container, map[string]handler{
		"POST " + clusters + " projects.locations.clusters.create":                                                        (*call).clustersCreate,
		"GET " + clusters + " projects.locations.clusters.list":                                                           (*call).clustersList,
		"GET " + clusters + "/{cluster} projects.locations.clusters.get":                                                  (*call).clustersGet,
		"DELETE " + clusters + "/{cluster} projects.locations.clusters.delete":                                            (*call).clustersDelete,
		"POST " + clusters + "/{cluster}:setResourceLabels projects.locations.clusters.setResourceLabels":                 (*call).clustersSetLabels,
		"GET " + clusters + "/{cluster}/nodePools projects.locations.clusters.nodePools.list":                             (*call).nodePoolsList,
		"POST " + clusters + "/{cluster}/nodePools projects.locations.clusters.nodePools.create":                          (*call).nodePoolsCreate,
		"GET " + clusters + "/{cluster}/nodePools/{nodePool} projects.locations.clusters.nodePools.get":                   (*call).nodePoolsGet,
		"DELETE " + clusters + "/{cluster}/nodePools/{nodePool} projects.locations.clusters.nodePools.delete":             (*call).nodePoolsDelete,
		"POST " + clusters + "/{cluster}/nodePools/{nodePool}:setSize projects.locations.clusters.nodePools.setSize":      (*call).nodePoolsSetSize,
		"GET projects/{project}/locations/{location}/operations/{operation} projects.locations.operations.get":            (*call).containerOpGet,
		"GET projects/{project}/locations/{location}/operations projects.locations.operations.list":                       (*call).containerOpList,
		"POST projects/{project}/locations/{location}/operations/{operation}:cancel projects.locations.operations.cancel": (*call).containerOpCancel,
		"GET projects/{project}/locations/{location}/serverConfig projects.locations.getServerConfig":                     (*call).serverConfig,

		"POST " + zclusters + " projects.zones.clusters.create":                                                   (*call).clustersCreate,
		"GET " + zclusters + " projects.zones.clusters.list":                                                      (*call).clustersList,
		"GET " + zclusters + "/{cluster} projects.zones.clusters.get":                                             (*call).clustersGet,
		"DELETE " + zclusters + "/{cluster} projects.zones.clusters.delete":                                       (*call).clustersDelete,
		"POST " + zclusters + "/{cluster}/resourceLabels projects.zones.clusters.resourceLabels":                  (*call).clustersSetLabels,
		"GET " + zclusters + "/{cluster}/nodePools projects.zones.clusters.nodePools.list":                        (*call).nodePoolsList,
		"POST " + zclusters + "/{cluster}/nodePools projects.zones.clusters.nodePools.create":                     (*call).nodePoolsCreate,
		"GET " + zclusters + "/{cluster}/nodePools/{nodePool} projects.zones.clusters.nodePools.get":              (*call).nodePoolsGet,
		"DELETE " + zclusters + "/{cluster}/nodePools/{nodePool} projects.zones.clusters.nodePools.delete":        (*call).nodePoolsDelete,
		"POST " + zclusters + "/{cluster}/nodePools/{nodePool}/setSize projects.zones.clusters.nodePools.setSize": (*call).nodePoolsSetSize,
		"GET projects/{project}/zones/{location}/operations/{operation} projects.zones.operations.get":            (*call).containerOpGet,
		"GET projects/{project}/zones/{location}/operations projects.zones.operations.list":                       (*call).containerOpList,
		"POST projects/{project}/zones/{location}/operations/{operation}:cancel projects.zones.operations.cancel": (*call).containerOpCancel,
		"GET projects/{project}/zones/{location}/serverconfig projects.zones.getServerconfig":                     (*call).serverConfig,
	})
}

// ---------------------------------------------------------------------------
// operations

func (c *call) containerOp(kind, location, targetLink, target string, d time.Duration) *op {
	o := c.s.newOp(c, kind, d)
	o.project = c.v("project")
	o.scope = location
	o.name = fmt.Sprintf("operation-%d-%s", c.now.UnixMilli(), randHex(8))
	o.targetLink = targetLink
	o.target = target
	if o.failMsg != "" {
		o.failCode = "INTERNAL"
	}
	return o
}

func (s *Server) renderContainerOp(o *op, now time.Time) *container.Operation {
	coll := "locations"
	if zoneRe.MatchString(o.scope) {
		coll = "zones"
	}
	co := &container.Operation{
		Name:          o.name,
		Zone:          o.scope,
		Location:      o.scope,
		OperationType: o.kind,
		Status:        o.status(now),
		SelfLink:      containerBase + "projects/" + s.opts.ProjectNumber + "/" + coll + "/" + o.scope + "/operations/" + o.name,
		TargetLink:    o.targetLink,
		StartTime:     rfc3339(o.start),
	}
	if o.done {
		co.EndTime = rfc3339(o.doneAt)
	}
	if o.failed() {
		co.Error = &container.Status{Code: grpcCode(o.failCode), Message: o.failMsg}
		co.StatusMessage = o.failMsg
	}
	return co
}

func (c *call) findContainerOp() (*op, error) {
	o := c.s.lookupOp(Container, c.v("operation"))
	if o == nil || o.project != c.v("project") || (o.scope != c.v("location") && c.v("location") != "-") {
		return nil, errf(404, "notFound", "Not found: projects/%s/locations/%s/operations/%s.", c.v("project"), c.v("location"), c.v("operation"))
	}
	return o, nil
}

func (c *call) containerOpGet() (any, error) {
	o, err := c.findContainerOp()
	if err != nil {
		return nil, err
	}
	return c.s.renderContainerOp(o, c.now), nil
}

func (c *call) containerOpList() (any, error) {
	out := &container.ListOperationsResponse{Operations: []*container.Operation{}}
	for _, o := range c.s.ops {
		if o.api == Container && o.project == c.v("project") && (o.scope == c.v("location") || c.v("location") == "-") {
			out.Operations = append(out.Operations, c.s.renderContainerOp(o, c.now))
		}
	}
	sort.Slice(out.Operations, func(i, j int) bool { return out.Operations[i].StartTime < out.Operations[j].StartTime })
	return out, nil
}

func (c *call) containerOpCancel() (any, error) {
	o, err := c.findContainerOp()
	if err != nil {
		return nil, err
	}
	if o.done {
		return nil, errf(400, "failedPrecondition", "Operation %s is already done.", o.name).withStatus("FAILED_PRECONDITION")
	}
	return map[string]any{}, nil
}

func (c *call) serverConfig() (any, error) {
	versions := []string{DefaultClusterVersion, "1.32.9-gke.1100000", "1.31.13-gke.1200000"}
	return &container.ServerConfig{
		DefaultClusterVersion: DefaultClusterVersion,
		DefaultImageType:      "COS_CONTAINERD",
		ValidImageTypes:       []string{"COS_CONTAINERD", "UBUNTU_CONTAINERD"},
		ValidMasterVersions:   versions,
		ValidNodeVersions:     versions,
		Channels: []*container.ReleaseChannelConfig{
			{Channel: "REGULAR", DefaultVersion: DefaultClusterVersion, ValidVersions: versions},
			{Channel: "STABLE", DefaultVersion: versions[1], ValidVersions: versions[1:]},
		},
	}, nil
}

// ---------------------------------------------------------------------------
// clusters

func clusterNotFound(p, loc, name string) error {
	return errf(404, "notFound", "Not found: projects/%s/locations/%s/clusters/%s.", p, loc, name)
}

// findCluster resolves a cluster ("-" as location searches all).
func (c *call) findCluster() (*cluster, error) {
	p, loc, name := c.v("project"), c.v("location"), c.v("cluster")
	if loc == "-" {
		for _, k := range sortedKeys(c.s.st.clusters) {
			if cl := c.s.st.clusters[k]; cl.project == p && cl.name == name {
				return cl, nil
			}
		}
	}
	cl := c.s.st.clusters[p+"/"+loc+"/"+name]
	if cl == nil {
		return nil, clusterNotFound(p, loc, name)
	}
	return cl, nil
}

func incompatible(o *op) error {
	return errf(400, "failedPrecondition", "Cluster is running incompatible operation %s.", o.name).withStatus("FAILED_PRECONDITION")
}

func (c *call) clustersCreate() (any, error) {
	var req container.CreateClusterRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in := req.Cluster
	p, loc := c.v("project"), c.v("location")
	if in == nil {
		return nil, invalid("Cluster is required.")
	}
	if !zoneRe.MatchString(loc) && !regionRe.MatchString(loc) {
		return nil, invalid("Location \"%s\" does not exist.", loc)
	}
	if !clusterNameRe.MatchString(in.Name) {
		return nil, invalid("Invalid value for field \"cluster.name\": %q. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)' (only alphanumerics and '-' allowed, must start with a letter and end with an alphanumeric, and must be no longer than 40 characters).", in.Name)
	}
	key := p + "/" + loc + "/" + in.Name
	if c.s.st.clusters[key] != nil {
		return nil, alreadyExists("Already exists: projects/%s/locations/%s/clusters/%s.", p, loc, in.Name)
	}
	region := regionOf(loc)

	// network and subnetwork
	netRef := in.Network
	if netRef == "" {
		netRef = "default"
	}
	np, _, nname := parseRef(netRef, "networks", p)
	nw := c.network(np, nname, false)
	if nw == nil {
		return nil, invalid("Network \"%s\" does not exist.", nname)
	}
	if nw.deleting {
		return nil, invalid("Network \"%s\" is being deleted.", nname)
	}
	nk := netKey(np, nname)
	var sub *subnetwork
	if in.Subnetwork != "" {
		sp, sregion, sname := parseRef(in.Subnetwork, "subnetworks", p)
		if sregion != "" {
			sregion = strings.TrimPrefix(sregion, "regions/")
		} else {
			sregion = region
		}
		sub = c.subnet(sp, sregion, sname)
		if sub == nil || sregion != region {
			return nil, invalid("Subnetwork \"%s\" does not exist in region %s.", in.Subnetwork, region)
		}
		if sub.netKey != nk {
			return nil, invalid("Subnetwork \"%s\" is not in network \"%s\".", in.Subnetwork, nname)
		}
	} else {
		for _, s2 := range c.s.sortedSubnets() {
			if s2.visible && s2.netKey == nk && s2.region == region {
				sub = s2
				break
			}
		}
		if sub == nil && nw.n.IPv4Range == "" {
			return nil, invalid("Network \"%s\" has no subnetwork in region %s; specify cluster.subnetwork.", nname, region)
		}
	}

	// zones
	zones := in.Locations
	if len(zones) == 0 {
		if zoneRe.MatchString(loc) {
			zones = []string{loc}
		} else {
			zones = zonesOf(loc)[:3]
		}
	}
	for _, z := range zones {
		if !zoneRe.MatchString(z) || regionOf(z) != region {
			return nil, invalid("Location \"%s\" is not a zone of %s.", z, region)
		}
	}

	// node pools
	autopilot := in.Autopilot != nil && in.Autopilot.Enabled
	pools := in.NodePools
	if len(pools) > 0 && (in.InitialNodeCount > 0 || in.NodeConfig != nil) {
		return nil, invalid("Cluster.initial_node_count and Cluster.node_config must be unset when Cluster.node_pools is specified.")
	}
	if len(pools) == 0 && !autopilot {
		if in.InitialNodeCount <= 0 {
			return nil, invalid("Cluster.initial_node_count must be greater than zero.")
		}
		pools = []*container.NodePool{{Name: "default-pool", InitialNodeCount: in.InitialNodeCount, Config: in.NodeConfig}}
	}
	seen := map[string]bool{}
	for _, np := range pools {
		if !clusterNameRe.MatchString(np.Name) {
			return nil, invalid("Invalid value for field \"node_pool.name\": %q.", np.Name)
		}
		if seen[np.Name] {
			return nil, invalid("Node pool names must be unique: %q.", np.Name)
		}
		seen[np.Name] = true
		if np.InitialNodeCount < 0 || (np.InitialNodeCount == 0 && (np.Autoscaling == nil || !np.Autoscaling.Enabled)) {
			return nil, invalid("Node pool %q: initial_node_count must be greater than zero.", np.Name)
		}
	}

	c.s.st.clusterSeq++
	version := in.InitialClusterVersion
	if version == "" || version == "latest" || version == "-" {
		version = DefaultClusterVersion
	}
	endpoint := c.s.opts.KubeEndpoint
	if endpoint == "" {
		endpoint = fmt.Sprintf("192.0.2.%d", c.s.st.clusterSeq%254+1)
	}
	out := *in
	cl := &container.Cluster{}
	*cl = out
	cl.NodePools = nil
	cl.InitialNodeCount = 0
	cl.NodeConfig = nil
	cl.Location = loc
	cl.Zone = loc
	cl.Locations = zones
	cl.Network = nname
	cl.Id = randHex(32)
	cl.SelfLink = containerBase + "projects/" + p + "/locations/" + loc + "/clusters/" + in.Name
	cl.CreateTime = rfc3339(c.now)
	cl.Status = "PROVISIONING"
	cl.InitialClusterVersion = version
	cl.CurrentMasterVersion = version
	cl.CurrentNodeVersion = version
	cl.Endpoint = endpoint
	cl.MasterAuth = &container.MasterAuth{ClusterCaCertificate: base64.StdEncoding.EncodeToString(c.s.opts.KubeCA)}
	if cl.ClusterIpv4Cidr == "" {
		cl.ClusterIpv4Cidr = fmt.Sprintf("10.%d.0.0/14", 4*(c.s.st.clusterSeq%24+8)%256)
	}
	cl.ServicesIpv4Cidr = "34.118.224.0/20"
	cl.LoggingService = orDefault(cl.LoggingService, "logging.googleapis.com/kubernetes")
	cl.MonitoringService = orDefault(cl.MonitoringService, "monitoring.googleapis.com/kubernetes")
	cl.LabelFingerprint = randHex(8)
	cl.Etag = randHex(16)
	cl.ResourceLabels = cloneLabels(in.ResourceLabels)
	if cl.ReleaseChannel == nil {
		cl.ReleaseChannel = &container.ReleaseChannel{Channel: "REGULAR"}
	}
	if sub != nil {
		cl.Subnetwork = sub.sn.Name
	}
	if cl.NetworkConfig == nil {
		cl.NetworkConfig = &container.NetworkConfig{}
	}
	cl.NetworkConfig.Network = "projects/" + np + "/global/networks/" + nname
	if sub != nil {
		cl.NetworkConfig.Subnetwork = "projects/" + sub.project + "/regions/" + sub.region + "/subnetworks/" + sub.sn.Name
	}
	if cl.PrivateClusterConfig != nil && cl.PrivateClusterConfig.EnablePrivateNodes {
		cl.PrivateClusterConfig.PrivateEndpoint = endpoint
	}
	if autopilot {
		cl.Autopilot = &container.Autopilot{Enabled: true}
	}

	st := &cluster{project: p, location: loc, name: in.Name, c: cl, netKey: nk, zones: zones,
		hash: randHex(8), pools: map[string]*pool{}}
	if sub != nil {
		st.subnetLink = sub.sn.SelfLink
		st.subnetCIDR = sub.sn.IpCidrRange
	}
	c.s.st.clusters[key] = st

	o := c.containerOp("CREATE_CLUSTER", loc, cl.SelfLink, in.Name, c.s.opts.ClusterCreateDuration)
	for _, npIn := range pools {
		c.s.addPool(st, npIn, version, o.doneAt, c.now)
	}
	c.s.addGKEFirewalls(st, c.now)
	st.busy, st.createOp = o, o
	o.onDone = func(failed bool) {
		st.busy = nil
		if failed {
			cl.Status = "ERROR"
			cl.StatusMessage = o.failMsg
			cl.Conditions = []*container.StatusCondition{{Code: "UNKNOWN", CanonicalCode: "INTERNAL", Message: o.failMsg}}
			for _, pl := range st.pools {
				pl.np.Status = "ERROR"
				pl.np.StatusMessage = o.failMsg
			}
			return
		}
		cl.Status = "RUNNING"
		for _, pl := range st.pools {
			pl.np.Status = "RUNNING"
		}
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// addPool creates a node pool with its instance group managers and
// instances (ready at readyAt) in every zone of the pool.
func (s *Server) addPool(cl *cluster, in *container.NodePool, version string, readyAt, now time.Time) *pool {
	np := *in
	if np.Config == nil {
		np.Config = &container.NodeConfig{}
	}
	cfg := np.Config
	cfg.MachineType = orDefault(cfg.MachineType, "e2-medium")
	cfg.ImageType = orDefault(cfg.ImageType, "COS_CONTAINERD")
	cfg.DiskType = orDefault(cfg.DiskType, "pd-balanced")
	if cfg.DiskSizeGb == 0 {
		cfg.DiskSizeGb = 100
	}
	if len(cfg.OauthScopes) == 0 {
		cfg.OauthScopes = []string{"https://www.googleapis.com/auth/devstorage.read_only",
			"https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring"}
	}
	cfg.ServiceAccount = orDefault(cfg.ServiceAccount, "default")
	if len(np.Locations) == 0 {
		np.Locations = cl.zones
	}
	np.Version = orDefault(np.Version, version)
	np.Status = "PROVISIONING"
	np.SelfLink = cl.c.SelfLink + "/nodePools/" + np.Name
	if np.PodIpv4CidrSize == 0 {
		np.PodIpv4CidrSize = 24
	}
	if np.Management == nil {
		np.Management = &container.NodeManagement{AutoRepair: true, AutoUpgrade: true}
	}
	np.Etag = randHex(16)
	pl := &pool{np: &np, hash: randHex(8)}
	cl.pools[np.Name] = pl
	for _, z := range np.Locations {
		gname := fmt.Sprintf("gke-%s-%s-%s-grp", trunc(cl.name, 14), trunc(np.Name, 14), pl.hash)
		gkey := cl.project + "/" + z + "/" + gname
		g := &igm{project: cl.project, zone: z, name: gname, owner: cl.fullName(), pool: np.Name, netKey: cl.netKey, subnetLink: cl.subnetLink}
		g.m = &compute.InstanceGroupManager{
			Kind:              "compute#instanceGroupManager",
			Id:                s.nextID(),
			Name:              gname,
			Zone:              computeLink(cl.project, "zones/"+z),
			BaseInstanceName:  strings.TrimSuffix(gname, "-grp"),
			InstanceGroup:     computeLink(cl.project, "zones/"+z+"/instanceGroups/"+gname),
			InstanceTemplate:  computeLink(cl.project, "global/instanceTemplates/"+strings.TrimSuffix(gname, "-grp")),
			SelfLink:          computeLink(cl.project, "zones/"+z+"/instanceGroupManagers/"+gname),
			CreationTimestamp: computeTime(now),
			Fingerprint:       randHex(16),
		}
		s.st.igms[gkey] = g
		pl.igms = append(pl.igms, gkey)
		np.InstanceGroupUrls = append(np.InstanceGroupUrls, g.m.SelfLink)
		for i := int64(0); i < np.InitialNodeCount; i++ {
			s.addNode(cl, pl, g, readyAt, now)
		}
	}
	return pl
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) addNode(cl *cluster, pl *pool, g *igm, readyAt, now time.Time) {
	name := g.m.BaseInstanceName + "-" + randLower(4)
	p, z := cl.project, g.zone
	labels := map[string]string{
		"goog-gke-node":             "",
		"goog-k8s-cluster-name":     cl.name,
		"goog-k8s-cluster-location": cl.location,
		"goog-k8s-node-pool-name":   pl.np.Name,
	}
	for k, v := range cl.c.ResourceLabels {
		labels[k] = v
	}
	nic := &compute.NetworkInterface{
		Kind:       "compute#networkInterface",
		Name:       "nic0",
		Network:    computeLink(strings.SplitN(cl.netKey, "/", 2)[0], "global/networks/"+lastSegment(cl.netKey)),
		Subnetwork: cl.subnetLink,
		StackType:  "IPV4_ONLY",
	}
	if sub := s.subnetByLink(cl.subnetLink); sub != nil {
		nic.NetworkIP = sub.nextInternalIP()
	}
	private := cl.c.PrivateClusterConfig != nil && cl.c.PrivateClusterConfig.EnablePrivateNodes
	if !private {
		nic.AccessConfigs = []*compute.AccessConfig{{Kind: "compute#accessConfig", Type: "ONE_TO_ONE_NAT",
			Name: "external-nat", NatIP: s.nextNodeIP(), NetworkTier: "PREMIUM"}}
	}
	in := &compute.Instance{
		Kind:              "compute#instance",
		Id:                s.nextID(),
		Name:              name,
		Zone:              computeLink(p, "zones/"+z),
		MachineType:       computeLink(p, "zones/"+z+"/machineTypes/"+pl.np.Config.MachineType),
		CreationTimestamp: computeTime(now),
		SelfLink:          computeLink(p, "zones/"+z+"/instances/"+name),
		NetworkInterfaces: []*compute.NetworkInterface{nic},
		Labels:            labels,
		Tags:              &compute.Tags{Items: []string{"gke-" + trunc(cl.name, 20) + "-" + cl.hash + "-node"}},
		CanIpForward:      true,
		Metadata: &compute.Metadata{Items: []*compute.MetadataItems{
			{Key: "cluster-name", Value: &cl.name}, {Key: "cluster-location", Value: &cl.location},
			{Key: "created-by", Value: strPtr(g.m.SelfLink)}}},
	}
	key := p + "/" + z + "/" + name
	s.st.instances[key] = &instance{project: p, zone: z, in: in, owner: cl.fullName(), pool: pl.np.Name, netKey: cl.netKey, readyAt: readyAt}
	g.instances = append(g.instances, key)
}

func strPtr(s string) *string { return &s }

func (s *Server) subnetByLink(link string) *subnetwork {
	for _, sub := range s.st.subnets {
		if sub.sn.SelfLink == link {
			return sub
		}
	}
	return nil
}

// addGKEFirewalls creates the firewall rules GKE puts on the cluster's
// network (they keep the network in use until the cluster is deleted).
func (s *Server) addGKEFirewalls(cl *cluster, now time.Time) {
	p := strings.SplitN(cl.netKey, "/", 2)[0]
	netLink := computeLink(p, "global/networks/"+lastSegment(cl.netKey))
	tag := "gke-" + trunc(cl.name, 20) + "-" + cl.hash + "-node"
	rules := []struct {
		suffix  string
		src     []string
		allowed []*compute.FirewallAllowed
	}{
		{"all", []string{cl.c.ClusterIpv4Cidr}, []*compute.FirewallAllowed{{IPProtocol: "tcp"}, {IPProtocol: "udp"}, {IPProtocol: "icmp"}, {IPProtocol: "esp"}, {IPProtocol: "ah"}, {IPProtocol: "sctp"}}},
		{"vms", []string{orDefault(cl.subnetCIDR, "10.128.0.0/9")}, []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"1-65535"}}, {IPProtocol: "udp", Ports: []string{"1-65535"}}, {IPProtocol: "icmp"}}},
		{"inkubelet", []string{cl.c.ClusterIpv4Cidr}, []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"10255"}}}},
	}
	for _, r := range rules {
		name := "gke-" + trunc(cl.name, 20) + "-" + cl.hash + "-" + r.suffix
		fw := &compute.Firewall{
			Kind: "compute#firewall", Id: s.nextID(), Name: name, Network: netLink, Direction: "INGRESS",
			Priority: 1000, SourceRanges: r.src, TargetTags: []string{tag}, Allowed: r.allowed,
			CreationTimestamp: computeTime(now), SelfLink: computeLink(p, "global/firewalls/"+name),
			LogConfig: &compute.FirewallLogConfig{},
		}
		s.st.firewalls[p+"/"+name] = &firewall{project: p, fw: fw, netKey: cl.netKey, owner: cl.fullName(), visible: true}
	}
}

// removeCluster deletes a cluster and everything GKE made for it.
func (s *Server) removeCluster(cl *cluster) {
	delete(s.st.clusters, cl.project+"/"+cl.location+"/"+cl.name)
	owner := cl.fullName()
	for k, fw := range s.st.firewalls {
		if fw.owner == owner {
			delete(s.st.firewalls, k)
		}
	}
	for _, pl := range cl.pools {
		s.removePoolResources(pl)
	}
}

func (s *Server) removePoolResources(pl *pool) {
	for _, gk := range pl.igms {
		if g := s.st.igms[gk]; g != nil {
			for _, ik := range g.instances {
				delete(s.st.instances, ik)
			}
			delete(s.st.igms, gk)
		}
	}
	pl.igms = nil
}

func (c *call) renderCluster(cl *cluster) *container.Cluster {
	out := *cl.c
	out.NodePools = nil
	out.InstanceGroupUrls = nil
	count := int64(0)
	for _, name := range sortedKeys(cl.pools) {
		pl := cl.pools[name]
		np := c.renderPool(pl)
		out.NodePools = append(out.NodePools, np)
		out.InstanceGroupUrls = append(out.InstanceGroupUrls, np.InstanceGroupUrls...)
		for _, gk := range pl.igms {
			if g := c.s.st.igms[gk]; g != nil {
				count += int64(len(g.instances))
			}
		}
	}
	out.CurrentNodeCount = count
	return &out
}

func (c *call) renderPool(pl *pool) *container.NodePool {
	np := *pl.np
	np.InstanceGroupUrls = nil
	for _, gk := range pl.igms {
		if g := c.s.st.igms[gk]; g != nil {
			np.InstanceGroupUrls = append(np.InstanceGroupUrls, g.m.SelfLink)
		}
	}
	return &np
}

func (c *call) clustersGet() (any, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, err
	}
	return c.renderCluster(cl), nil
}

func (c *call) clustersList() (any, error) {
	out := &container.ListClustersResponse{Clusters: []*container.Cluster{}}
	for _, k := range sortedKeys(c.s.st.clusters) {
		cl := c.s.st.clusters[k]
		if cl.project == c.v("project") && (cl.location == c.v("location") || c.v("location") == "-") {
			out.Clusters = append(out.Clusters, c.renderCluster(cl))
		}
	}
	return out, nil
}

func (c *call) clustersDelete() (any, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, err
	}
	if cl.deleting {
		return nil, errf(400, "failedPrecondition", "Cluster %s is already being deleted.", cl.name).withStatus("FAILED_PRECONDITION")
	}
	if cl.busy != nil && !cl.busy.done && cl.busy != cl.createOp {
		return nil, incompatible(cl.busy)
	}
	if cl.createOp != nil && !cl.createOp.done {
		// deleting a cluster being created aborts the creation
		cl.createOp.failCode = "ABORTED"
		c.s.finishNow(cl.createOp, c.now, "Cluster was deleted during creation.", func(bool) {})
	}
	cl.deleting = true
	cl.c.Status = "STOPPING"
	for _, pl := range cl.pools {
		pl.np.Status = "STOPPING"
	}
	for _, pl := range cl.pools {
		for _, gk := range pl.igms {
			if g := c.s.st.igms[gk]; g != nil {
				for _, ik := range g.instances {
					if in := c.s.st.instances[ik]; in != nil {
						in.stopping = true
					}
				}
			}
		}
	}
	o := c.containerOp("DELETE_CLUSTER", cl.location, cl.c.SelfLink, cl.name, c.s.opts.ClusterDeleteDuration)
	cl.busy = o
	o.onDone = func(failed bool) {
		cl.busy = nil
		if failed {
			cl.deleting = false
			cl.c.Status = "ERROR"
			cl.c.StatusMessage = o.failMsg
			return
		}
		c.s.removeCluster(cl)
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}

func (c *call) clusterReady(cl *cluster) error {
	if cl.deleting {
		return errf(400, "failedPrecondition", "Cluster %s is being deleted.", cl.name).withStatus("FAILED_PRECONDITION")
	}
	if cl.busy != nil && !cl.busy.done {
		return incompatible(cl.busy)
	}
	if cl.c.Status != "RUNNING" {
		return errf(400, "failedPrecondition", "Cluster %s is not running (status %s).", cl.name, cl.c.Status).withStatus("FAILED_PRECONDITION")
	}
	return nil
}

func (c *call) clustersSetLabels() (any, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, err
	}
	var req container.SetLabelsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := c.clusterReady(cl); err != nil {
		return nil, err
	}
	if req.LabelFingerprint != "" && req.LabelFingerprint != cl.c.LabelFingerprint {
		return nil, errf(400, "failedPrecondition", "Labels could not be set due to fingerprint mismatch.").withStatus("FAILED_PRECONDITION")
	}
	o := c.containerOp("SET_LABELS", cl.location, cl.c.SelfLink, cl.name, c.s.opts.ClusterUpdateDuration/4)
	cl.busy = o
	o.onDone = func(failed bool) {
		cl.busy = nil
		if !failed {
			cl.c.ResourceLabels = cloneLabels(req.ResourceLabels)
			cl.c.LabelFingerprint = randHex(8)
		}
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// node pools

func (c *call) findPool() (*cluster, *pool, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, nil, err
	}
	pl := cl.pools[c.v("nodePool")]
	if pl == nil {
		return nil, nil, errf(404, "notFound", "Not found: projects/%s/locations/%s/clusters/%s/nodePools/%s.", cl.project, cl.location, cl.name, c.v("nodePool"))
	}
	return cl, pl, nil
}

func (c *call) nodePoolsList() (any, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, err
	}
	out := &container.ListNodePoolsResponse{NodePools: []*container.NodePool{}}
	for _, name := range sortedKeys(cl.pools) {
		out.NodePools = append(out.NodePools, c.renderPool(cl.pools[name]))
	}
	return out, nil
}

func (c *call) nodePoolsGet() (any, error) {
	_, pl, err := c.findPool()
	if err != nil {
		return nil, err
	}
	return c.renderPool(pl), nil
}

func (c *call) nodePoolsCreate() (any, error) {
	cl, err := c.findCluster()
	if err != nil {
		return nil, err
	}
	var req container.CreateNodePoolRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in := req.NodePool
	if in == nil || !clusterNameRe.MatchString(in.Name) {
		return nil, invalid("Invalid node pool.")
	}
	if cl.pools[in.Name] != nil {
		return nil, alreadyExists("Already exists: projects/%s/locations/%s/clusters/%s/nodePools/%s.", cl.project, cl.location, cl.name, in.Name)
	}
	if in.InitialNodeCount <= 0 && (in.Autoscaling == nil || !in.Autoscaling.Enabled) {
		return nil, invalid("Node pool %q: initial_node_count must be greater than zero.", in.Name)
	}
	if err := c.clusterReady(cl); err != nil {
		return nil, err
	}
	o := c.containerOp("CREATE_NODE_POOL", cl.location, cl.c.SelfLink+"/nodePools/"+in.Name, cl.name, c.s.opts.ClusterUpdateDuration)
	pl := c.s.addPool(cl, in, cl.c.CurrentNodeVersion, o.doneAt, c.now)
	cl.busy = o
	cl.c.Status = "RECONCILING"
	o.onDone = func(failed bool) {
		cl.busy = nil
		cl.c.Status = "RUNNING"
		if failed {
			pl.np.Status = "ERROR"
			pl.np.StatusMessage = o.failMsg
			return
		}
		pl.np.Status = "RUNNING"
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}

func (c *call) nodePoolsDelete() (any, error) {
	cl, pl, err := c.findPool()
	if err != nil {
		return nil, err
	}
	if pl.deleting {
		return nil, errf(400, "failedPrecondition", "Node pool %s is being deleted.", pl.np.Name).withStatus("FAILED_PRECONDITION")
	}
	if cl.deleting {
		return nil, errf(400, "failedPrecondition", "Cluster %s is being deleted.", cl.name).withStatus("FAILED_PRECONDITION")
	}
	if cl.busy != nil && !cl.busy.done {
		return nil, incompatible(cl.busy)
	}
	pl.deleting = true
	pl.np.Status = "STOPPING"
	cl.c.Status = "RECONCILING"
	o := c.containerOp("DELETE_NODE_POOL", cl.location, pl.np.SelfLink, cl.name, c.s.opts.ClusterUpdateDuration)
	cl.busy = o
	o.onDone = func(failed bool) {
		cl.busy = nil
		cl.c.Status = "RUNNING"
		pl.deleting = false
		if failed {
			pl.np.Status = "ERROR"
			return
		}
		c.s.removePoolResources(pl)
		delete(cl.pools, pl.np.Name)
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}

func (c *call) nodePoolsSetSize() (any, error) {
	cl, pl, err := c.findPool()
	if err != nil {
		return nil, err
	}
	var req container.SetNodePoolSizeRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.NodeCount < 0 {
		return nil, invalid("node_count must be >= 0.")
	}
	if err := c.clusterReady(cl); err != nil {
		return nil, err
	}
	o := c.containerOp("SET_NODE_POOL_SIZE", cl.location, pl.np.SelfLink, cl.name, c.s.opts.ClusterUpdateDuration)
	cl.busy = o
	cl.c.Status = "RECONCILING"
	now := c.now
	o.onDone = func(failed bool) {
		cl.busy = nil
		cl.c.Status = "RUNNING"
		if failed {
			return
		}
		for _, gk := range pl.igms {
			g := c.s.st.igms[gk]
			if g == nil {
				continue
			}
			for int64(len(g.instances)) < req.NodeCount {
				c.s.addNode(cl, pl, g, now, now)
			}
			for int64(len(g.instances)) > req.NodeCount {
				last := g.instances[len(g.instances)-1]
				delete(c.s.st.instances, last)
				g.instances = g.instances[:len(g.instances)-1]
			}
		}
	}
	c.s.startOp(o)
	return c.s.renderContainerOp(o, c.now), nil
}
