package gcloud

import (
	"sort"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
)

func TestComputeNetworkFirewallLifecycle(t *testing.T) {
	s := newFake(t, Options{OperationDuration: 200 * time.Millisecond})
	ctx := testCtx(t)
	svc := computeClient(t, ctx, s.ComputeURL())

	// custom-mode network: the client omits false booleans unless forced
	op, err := svc.Networks.Insert(project, &compute.Network{
		Name: "cld-net", Description: "cld env e1", AutoCreateSubnetworks: false,
		ForceSendFields: []string{"AutoCreateSubnetworks"},
	}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != "PENDING" || op.OperationType != "insert" || op.Kind != "compute#operation" {
		t.Fatalf("insert op = %s %s %s", op.Status, op.OperationType, op.Kind)
	}
	if op.TargetLink != "https://www.googleapis.com/compute/v1/projects/cld-test/global/networks/cld-net" {
		t.Fatalf("targetLink %s", op.TargetLink)
	}
	// not visible before the operation is done
	_, err = svc.Networks.Get(project, "cld-net").Do()
	gerr(t, err, 404, "notFound")
	// a second insert with the same name conflicts at once
	_, err = svc.Networks.Insert(project, &compute.Network{Name: "cld-net"}).Do()
	gerr(t, err, 409, "alreadyExists")

	seen := map[string]bool{op.Status: true}
	eventually(t, "network insert", func() (bool, error) {
		cur, err := svc.GlobalOperations.Get(project, op.Name).Do()
		if err != nil {
			return false, err
		}
		seen[cur.Status] = true
		return cur.Status == "DONE", nil
	})
	if !seen["RUNNING"] {
		t.Errorf("operation never seen RUNNING: %v", seen)
	}
	n, err := svc.Networks.Get(project, "cld-net").Do()
	if err != nil {
		t.Fatal(err)
	}
	if n.Description != "cld env e1" || n.AutoCreateSubnetworks || n.RoutingConfig.RoutingMode != "REGIONAL" || n.Id == 0 {
		t.Fatalf("network = %+v", n)
	}

	// subnetwork (regional operation)
	op, err = svc.Subnetworks.Insert(project, region, &compute.Subnetwork{
		Name: "cld-subnet", Network: n.SelfLink, IpCidrRange: "10.10.0.0/20",
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Region == "" {
		t.Fatalf("regional op without region: %+v", op)
	}
	waitCompute(t, svc, op)
	_, err = svc.Subnetworks.Insert(project, region, &compute.Subnetwork{
		Name: "cld-subnet-2", Network: "global/networks/cld-net", IpCidrRange: "10.10.8.0/24",
	}).Do()
	gerr(t, err, 400, "invalid") // overlaps
	subs, err := svc.Subnetworks.List(project, region).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Items) != 1 || subs.Items[0].GatewayAddress != "10.10.0.1" || subs.Items[0].Network != n.SelfLink {
		t.Fatalf("subnetworks = %+v", subs.Items)
	}
	n, _ = svc.Networks.Get(project, "cld-net").Do()
	if len(n.Subnetworks) != 1 {
		t.Fatalf("network subnetworks = %v", n.Subnetworks)
	}

	// firewall on a missing network, then on ours
	_, err = svc.Firewalls.Insert(project, &compute.Firewall{Name: "fw", Network: "global/networks/nope",
		Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"22"}}}}).Do()
	gerr(t, err, 404, "notFound")
	op, err = svc.Firewalls.Insert(project, &compute.Firewall{
		Name: "cld-net-allow-ssh", Network: "projects/cld-test/global/networks/cld-net", Description: "ssh",
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"22", "8000-8080"}}},
		SourceRanges: []string{"203.0.113.0/24"}, TargetTags: []string{"web"},
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	// the Wait method blocks until done
	op, err = svc.GlobalOperations.Wait(project, op.Name).Context(ctx).Do()
	if err != nil || op.Status != "DONE" {
		t.Fatalf("wait: %v %+v", err, op)
	}
	fw, err := svc.Firewalls.Get(project, "cld-net-allow-ssh").Do()
	if err != nil {
		t.Fatal(err)
	}
	if fw.Network != n.SelfLink || fw.Direction != "INGRESS" || fw.Priority != 1000 || fw.Allowed[0].Ports[1] != "8000-8080" {
		t.Fatalf("firewall = %+v", fw)
	}
	fws, err := svc.Firewalls.List(project).Filter(`network = "` + n.SelfLink + `"`).Do()
	if err != nil || len(fws.Items) != 1 {
		t.Fatalf("firewall list filter: %v %d", err, len(fws.Items))
	}
	fws, err = svc.Firewalls.List(project).Filter(`name eq nothing-.*`).Do()
	if err != nil || len(fws.Items) != 0 {
		t.Fatalf("firewall list regex filter: %v %d", err, len(fws.Items))
	}

	// the network is in use
	_, err = svc.Networks.Delete(project, "cld-net").Do()
	ge := gerr(t, err, 400, "resourceInUseByAnotherResource")
	if ge.Message == "" {
		t.Fatal("no message")
	}

	// patch a firewall
	op, err = svc.Firewalls.Patch(project, "cld-net-allow-ssh", &compute.Firewall{SourceRanges: []string{"198.51.100.7/32"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, svc, op)
	fw, _ = svc.Firewalls.Get(project, "cld-net-allow-ssh").Do()
	if len(fw.SourceRanges) != 1 || fw.SourceRanges[0] != "198.51.100.7/32" || fw.Description != "ssh" {
		t.Fatalf("patched firewall = %+v", fw)
	}

	// tear down
	op, err = svc.Firewalls.Delete(project, "cld-net-allow-ssh").Do()
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Firewalls.Delete(project, "cld-net-allow-ssh").Do()
	gerr(t, err, 400, "resourceNotReady")
	waitCompute(t, svc, op)
	_, err = svc.Firewalls.Get(project, "cld-net-allow-ssh").Do()
	gerr(t, err, 404, "notFound")
	_, err = svc.Networks.Delete(project, "cld-net").Do()
	gerr(t, err, 400, "resourceInUseByAnotherResource") // the subnetwork
	op, err = svc.Subnetworks.Delete(project, region, "cld-subnet").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, svc, op)
	op, err = svc.Networks.Delete(project, "cld-net").Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.OperationType != "delete" {
		t.Fatalf("delete op %+v", op)
	}
	// still visible while deleting
	if _, err := svc.Networks.Get(project, "cld-net").Do(); err != nil {
		t.Fatalf("network gone before its delete finished: %v", err)
	}
	waitCompute(t, svc, op)
	_, err = svc.Networks.Get(project, "cld-net").Do()
	gerr(t, err, 404, "notFound")
	_, err = svc.GlobalOperations.Get(project, "operation-nope").Do()
	gerr(t, err, 404, "notFound")

	assertEmptyInventory(t, s)
}

