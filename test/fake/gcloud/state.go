package gcloud

import "strings"

// state is every resource of every project, keyed by project[/scope]/name.
type state struct {
	networks     map[string]*network
	subnets      map[string]*subnetwork // project/region/name
	firewalls    map[string]*firewall
	instances    map[string]*instance // project/zone/name
	igms         map[string]*igm      // project/zone/name
	clusters     map[string]*cluster  // project/location/name
	sqlInstances map[string]*sqlInstance
	repos        map[string]*repo // project/location/id

	nodeIPSeq  int
	sqlIPSeq   int
	clusterSeq int
}

func newState() *state {
	return &state{
		networks:     map[string]*network{},
		subnets:      map[string]*subnetwork{},
		firewalls:    map[string]*firewall{},
		instances:    map[string]*instance{},
		igms:         map[string]*igm{},
		clusters:     map[string]*cluster{},
		sqlInstances: map[string]*sqlInstance{},
		repos:        map[string]*repo{},
	}
}

// inventoryLocked lists every live resource (s.mu held). Resources still
// being created are included (they exist as far as leaks go).
func (s *Server) inventoryLocked(snap []regImage) []Resource {
	var out []Resource
	st := s.st
	for _, k := range sortedKeys(st.networks) {
		n := st.networks[k]
		status := "READY"
		if !n.visible {
			status = "CREATING"
		} else if n.deleting {
			status = "DELETING"
		}
		out = append(out, Resource{API: Compute, Type: "network", Name: "projects/" + n.project + "/global/networks/" + n.n.Name,
			Location: "global", Status: status})
	}
	for _, sub := range s.sortedSubnets() {
		out = append(out, Resource{API: Compute, Type: "subnetwork", Name: "projects/" + sub.project + "/regions/" + sub.region + "/subnetworks/" + sub.sn.Name,
			Location: sub.region, Status: readyStatus(sub.visible, sub.deleting), Owner: sub.owner})
	}
	for _, k := range sortedKeys(st.firewalls) {
		fw := st.firewalls[k]
		out = append(out, Resource{API: Compute, Type: "firewall", Name: "projects/" + fw.project + "/global/firewalls/" + fw.fw.Name,
			Location: "global", Status: readyStatus(fw.visible, fw.deleting), Owner: fw.owner})
	}
	for _, k := range sortedKeys(st.instances) {
		in := st.instances[k]
		out = append(out, Resource{API: Compute, Type: "instance", Name: "projects/" + in.project + "/zones/" + in.zone + "/instances/" + in.in.Name,
			Location: in.zone, Status: s.instanceStatus(in, timeNow()), Labels: cloneLabels(in.in.Labels), Owner: in.owner})
	}
	for _, k := range sortedKeys(st.igms) {
		g := st.igms[k]
		out = append(out, Resource{API: Compute, Type: "instanceGroupManager", Name: "projects/" + g.project + "/zones/" + g.zone + "/instanceGroupManagers/" + g.name,
			Location: g.zone, Owner: g.owner})
	}
	for _, k := range sortedKeys(st.clusters) {
		cl := st.clusters[k]
		out = append(out, Resource{API: Container, Type: "cluster", Name: cl.fullName(), Location: cl.location,
			Status: cl.c.Status, Labels: cloneLabels(cl.c.ResourceLabels)})
		for _, pn := range sortedKeys(cl.pools) {
			pl := cl.pools[pn]
			out = append(out, Resource{API: Container, Type: "nodePool", Name: cl.fullName() + "/nodePools/" + pn,
				Location: cl.location, Status: pl.np.Status, Owner: cl.fullName()})
		}
	}
	for _, k := range sortedKeys(st.sqlInstances) {
		in := st.sqlInstances[k]
		var labels map[string]string
		if in.d.Settings != nil {
			labels = cloneLabels(in.d.Settings.UserLabels)
		}
		out = append(out, Resource{API: SQLAdmin, Type: "instance", Name: in.fullName(), Location: in.d.Region,
			Status: in.d.State, Labels: labels})
		for _, dn := range sortedKeys(in.dbs) {
			db := in.dbs[dn]
			r := Resource{API: SQLAdmin, Type: "database", Name: in.fullName() + "/databases/" + dn, Location: in.d.Region}
			if db.system {
				r.Owner = in.fullName()
			}
			out = append(out, r)
		}
		for _, uk := range sortedKeys(in.users) {
			u := in.users[uk]
			name, host, _ := strings.Cut(uk, "|")
			if host != "" {
				name += "@" + host
			}
			r := Resource{API: SQLAdmin, Type: "user", Name: in.fullName() + "/users/" + name, Location: in.d.Region}
			if u.system {
				r.Owner = in.fullName()
			}
			out = append(out, r)
		}
	}
	for _, k := range sortedKeys(st.repos) {
		r := st.repos[k]
		out = append(out, Resource{API: ArtifactRegistry, Type: "repository", Name: r.fullName(), Location: r.location,
			Status: readyStatus(r.visible, r.deleting), Labels: cloneLabels(r.r.Labels)})
		for _, im := range s.repoImages(r, snap) {
			out = append(out, Resource{API: ArtifactRegistry, Type: "dockerImage",
				Name: r.fullName() + "/dockerImages/" + im.pkg + "@" + im.digest, Location: r.location})
		}
	}
	return out
}

func readyStatus(visible, deleting bool) string {
	switch {
	case !visible:
		return "CREATING"
	case deleting:
		return "DELETING"
	}
	return "READY"
}
