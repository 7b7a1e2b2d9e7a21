package gcloud

import (
	"sort"

	compute "google.golang.org/api/compute/v1"
)

// knownZones are the zone letters of the regions the fake knows (Compute
// regions/zones listing). Other well-formed regions are accepted elsewhere
// with zones a, b and c.
var knownZones = map[string][]string{
	"asia-east1":   {"a", "b", "c"},
	"europe-west1": {"b", "c", "d"},
	"europe-west4": {"a", "b", "c"},
	"us-central1":  {"a", "b", "c", "f"},
	"us-east1":     {"b", "c", "d"},
	"us-east4":     {"a", "b", "c"},
	"us-west1":     {"a", "b", "c"},
}

// zonesOf returns the zones of a region.
func zonesOf(region string) []string {
	letters, ok := knownZones[region]
	if !ok {
		letters = []string{"a", "b", "c"}
	}
	out := make([]string, len(letters))
	for i, l := range letters {
		out[i] = region + "-" + l
	}
	return out
}

func init() {
	register(Compute, map[string]handler{
		"GET projects/{project}/regions regions.list":         (*call).regionsList,
		"GET projects/{project}/regions/{region} regions.get": (*call).regionsGet,
		"GET projects/{project}/zones zones.list":             (*call).zonesList,
		"GET projects/{project}/zones/{zone} zones.get":       (*call).zonesGet,
	})
}

func (c *call) renderRegion(name string) *compute.Region {
	p := c.v("project")
	r := &compute.Region{Kind: "compute#region", Name: name, Status: "UP", SelfLink: computeLink(p, "regions/"+name)}
	for _, z := range zonesOf(name) {
		r.Zones = append(r.Zones, computeLink(p, "zones/"+z))
	}
	return r
}

func (c *call) renderZone(name string) *compute.Zone {
	p := c.v("project")
	return &compute.Zone{Kind: "compute#zone", Name: name, Status: "UP", Region: computeLink(p, "regions/"+regionOf(name)),
		SelfLink: computeLink(p, "zones/"+name)}
}

func (c *call) regionsList() (any, error) {
	out := &compute.RegionList{Kind: "compute#regionList", SelfLink: computeLink(c.v("project"), "regions")}
	for _, r := range sortedKeys(knownZones) {
		out.Items = append(out.Items, c.renderRegion(r))
	}
	return out, nil
}

func (c *call) regionsGet() (any, error) {
	if _, ok := knownZones[c.v("region")]; !ok {
		return nil, notFound("The resource 'projects/%s/regions/%s' was not found", c.v("project"), c.v("region"))
	}
	return c.renderRegion(c.v("region")), nil
}

func (c *call) zonesList() (any, error) {
	out := &compute.ZoneList{Kind: "compute#zoneList", SelfLink: computeLink(c.v("project"), "zones")}
	var zones []string
	for r := range knownZones {
		zones = append(zones, zonesOf(r)...)
	}
	sort.Strings(zones)
	for _, z := range zones {
		out.Items = append(out.Items, c.renderZone(z))
	}
	return out, nil
}

func (c *call) zonesGet() (any, error) {
	z := c.v("zone")
	for _, known := range zonesOf(regionOf(z)) {
		if _, ok := knownZones[regionOf(z)]; ok && known == z {
			return c.renderZone(z), nil
		}
	}
	return nil, notFound("The resource 'projects/%s/zones/%s' was not found", c.v("project"), z)
}