func TestComputeAutoModeNetwork(t *testing.T) {
	s := newFake(t, Options{OperationDuration: 50 * time.Millisecond})
	ctx := testCtx(t)
	svc := computeClient(t, ctx, s.ComputeURL())

	op, err := svc.Networks.Insert(project, &compute.Network{Name: "auto", AutoCreateSubnetworks: true}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, svc, op)
	agg, err := svc.Subnetworks.AggregatedList(project).Do()
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for k, l := range agg.Items {
		if len(l.Subnetworks) > 0 {
			regions = append(regions, k)
		}
	}
	sort.Strings(regions)
	if len(regions) < 3 || agg.Items["regions/us-central1"].Subnetworks[0].IpCidrRange != "10.128.0.0/20" {
		t.Fatalf("auto subnets: %v", regions)
	}
	// auto subnets cannot be deleted alone, and do not block the network
	_, err = svc.Subnetworks.Delete(project, region, "auto").Do()
	gerr(t, err, 400, "invalid")
	op, err = svc.Networks.Delete(project, "auto").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, svc, op)
	assertEmptyInventory(t, s)
}

func TestComputeEndpointWithoutPath(t *testing.T) {
	// on the compute listener the /compute/v1/ prefix may be left out
	s := newFake(t, Options{OperationDuration: -1})
	ctx := testCtx(t)
	svc := computeClient(t, ctx, s.urls[Compute]+"/")
	op, err := svc.Networks.Insert(project, &compute.Network{Name: "n1"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != "DONE" {
		t.Fatalf("zero duration op = %s", op.Status)
	}
	if _, err := svc.Networks.Get(project, "n1").Do(); err != nil {
		t.Fatal(err)
	}
}

func TestComputeRegionsAndZones(t *testing.T) {
	s := newFake(t, Options{})
	ctx := testCtx(t)
	svc := computeClient(t, ctx, s.ComputeURL())
	r, err := svc.Regions.Get(project, "us-east1").Do()
	if err != nil || len(r.Zones) != 3 || lastSegment(r.Zones[0]) != "us-east1-b" {
		t.Fatalf("region: %v %+v", err, r)
	}
	_, err = svc.Regions.Get(project, "mars-north1").Do()
	gerr(t, err, 404, "notFound")
	zl, err := svc.Zones.List(project).Do()
	if err != nil || len(zl.Items) < 10 {
		t.Fatalf("zones: %v", err)
	}
	if _, err := svc.Zones.Get(project, zone).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Zones.Get(project, "us-east1-a").Do()
	gerr(t, err, 404, "notFound")
}
