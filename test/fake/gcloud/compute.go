package gcloud

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	compute "google.golang.org/api/compute/v1"
)

// computeBase is the host+path Compute uses in selfLinks (and GKE in
// instanceGroupUrls).
const computeBase = "https://www.googleapis.com/compute/v1/"

func computeLink(project, rest string) string {
	return computeBase + "projects/" + project + "/" + rest
}

var computeNameRe = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$`)

func checkComputeName(name string) error {
	if !computeNameRe.MatchString(name) {
		return errf(400, "invalid", "Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", name)
	}
	return nil
}

// autoRegions are the regions where an auto-mode network gets a subnetwork
// (with Google's auto-mode ranges).
var autoRegions = []struct{ region, cidr string }{
	{"asia-east1", "10.140.0.0/20"},
	{"europe-west1", "10.132.0.0/20"},
	{"us-central1", "10.128.0.0/20"},
	{"us-east1", "10.142.0.0/20"},
	{"us-west1", "10.138.0.0/20"},
}

// ---------------------------------------------------------------------------
// state

type network struct {
	project  string
	n        *compute.Network
	visible  bool // false until its insert operation is done
	deleting bool
}

type subnetwork struct {
	project, region string
	sn              *compute.Subnetwork
	netKey          string
	owner           string // network full name for auto-mode subnets
	visible         bool
	deleting        bool
	prefix          netip.Prefix
	nextHost        int
}

type firewall struct {
	project  string
	fw       *compute.Firewall
	netKey   string
	owner    string // GKE cluster full name
	visible  bool
	deleting bool
}

type instance struct {
	project, zone string
	in            *compute.Instance
	owner         string // GKE cluster full name
	pool          string
	netKey        string
	readyAt       time.Time
	stopping      bool
}

type igm struct {
	project, zone, name string
	m                   *compute.InstanceGroupManager
	owner               string
	pool                string
	instances           []string // instance keys
	netKey, subnetLink  string
}

func netKey(project, name string) string { return project + "/" + name }

func (s *Server) networkFullName(k string) string {
	p, n, _ := strings.Cut(k, "/")
	return "projects/" + p + "/global/networks/" + n
}

// parseRef splits a full or partial Compute URL ("https://.../projects/p/
// global/networks/n", "projects/p/global/networks/n", "global/networks/n"
// or "n") into project and name.
func parseRef(ref, collection, defProject string) (project, scope, name string) {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "projects/"); i >= 0 {
		ref = ref[i:]
	}
	parts := strings.Split(strings.Trim(ref, "/"), "/")
	project = defProject
	if len(parts) >= 2 && parts[0] == "projects" {
		project = parts[1]
		parts = parts[2:]
	}
	if len(parts) >= 2 && parts[len(parts)-2] == collection {
		name = parts[len(parts)-1]
		scope = strings.Join(parts[:len(parts)-2], "/")
		return
	}
	if len(parts) == 1 {
		name = parts[0]
	}
	return
}

// ---------------------------------------------------------------------------
// routes

func init() {
	register(Compute, map[string]handler{
		"POST projects/{project}/global/networks networks.insert":             (*call).networksInsert,
		"GET projects/{project}/global/networks networks.list":                (*call).networksList,
		"GET projects/{project}/global/networks/{network} networks.get":       (*call).networksGet,
		"DELETE projects/{project}/global/networks/{network} networks.delete": (*call).networksDelete,
		"PATCH projects/{project}/global/networks/{network} networks.patch":   (*call).networksPatch,

		"POST projects/{project}/regions/{region}/subnetworks subnetworks.insert":                (*call).subnetworksInsert,
		"GET projects/{project}/regions/{region}/subnetworks subnetworks.list":                   (*call).subnetworksList,
		"GET projects/{project}/regions/{region}/subnetworks/{subnetwork} subnetworks.get":       (*call).subnetworksGet,
		"DELETE projects/{project}/regions/{region}/subnetworks/{subnetwork} subnetworks.delete": (*call).subnetworksDelete,
		"GET projects/{project}/aggregated/subnetworks subnetworks.aggregatedList":               (*call).subnetworksAggregated,

		"POST projects/{project}/global/firewalls firewalls.insert":              (*call).firewallsInsert,
		"GET projects/{project}/global/firewalls firewalls.list":                 (*call).firewallsList,
		"GET projects/{project}/global/firewalls/{firewall} firewalls.get":       (*call).firewallsGet,
		"DELETE projects/{project}/global/firewalls/{firewall} firewalls.delete": (*call).firewallsDelete,
		"PATCH projects/{project}/global/firewalls/{firewall} firewalls.patch":   (*call).firewallsPatch,
		"PUT projects/{project}/global/firewalls/{firewall} firewalls.update":    (*call).firewallsUpdate,

		"GET projects/{project}/global/operations/{operation} globalOperations.get":                  (*call).computeOpGet,
		"POST projects/{project}/global/operations/{operation}/wait globalOperations.wait":           (*call).computeOpWait,
		"GET projects/{project}/global/operations globalOperations.list":                             (*call).computeOpList,
		"GET projects/{project}/regions/{region}/operations/{operation} regionOperations.get":        (*call).computeOpGet,
		"POST projects/{project}/regions/{region}/operations/{operation}/wait regionOperations.wait": (*call).computeOpWait,
		"GET projects/{project}/zones/{zone}/operations/{operation} zoneOperations.get":              (*call).computeOpGet,
		"POST projects/{project}/zones/{zone}/operations/{operation}/wait zoneOperations.wait":       (*call).computeOpWait,

		"GET projects/{project}/zones/{zone}/instanceGroupManagers instanceGroupManagers.list":                                                              (*call).igmList,
		"GET projects/{project}/zones/{zone}/instanceGroupManagers/{instanceGroupManager} instanceGroupManagers.get":                                        (*call).igmGet,
		"POST projects/{project}/zones/{zone}/instanceGroupManagers/{instanceGroupManager}/listManagedInstances instanceGroupManagers.listManagedInstances": (*call).igmListManaged,
		"GET projects/{project}/zones/{zone}/instanceGroups instanceGroups.list":                                                                            (*call).igList,
		"GET projects/{project}/zones/{zone}/instanceGroups/{instanceGroup} instanceGroups.get":                                                             (*call).igGet,
		"POST projects/{project}/zones/{zone}/instanceGroups/{instanceGroup}/listInstances instanceGroups.listInstances":                                    (*call).igListInstances,
		"GET projects/{project}/zones/{zone}/instances instances.list":                                                                                      (*call).instancesList,
		"GET projects/{project}/zones/{zone}/instances/{instance} instances.get":                                                                            (*call).instancesGet,
		"GET projects/{project}/aggregated/instances instances.aggregatedList":                                                                              (*call).instancesAggregated,
	})
}

// ---------------------------------------------------------------------------
// operations

func (c *call) computeOp(kind, scope, targetLink string, targetID uint64, d time.Duration) *op {
	o := c.s.newOp(c, kind, d)
	o.project = c.v("project")
	o.scope = scope
	o.name = fmt.Sprintf("operation-%d-%s-%s-%s", c.now.UnixMilli(), randHex(13), randHex(8), randHex(8))
	o.targetLink = targetLink
	o.targetID = targetID
	if o.failMsg != "" {
		o.failCode = "INTERNAL_ERROR"
	}
	return o
}

func (s *Server) renderComputeOp(o *op, now time.Time) *compute.Operation {
	st := o.status(now)
	co := &compute.Operation{
		Kind:          "compute#operation",
		Id:            o.id,
		Name:          o.name,
		OperationType: o.kind,
		TargetLink:    o.targetLink,
		TargetId:      o.targetID,
		Status:        st,
		User:          "fake-user@example.com",
		InsertTime:    computeTime(o.start),
		SelfLink:      computeLink(o.project, o.scope+"/operations/"+o.name),
	}
	if st != "PENDING" {
		co.StartTime = computeTime(o.runAt)
	}
	if st == "DONE" {
		co.EndTime = computeTime(o.doneAt)
		co.Progress = 100
	}
	switch {
	case strings.HasPrefix(o.scope, "regions/"):
		co.Region = computeLink(o.project, o.scope)
	case strings.HasPrefix(o.scope, "zones/"):
		co.Zone = computeLink(o.project, o.scope)
	}
	if o.failed() {
		co.Error = &compute.OperationError{Errors: []*compute.OperationErrorErrors{{Code: o.failCode, Message: o.failMsg}}}
		co.HttpErrorStatusCode = 500
		co.HttpErrorMessage = "INTERNAL SERVER ERROR"
	}
	return co
}

func (c *call) computeScope() string {
	switch {
	case c.v("region") != "":
		return "regions/" + c.v("region")
	case c.v("zone") != "":
		return "zones/" + c.v("zone")
	}
	return "global"
}

func (c *call) findComputeOp() (*op, error) {
	o := c.s.lookupOp(Compute, c.v("operation"))
	if o == nil || o.project != c.v("project") || o.scope != c.computeScope() {
		return nil, notFound("The resource 'projects/%s/%s/operations/%s' was not found", c.v("project"), c.computeScope(), c.v("operation"))
	}
	return o, nil
}

func (c *call) computeOpGet() (any, error) {
	o, err := c.findComputeOp()
	if err != nil {
		return nil, err
	}
	return c.s.renderComputeOp(o, c.now), nil
}

// computeOpWait blocks until the operation is done, at most 2 minutes (as
// Compute does) or until the request is cancelled.
func (c *call) computeOpWait() (any, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c.s.mu.Lock()
		c.now = time.Now()
		c.s.advance(c.now)
		o, err := c.findComputeOp()
		var out *compute.Operation
		if err == nil {
			out = c.s.renderComputeOp(o, c.now)
		}
		c.s.mu.Unlock()
		if err != nil || out.Status == "DONE" || time.Now().After(deadline) {
			return out, err
		}
		select {
		case <-c.r.Context().Done():
			return out, nil
		case <-c.s.closed:
			return out, nil
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *call) computeOpList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	var items []*compute.Operation
	for _, o := range c.s.ops {
		if o.api == Compute && o.project == c.v("project") && o.scope == "global" {
			co := c.s.renderComputeOp(o, c.now)
			if matchFilter(terms, co) {
				items = append(items, co)
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].InsertTime < items[j].InsertTime })
	return &compute.OperationList{Kind: "compute#operationList", Items: items,
		SelfLink: computeLink(c.v("project"), "global/operations")}, nil
}

// ---------------------------------------------------------------------------
// networks

func (c *call) network(project, name string, includeHidden bool) *network {
	n := c.s.st.networks[netKey(project, name)]
	if n == nil || (!n.visible && !includeHidden) {
		return nil
	}
	return n
}

func networkNotFound(project, name string) error {
	return notFound("The resource 'projects/%s/global/networks/%s' was not found", project, name)
}

func (c *call) networksInsert() (any, error) {
	var in compute.Network
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkComputeName(in.Name); err != nil {
		return nil, err
	}
	p := c.v("project")
	if c.network(p, in.Name, true) != nil {
		return nil, alreadyExists("The resource 'projects/%s/global/networks/%s' already exists", p, in.Name)
	}
	n := &compute.Network{
		Kind:                                  "compute#network",
		Id:                                    c.s.nextID(),
		Name:                                  in.Name,
		Description:                           in.Description,
		AutoCreateSubnetworks:                 in.AutoCreateSubnetworks,
		IPv4Range:                             in.IPv4Range,
		RoutingConfig:                         in.RoutingConfig,
		Mtu:                                   in.Mtu,
		CreationTimestamp:                     computeTime(c.now),
		SelfLink:                              computeLink(p, "global/networks/"+in.Name),
		NetworkFirewallPolicyEnforcementOrder: "AFTER_CLASSIC_FIREWALL",
	}
	n.SelfLinkWithId = computeLink(p, fmt.Sprintf("global/networks/%d", n.Id))
	if n.RoutingConfig == nil {
		n.RoutingConfig = &compute.NetworkRoutingConfig{RoutingMode: "REGIONAL"}
	}
	if n.Mtu == 0 {
		n.Mtu = 1460
	}
	if n.IPv4Range != "" {
		n.GatewayIPv4 = gatewayOf(n.IPv4Range)
	}
	nw := &network{project: p, n: n}
	key := netKey(p, in.Name)
	c.s.st.networks[key] = nw
	o := c.computeOp("insert", "global", n.SelfLink, n.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		if failed {
			delete(c.s.st.networks, key)
			return
		}
		nw.visible = true
		if n.AutoCreateSubnetworks {
			for _, ar := range autoRegions {
				c.s.addSubnet(p, ar.region, in.Name, ar.cidr, key, "projects/"+p+"/global/networks/"+in.Name, o.doneAt)
			}
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

func gatewayOf(cidr string) string {
	pf, err := netip.ParsePrefix(cidr)
	if err != nil {
		return ""
	}
	return pf.Masked().Addr().Next().String()
}

func (s *Server) addSubnet(project, region, name, cidr, nk, owner string, now time.Time) *subnetwork {
	pf, _ := netip.ParsePrefix(cidr)
	sn := &compute.Subnetwork{
		Kind:              "compute#subnetwork",
		Id:                s.nextID(),
		Name:              name,
		Network:           computeLink(project, "global/networks/"+lastSegment(nk)),
		IpCidrRange:       cidr,
		GatewayAddress:    gatewayOf(cidr),
		Region:            computeLink(project, "regions/"+region),
		SelfLink:          computeLink(project, "regions/"+region+"/subnetworks/"+name),
		CreationTimestamp: computeTime(now),
		Fingerprint:       randHex(16),
		StackType:         "IPV4_ONLY",
		Purpose:           "PRIVATE",
	}
	sub := &subnetwork{project: project, region: region, sn: sn, netKey: nk, owner: owner, visible: true, prefix: pf.Masked(), nextHost: 2}
	s.st.subnets[project+"/"+region+"/"+name] = sub
	return sub
}

func (c *call) renderNetwork(n *network) *compute.Network {
	out := *n.n
	out.Subnetworks = nil
	for _, sub := range c.s.sortedSubnets() {
		if sub.visible && sub.netKey == netKey(n.project, n.n.Name) {
			out.Subnetworks = append(out.Subnetworks, sub.sn.SelfLink)
		}
	}
	return &out
}

func (c *call) networksGet() (any, error) {
	n := c.network(c.v("project"), c.v("network"), false)
	if n == nil {
		return nil, networkNotFound(c.v("project"), c.v("network"))
	}
	return c.renderNetwork(n), nil
}

func (c *call) networksList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	var items []*compute.Network
	for _, k := range sortedKeys(c.s.st.networks) {
		n := c.s.st.networks[k]
		if n.project == c.v("project") && n.visible {
			r := c.renderNetwork(n)
			if matchFilter(terms, r) {
				items = append(items, r)
			}
		}
	}
	return &compute.NetworkList{Kind: "compute#networkList", Items: items, SelfLink: computeLink(c.v("project"), "global/networks")}, nil
}

// networkUsers lists what keeps a network from being deleted.
func (s *Server) networkUsers(nk string) []string {
	var users []string
	for _, k := range sortedKeys(s.st.firewalls) {
		if fw := s.st.firewalls[k]; fw.netKey == nk {
			users = append(users, "projects/"+fw.project+"/global/firewalls/"+fw.fw.Name)
		}
	}
	for _, sub := range s.sortedSubnets() {
		if sub.netKey == nk && sub.owner == "" {
			users = append(users, "projects/"+sub.project+"/regions/"+sub.region+"/subnetworks/"+sub.sn.Name)
		}
	}
	for _, k := range sortedKeys(s.st.instances) {
		if in := s.st.instances[k]; in.netKey == nk {
			users = append(users, "projects/"+in.project+"/zones/"+in.zone+"/instances/"+in.in.Name)
		}
	}
	for _, k := range sortedKeys(s.st.clusters) {
		if cl := s.st.clusters[k]; cl.netKey == nk {
			users = append(users, cl.fullName())
		}
	}
	return users
}

func (c *call) networksDelete() (any, error) {
	p, name := c.v("project"), c.v("network")
	n := c.network(p, name, false)
	if n == nil {
		return nil, networkNotFound(p, name)
	}
	if n.deleting {
		return nil, errf(400, "resourceNotReady", "The resource 'projects/%s/global/networks/%s' is not ready", p, name)
	}
	key := netKey(p, name)
	if users := c.s.networkUsers(key); len(users) > 0 {
		return nil, errf(400, "resourceInUseByAnotherResource",
			"The network resource 'projects/%s/global/networks/%s' is already being used by '%s'", p, name, users[0])
	}
	n.deleting = true
	o := c.computeOp("delete", "global", n.n.SelfLink, n.n.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		n.deleting = false
		if failed {
			return
		}
		delete(c.s.st.networks, key)
		for k, sub := range c.s.st.subnets {
			if sub.netKey == key {
				delete(c.s.st.subnets, k)
			}
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

func (c *call) networksPatch() (any, error) {
	p, name := c.v("project"), c.v("network")
	n := c.network(p, name, false)
	if n == nil {
		return nil, networkNotFound(p, name)
	}
	var in compute.Network
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	raw := c.rawBody()
	o := c.computeOp("patch", "global", n.n.SelfLink, n.n.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		if failed {
			return
		}
		if _, ok := raw["description"]; ok {
			n.n.Description = in.Description
		}
		if in.RoutingConfig != nil {
			n.n.RoutingConfig = in.RoutingConfig
		}
		if in.Mtu != 0 {
			n.n.Mtu = in.Mtu
		}
		if v, ok := raw["autoCreateSubnetworks"].(bool); ok && !v && n.n.AutoCreateSubnetworks {
			// switch to custom mode: the auto subnets become ordinary ones
			n.n.AutoCreateSubnetworks = false
			for _, sub := range c.s.st.subnets {
				if sub.netKey == netKey(p, name) {
					sub.owner = ""
				}
			}
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// subnetworks

func (s *Server) sortedSubnets() []*subnetwork {
	var out []*subnetwork
	for _, k := range sortedKeys(s.st.subnets) {
		out = append(out, s.st.subnets[k])
	}
	return out
}

func (c *call) subnet(project, region, name string) *subnetwork {
	sub := c.s.st.subnets[project+"/"+region+"/"+name]
	if sub == nil || !sub.visible {
		return nil
	}
	return sub
}

func subnetNotFound(project, region, name string) error {
	return notFound("The resource 'projects/%s/regions/%s/subnetworks/%s' was not found", project, region, name)
}

func (c *call) subnetworksInsert() (any, error) {
	var in compute.Subnetwork
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkComputeName(in.Name); err != nil {
		return nil, err
	}
	p, region := c.v("project"), c.v("region")
	if c.s.st.subnets[p+"/"+region+"/"+in.Name] != nil {
		return nil, alreadyExists("The resource 'projects/%s/regions/%s/subnetworks/%s' already exists", p, region, in.Name)
	}
	if in.Network == "" {
		return nil, errf(400, "required", "Required field 'resource.network' not specified")
	}
	np, _, nname := parseRef(in.Network, "networks", p)
	n := c.network(np, nname, false)
	if n == nil {
		return nil, networkNotFound(np, nname)
	}
	if n.n.IPv4Range != "" {
		return nil, invalid("Invalid value for field 'resource.network': '%s'. Legacy networks cannot have subnetworks.", in.Network)
	}
	pf, err := netip.ParsePrefix(in.IpCidrRange)
	if err != nil || !pf.Addr().Is4() || pf.Bits() > 29 {
		return nil, invalid("Invalid value for field 'resource.ipCidrRange': '%s'. Invalid IPCidrRange: %s.", in.IpCidrRange, in.IpCidrRange)
	}
	nk := netKey(np, nname)
	for _, other := range c.s.sortedSubnets() {
		if other.netKey == nk && other.prefix.Overlaps(pf.Masked()) {
			return nil, invalid("Invalid IPCidrRange: %s conflicts with existing subnetwork '%s' in region '%s'.", in.IpCidrRange, other.sn.Name, other.region)
		}
	}
	sub := c.s.addSubnet(p, region, in.Name, pf.Masked().String(), nk, "", c.now)
	sub.visible = false
	sub.sn.Description = in.Description
	sub.sn.PrivateIpGoogleAccess = in.PrivateIpGoogleAccess
	sub.sn.SecondaryIpRanges = in.SecondaryIpRanges
	key := p + "/" + region + "/" + in.Name
	o := c.computeOp("insert", "regions/"+region, sub.sn.SelfLink, sub.sn.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		if failed {
			delete(c.s.st.subnets, key)
			return
		}
		sub.visible = true
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

func (c *call) subnetworksGet() (any, error) {
	sub := c.subnet(c.v("project"), c.v("region"), c.v("subnetwork"))
	if sub == nil {
		return nil, subnetNotFound(c.v("project"), c.v("region"), c.v("subnetwork"))
	}
	return sub.sn, nil
}

func (c *call) subnetworksList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	var items []*compute.Subnetwork
	for _, sub := range c.s.sortedSubnets() {
		if sub.visible && sub.project == c.v("project") && sub.region == c.v("region") && matchFilter(terms, sub.sn) {
			items = append(items, sub.sn)
		}
	}
	return &compute.SubnetworkList{Kind: "compute#subnetworkList", Items: items,
		SelfLink: computeLink(c.v("project"), "regions/"+c.v("region")+"/subnetworks")}, nil
}

func (c *call) subnetworksAggregated() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	items := map[string]compute.SubnetworksScopedList{}
	for _, sub := range c.s.sortedSubnets() {
		if sub.visible && sub.project == c.v("project") && matchFilter(terms, sub.sn) {
			k := "regions/" + sub.region
			l := items[k]
			l.Subnetworks = append(l.Subnetworks, sub.sn)
			items[k] = l
		}
	}
	return &compute.SubnetworkAggregatedList{Kind: "compute#subnetworkAggregatedList", Items: items,
		SelfLink: computeLink(c.v("project"), "aggregated/subnetworks")}, nil
}

func (c *call) subnetworksDelete() (any, error) {
	p, region, name := c.v("project"), c.v("region"), c.v("subnetwork")
	sub := c.subnet(p, region, name)
	if sub == nil {
		return nil, subnetNotFound(p, region, name)
	}
	if sub.deleting {
		return nil, errf(400, "resourceNotReady", "The resource 'projects/%s/regions/%s/subnetworks/%s' is not ready", p, region, name)
	}
	if sub.owner != "" {
		return nil, invalid("Cannot delete auto subnetwork from an auto subnet mode network.")
	}
	for _, k := range sortedKeys(c.s.st.instances) {
		in := c.s.st.instances[k]
		for _, nic := range in.in.NetworkInterfaces {
			if nic.Subnetwork == sub.sn.SelfLink {
				return nil, errf(400, "resourceInUseByAnotherResource",
					"The subnetwork resource 'projects/%s/regions/%s/subnetworks/%s' is already being used by 'projects/%s/zones/%s/instances/%s'",
					p, region, name, in.project, in.zone, in.in.Name)
			}
		}
	}
	for _, k := range sortedKeys(c.s.st.clusters) {
		if cl := c.s.st.clusters[k]; cl.subnetLink == sub.sn.SelfLink {
			return nil, errf(400, "resourceInUseByAnotherResource",
				"The subnetwork resource 'projects/%s/regions/%s/subnetworks/%s' is already being used by '%s'", p, region, name, cl.fullName())
		}
	}
	sub.deleting = true
	key := p + "/" + region + "/" + name
	o := c.computeOp("delete", "regions/"+region, sub.sn.SelfLink, sub.sn.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		sub.deleting = false
		if !failed {
			delete(c.s.st.subnets, key)
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// firewalls

func (c *call) firewall(project, name string, includeHidden bool) *firewall {
	fw := c.s.st.firewalls[project+"/"+name]
	if fw == nil || (!fw.visible && !includeHidden) {
		return nil
	}
	return fw
}

func firewallNotFound(project, name string) error {
	return notFound("The resource 'projects/%s/global/firewalls/%s' was not found", project, name)
}

// normalizeFirewall validates and fills a firewall from the request.
func (c *call) normalizeFirewall(in *compute.Firewall, raw map[string]any) (string, error) {
	p := c.v("project")
	if in.Network == "" {
		in.Network = "global/networks/default"
	}
	np, _, nname := parseRef(in.Network, "networks", p)
	if c.network(np, nname, false) == nil {
		return "", networkNotFound(np, nname)
	}
	in.Network = computeLink(np, "global/networks/"+nname)
	if len(in.Allowed) == 0 && len(in.Denied) == 0 {
		return "", errf(400, "invalid", "Invalid value for field 'resource': ''. Exactly one of allowed or denied rules must be specified.")
	}
	if len(in.Allowed) > 0 && len(in.Denied) > 0 {
		return "", errf(400, "invalid", "Invalid value for field 'resource': ''. Exactly one of allowed or denied rules must be specified.")
	}
	for _, a := range append(append([]*compute.FirewallAllowed{}, in.Allowed...), toAllowed(in.Denied)...) {
		switch strings.ToLower(a.IPProtocol) {
		case "tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all":
		default:
			if a.IPProtocol == "" || strings.Trim(a.IPProtocol, "0123456789") != "" {
				return "", invalid("Invalid value for field 'resource.allowed[0].IPProtocol': '%s'. Invalid IP protocol specification.", a.IPProtocol)
			}
		}
		for _, port := range a.Ports {
			if strings.Trim(port, "0123456789-") != "" {
				return "", invalid("Invalid value for field 'resource.allowed[0].ports[0]': '%s'. Invalid port specification.", port)
			}
		}
	}
	if in.Direction == "" {
		in.Direction = "INGRESS"
	}
	if _, ok := raw["priority"]; !ok {
		in.Priority = 1000
	}
	for _, r := range append(append([]string{}, in.SourceRanges...), in.DestinationRanges...) {
		if _, err := netip.ParsePrefix(r); err != nil {
			if _, err2 := netip.ParseAddr(r); err2 != nil {
				return "", invalid("Invalid value for field 'resource.sourceRanges[0]': '%s'. Must be a CIDR address range that is contained in the network.", r)
			}
		}
	}
	if in.Direction == "INGRESS" && len(in.SourceRanges) == 0 && len(in.SourceTags) == 0 && len(in.SourceServiceAccounts) == 0 {
		in.SourceRanges = []string{"0.0.0.0/0"}
	}
	if in.Direction == "EGRESS" && len(in.DestinationRanges) == 0 {
		in.DestinationRanges = []string{"0.0.0.0/0"}
	}
	if in.LogConfig == nil {
		in.LogConfig = &compute.FirewallLogConfig{Enable: false}
	}
	in.Kind = "compute#firewall"
	return netKey(np, nname), nil
}

func toAllowed(d []*compute.FirewallDenied) []*compute.FirewallAllowed {
	var out []*compute.FirewallAllowed
	for _, x := range d {
		out = append(out, &compute.FirewallAllowed{IPProtocol: x.IPProtocol, Ports: x.Ports})
	}
	return out
}

func (c *call) firewallsInsert() (any, error) {
	var in compute.Firewall
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkComputeName(in.Name); err != nil {
		return nil, err
	}
	p := c.v("project")
	if c.firewall(p, in.Name, true) != nil {
		return nil, alreadyExists("The resource 'projects/%s/global/firewalls/%s' already exists", p, in.Name)
	}
	nk, err := c.normalizeFirewall(&in, c.rawBody())
	if err != nil {
		return nil, err
	}
	in.Id = c.s.nextID()
	in.CreationTimestamp = computeTime(c.now)
	in.SelfLink = computeLink(p, "global/firewalls/"+in.Name)
	fw := &firewall{project: p, fw: &in, netKey: nk}
	key := p + "/" + in.Name
	c.s.st.firewalls[key] = fw
	o := c.computeOp("insert", "global", in.SelfLink, in.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		if failed {
			delete(c.s.st.firewalls, key)
			return
		}
		fw.visible = true
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

func (c *call) firewallsGet() (any, error) {
	fw := c.firewall(c.v("project"), c.v("firewall"), false)
	if fw == nil {
		return nil, firewallNotFound(c.v("project"), c.v("firewall"))
	}
	return fw.fw, nil
}

func (c *call) firewallsList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	var items []*compute.Firewall
	for _, k := range sortedKeys(c.s.st.firewalls) {
		fw := c.s.st.firewalls[k]
		if fw.visible && fw.project == c.v("project") && matchFilter(terms, fw.fw) {
			items = append(items, fw.fw)
		}
	}
	return &compute.FirewallList{Kind: "compute#firewallList", Items: items, SelfLink: computeLink(c.v("project"), "global/firewalls")}, nil
}

func (c *call) firewallsDelete() (any, error) {
	p, name := c.v("project"), c.v("firewall")
	fw := c.firewall(p, name, false)
	if fw == nil {
		return nil, firewallNotFound(p, name)
	}
	if fw.deleting {
		return nil, errf(400, "resourceNotReady", "The resource 'projects/%s/global/firewalls/%s' is not ready", p, name)
	}
	fw.deleting = true
	key := p + "/" + name
	o := c.computeOp("delete", "global", fw.fw.SelfLink, fw.fw.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		fw.deleting = false
		if !failed {
			delete(c.s.st.firewalls, key)
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

func (c *call) firewallsPatch() (any, error)  { return c.firewallsModify(true) }
func (c *call) firewallsUpdate() (any, error) { return c.firewallsModify(false) }

func (c *call) firewallsModify(patch bool) (any, error) {
	p, name := c.v("project"), c.v("firewall")
	fw := c.firewall(p, name, false)
	if fw == nil {
		return nil, firewallNotFound(p, name)
	}
	if fw.deleting {
		return nil, errf(400, "resourceNotReady", "The resource 'projects/%s/global/firewalls/%s' is not ready", p, name)
	}
	var next compute.Firewall
	raw := c.rawBody()
	if patch {
		next = *fw.fw
		if err := c.decode(&next); err != nil {
			return nil, err
		}
		raw["priority"] = true
	} else if err := c.decode(&next); err != nil {
		return nil, err
	}
	next.Name, next.Id, next.SelfLink, next.CreationTimestamp = fw.fw.Name, fw.fw.Id, fw.fw.SelfLink, fw.fw.CreationTimestamp
	if next.Network == "" {
		next.Network = fw.fw.Network
	}
	nk, err := c.normalizeFirewall(&next, raw)
	if err != nil {
		return nil, err
	}
	kind := "update"
	if patch {
		kind = "patch"
	}
	o := c.computeOp(kind, "global", fw.fw.SelfLink, fw.fw.Id, c.s.opts.OperationDuration)
	o.onDone = func(failed bool) {
		if !failed {
			fw.fw = &next
			fw.netKey = nk
		}
	}
	c.s.startOp(o)
	return c.s.renderComputeOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// instances and instance groups (created by GKE node pools)

func (s *Server) instanceStatus(in *instance, now time.Time) string {
	switch {
	case in.stopping:
		return "STOPPING"
	case now.Before(in.readyAt):
		return "PROVISIONING"
	}
	return "RUNNING"
}

func (c *call) renderInstance(in *instance) *compute.Instance {
	out := *in.in
	out.Status = c.s.instanceStatus(in, c.now)
	return &out
}

func (c *call) instancesGet() (any, error) {
	p, z, name := c.v("project"), c.v("zone"), c.v("instance")
	in := c.s.st.instances[p+"/"+z+"/"+name]
	if in == nil {
		return nil, notFound("The resource 'projects/%s/zones/%s/instances/%s' was not found", p, z, name)
	}
	return c.renderInstance(in), nil
}

func (c *call) instancesList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	var items []*compute.Instance
	for _, k := range sortedKeys(c.s.st.instances) {
		in := c.s.st.instances[k]
		if in.project == c.v("project") && in.zone == c.v("zone") {
			r := c.renderInstance(in)
			if matchFilter(terms, r) {
				items = append(items, r)
			}
		}
	}
	return &compute.InstanceList{Kind: "compute#instanceList", Items: items,
		SelfLink: computeLink(c.v("project"), "zones/"+c.v("zone")+"/instances")}, nil
}

func (c *call) instancesAggregated() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	items := map[string]compute.InstancesScopedList{}
	for _, k := range sortedKeys(c.s.st.instances) {
		in := c.s.st.instances[k]
		if in.project != c.v("project") {
			continue
		}
		r := c.renderInstance(in)
		if !matchFilter(terms, r) {
			continue
		}
		l := items["zones/"+in.zone]
		l.Instances = append(l.Instances, r)
		items["zones/"+in.zone] = l
	}
	return &compute.InstanceAggregatedList{Kind: "compute#instanceAggregatedList", Items: items,
		SelfLink: computeLink(c.v("project"), "aggregated/instances")}, nil
}

func (c *call) findIGM(name string) (*igm, error) {
	p, z := c.v("project"), c.v("zone")
	g := c.s.st.igms[p+"/"+z+"/"+name]
	if g == nil {
		return nil, notFound("The resource 'projects/%s/zones/%s/instanceGroupManagers/%s' was not found", p, z, name)
	}
	return g, nil
}

func (c *call) renderIGM(g *igm) *compute.InstanceGroupManager {
	out := *g.m
	n := int64(len(g.instances))
	out.TargetSize = n
	creating := int64(0)
	for _, k := range g.instances {
		if in := c.s.st.instances[k]; in != nil && c.now.Before(in.readyAt) {
			creating++
		}
	}
	out.CurrentActions = &compute.InstanceGroupManagerActionsSummary{None: n - creating, Creating: creating}
	out.Status = &compute.InstanceGroupManagerStatus{IsStable: creating == 0}
	return &out
}

func (c *call) igmGet() (any, error) {
	g, err := c.findIGM(c.v("instanceGroupManager"))
	if err != nil {
		return nil, err
	}
	return c.renderIGM(g), nil
}

func (c *call) igmList() (any, error) {
	var items []*compute.InstanceGroupManager
	for _, k := range sortedKeys(c.s.st.igms) {
		g := c.s.st.igms[k]
		if g.project == c.v("project") && g.zone == c.v("zone") {
			items = append(items, c.renderIGM(g))
		}
	}
	return &compute.InstanceGroupManagerList{Kind: "compute#instanceGroupManagerList", Items: items,
		SelfLink: computeLink(c.v("project"), "zones/"+c.v("zone")+"/instanceGroupManagers")}, nil
}

func (c *call) igmListManaged() (any, error) {
	g, err := c.findIGM(c.v("instanceGroupManager"))
	if err != nil {
		return nil, err
	}
	out := &compute.InstanceGroupManagersListManagedInstancesResponse{ManagedInstances: []*compute.ManagedInstance{}}
	for _, k := range g.instances {
		in := c.s.st.instances[k]
		if in == nil {
			continue
		}
		action := "NONE"
		if c.now.Before(in.readyAt) {
			action = "CREATING"
		}
		out.ManagedInstances = append(out.ManagedInstances, &compute.ManagedInstance{
			Instance:       in.in.SelfLink,
			Id:             in.in.Id,
			Name:           in.in.Name,
			InstanceStatus: c.s.instanceStatus(in, c.now),
			CurrentAction:  action,
		})
	}
	return out, nil
}

func (c *call) renderIG(g *igm) *compute.InstanceGroup {
	return &compute.InstanceGroup{
		Kind:              "compute#instanceGroup",
		Id:                g.m.Id + 1,
		Name:              g.name,
		Zone:              g.m.Zone,
		Network:           computeLink(strings.SplitN(g.netKey, "/", 2)[0], "global/networks/"+lastSegment(g.netKey)),
		Subnetwork:        g.subnetLink,
		Size:              int64(len(g.instances)),
		SelfLink:          g.m.InstanceGroup,
		CreationTimestamp: g.m.CreationTimestamp,
		Fingerprint:       g.m.Fingerprint,
	}
}

func (c *call) igGet() (any, error) {
	g, err := c.findIGM(c.v("instanceGroup"))
	if err != nil {
		return nil, notFound("The resource 'projects/%s/zones/%s/instanceGroups/%s' was not found", c.v("project"), c.v("zone"), c.v("instanceGroup"))
	}
	return c.renderIG(g), nil
}

func (c *call) igList() (any, error) {
	var items []*compute.InstanceGroup
	for _, k := range sortedKeys(c.s.st.igms) {
		g := c.s.st.igms[k]
		if g.project == c.v("project") && g.zone == c.v("zone") {
			items = append(items, c.renderIG(g))
		}
	}
	return &compute.InstanceGroupList{Kind: "compute#instanceGroupList", Items: items,
		SelfLink: computeLink(c.v("project"), "zones/"+c.v("zone")+"/instanceGroups")}, nil
}

func (c *call) igListInstances() (any, error) {
	g, err := c.findIGM(c.v("instanceGroup"))
	if err != nil {
		return nil, notFound("The resource 'projects/%s/zones/%s/instanceGroups/%s' was not found", c.v("project"), c.v("zone"), c.v("instanceGroup"))
	}
	out := &compute.InstanceGroupsListInstances{Kind: "compute#instanceGroupsListInstances", Items: []*compute.InstanceWithNamedPorts{}}
	for _, k := range g.instances {
		if in := c.s.st.instances[k]; in != nil {
			out.Items = append(out.Items, &compute.InstanceWithNamedPorts{Instance: in.in.SelfLink, Status: c.s.instanceStatus(in, c.now)})
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// helpers for GKE

// nextNodeIP returns a distinct external address in 203.0.113.0/24 (then
// 198.18.0.0/15).
func (s *Server) nextNodeIP() string {
	s.st.nodeIPSeq++
	n := s.st.nodeIPSeq
	if n < 255 {
		return fmt.Sprintf("203.0.113.%d", n)
	}
	n -= 254
	return fmt.Sprintf("198.18.%d.%d", (n/254)%256, n%254+1)
}

// nextInternalIP returns the next host address of a subnetwork.
func (sub *subnetwork) nextInternalIP() string {
	a := sub.prefix.Addr()
	for i := 0; i < sub.nextHost; i++ {
		a = a.Next()
	}
	sub.nextHost++
	if !sub.prefix.Contains(a) {
		sub.nextHost = 2
		return sub.prefix.Addr().Next().Next().String()
	}
	return a.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
