package gcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
)

// makeNetwork creates a network (auto or custom with one subnet in region).
func makeNetwork(t *testing.T, svc *compute.Service, name string, auto bool) {
	t.Helper()
	op, err := svc.Networks.Insert(project, &compute.Network{Name: name, AutoCreateSubnetworks: auto,
		ForceSendFields: []string{"AutoCreateSubnetworks"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, svc, op)
	if !auto {
		op, err = svc.Subnetworks.Insert(project, region, &compute.Subnetwork{Name: name + "-" + region,
			Network: "global/networks/" + name, IpCidrRange: "10.20.0.0/20"}).Do()
		if err != nil {
			t.Fatal(err)
		}
		waitCompute(t, svc, op)
	}
}

// nodeExternalIPs discovers a cluster's node external IPs the way cld
// does: node pool instanceGroupUrls -> instanceGroupManagers.
// listManagedInstances -> instances.get -> accessConfigs[].natIP.
func nodeExternalIPs(t *testing.T, ctx context.Context, csvc *compute.Service, cl *container.Cluster) []string {
	t.Helper()
	var ips []string
	for _, np := range cl.NodePools {
		for _, u := range np.InstanceGroupUrls {
			pu, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(strings.Trim(pu.Path, "/"), "/")
			// compute/v1/projects/P/zones/Z/instanceGroupManagers/NAME
			p, z, name := parts[3], parts[5], parts[7]
			if parts[6] != "instanceGroupManagers" {
				t.Fatalf("instance group URL %s", u)
			}
			mi, err := csvc.InstanceGroupManagers.ListManagedInstances(p, z, name).Context(ctx).Do()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mi.ManagedInstances {
				iu := strings.Split(m.Instance, "/")
				in, err := csvc.Instances.Get(p, iu[len(iu)-3], iu[len(iu)-1]).Context(ctx).Do()
				if err != nil {
					t.Fatal(err)
				}
				for _, nic := range in.NetworkInterfaces {
					for _, ac := range nic.AccessConfigs {
						if ac.NatIP != "" {
							ips = append(ips, ac.NatIP)
						}
					}
				}
			}
		}
	}
	sort.Strings(ips)
	return ips
}

func TestGKEClusterLifecycle(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")
	s := newFake(t, Options{KubeEndpoint: "127.0.0.1:6443", KubeCA: ca,
		OperationDuration: 20 * time.Millisecond, ClusterCreateDuration: 300 * time.Millisecond,
		ClusterDeleteDuration: 200 * time.Millisecond, ClusterUpdateDuration: 100 * time.Millisecond})
	ctx := testCtx(t)
	csvc := computeClient(t, ctx, s.ComputeURL())
	gke := containerClient(t, ctx, s.ContainerURL())
	makeNetwork(t, csvc, "env1", false)

	parent := "projects/" + project + "/locations/" + zone
	req := &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name:           "env1",
		Description:    "cld env1",
		Network:        "env1",
		Subnetwork:     "env1-" + region,
		ResourceLabels: map[string]string{"managed-by": "cld", "cld-env": "env1"},
		NodePools: []*container.NodePool{{Name: "default-pool", InitialNodeCount: 2,
			Config: &container.NodeConfig{MachineType: "e2-small", DiskSizeGb: 30}}},
	}}
	op, err := gke.Projects.Locations.Clusters.Create(parent, req).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.OperationType != "CREATE_CLUSTER" || op.Status == "DONE" || op.Location != zone {
		t.Fatalf("create op = %+v", op)
	}
	cl, err := gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	if err != nil {
		t.Fatal(err)
	}
	if cl.Status != "PROVISIONING" {
		t.Fatalf("status %s", cl.Status)
	}
	// a second create conflicts
	_, err = gke.Projects.Locations.Clusters.Create(parent, req).Do()
	gerr(t, err, 409, "alreadyExists")
	var ae *apierror.APIError
	if !errors.As(err, &ae) || ae.HTTPCode() != 409 || ae.Reason() != "alreadyExists" {
		t.Fatalf("no apierror: %v", err)
	}
	// node pool changes are refused while provisioning
	_, err = gke.Projects.Locations.Clusters.NodePools.Create(parent+"/clusters/env1",
		&container.CreateNodePoolRequest{NodePool: &container.NodePool{Name: "extra", InitialNodeCount: 1}}).Do()
	gerr(t, err, 400, "failedPrecondition")

	op = waitContainer(t, gke, op)
	if op.Error != nil || op.EndTime == "" {
		t.Fatalf("create op = %+v", op)
	}
	cl, err = gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	if err != nil {
		t.Fatal(err)
	}
	if cl.Status != "RUNNING" || cl.Endpoint != "127.0.0.1:6443" || cl.ResourceLabels["cld-env"] != "env1" ||
		cl.Network != "env1" || cl.Subnetwork != "env1-"+region || cl.CurrentNodeCount != 2 || cl.CurrentMasterVersion == "" {
		t.Fatalf("cluster = %+v", cl)
	}
	pem, err := base64.StdEncoding.DecodeString(cl.MasterAuth.ClusterCaCertificate)
	if err != nil || !bytes.Equal(pem, ca) {
		t.Fatalf("CA = %q %v", pem, err)
	}
	if len(cl.NodePools) != 1 || cl.NodePools[0].Status != "RUNNING" || len(cl.NodePools[0].InstanceGroupUrls) != 1 ||
		cl.NodePools[0].Config.MachineType != "e2-small" {
		t.Fatalf("node pools = %+v", cl.NodePools[0])
	}
	ips := nodeExternalIPs(t, ctx, csvc, cl)
	if len(ips) != 2 || ips[0] == ips[1] || !strings.HasPrefix(ips[0], "203.0.113.") {
		t.Fatalf("node IPs = %v", ips)
	}
	// the instances carry GKE's labels; the zonal list filter finds them
	il, err := csvc.Instances.List(project, zone).Filter("labels.goog-k8s-cluster-name = env1").Do()
	if err != nil || len(il.Items) != 2 {
		t.Fatalf("instances by label: %v %d", err, len(il.Items))
	}
	ig, err := csvc.InstanceGroups.ListInstances(project, zone, lastSegment(cl.NodePools[0].InstanceGroupUrls[0]),
		&compute.InstanceGroupsListInstancesRequest{}).Do()
	if err != nil || len(ig.Items) != 2 || ig.Items[0].Status != "RUNNING" {
		t.Fatalf("instance group instances: %v %+v", err, ig)
	}

	// the network is in use by the cluster (its firewalls and nodes)
	_, err = csvc.Networks.Delete(project, "env1").Do()
	gerr(t, err, 400, "resourceInUseByAnotherResource")

	// labels
	op, err = gke.Projects.Locations.Clusters.SetResourceLabels(parent+"/clusters/env1", &container.SetLabelsRequest{
		ResourceLabels: map[string]string{"managed-by": "cld"}, LabelFingerprint: cl.LabelFingerprint}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, op)

	// node pools: create, resize, delete
	op, err = gke.Projects.Locations.Clusters.NodePools.Create(parent+"/clusters/env1",
		&container.CreateNodePoolRequest{NodePool: &container.NodePool{Name: "extra", InitialNodeCount: 1}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	cl, _ = gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	if cl.Status != "RECONCILING" {
		t.Fatalf("status during node pool creation = %s", cl.Status)
	}
	waitContainer(t, gke, op)
	op, err = gke.Projects.Locations.Clusters.NodePools.SetSize(parent+"/clusters/env1/nodePools/extra",
		&container.SetNodePoolSizeRequest{NodeCount: 3}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, op)
	cl, _ = gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	if cl.CurrentNodeCount != 5 || len(cl.ResourceLabels) != 1 {
		t.Fatalf("after resize: nodes %d labels %v", cl.CurrentNodeCount, cl.ResourceLabels)
	}
	if ips := nodeExternalIPs(t, ctx, csvc, cl); len(ips) != 5 {
		t.Fatalf("node IPs after resize = %v", ips)
	}
	op, err = gke.Projects.Locations.Clusters.NodePools.Delete(parent + "/clusters/env1/nodePools/extra").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, op)
	_, err = gke.Projects.Locations.Clusters.NodePools.Get(parent + "/clusters/env1/nodePools/extra").Do()
	gerr(t, err, 404, "notFound")

	list, err := gke.Projects.Locations.Clusters.List("projects/" + project + "/locations/-").Do()
	if err != nil || len(list.Clusters) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}

	// delete: STOPPING, then gone
	op, err = gke.Projects.Locations.Clusters.Delete(parent + "/clusters/env1").Do()
	if err != nil {
		t.Fatal(err)
	}
	cl, _ = gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	if cl.Status != "STOPPING" {
		t.Fatalf("status while deleting = %s", cl.Status)
	}
	_, err = gke.Projects.Locations.Clusters.Delete(parent + "/clusters/env1").Do()
	gerr(t, err, 400, "failedPrecondition")
	waitContainer(t, gke, op)
	_, err = gke.Projects.Locations.Clusters.Get(parent + "/clusters/env1").Do()
	ge := gerr(t, err, 404, "notFound")
	if !strings.Contains(ge.Message, "Not found") {
		t.Fatalf("message %q", ge.Message)
	}

	// now the network can go
	op2, err := csvc.Subnetworks.Delete(project, region, "env1-"+region).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, op2)
	op2, err = csvc.Networks.Delete(project, "env1").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, op2)
	assertEmptyInventory(t, s)
}

func TestGKERegionalClusterAndZonalAPI(t *testing.T) {
	s := newFake(t, Options{OperationDuration: -1, ClusterCreateDuration: 50 * time.Millisecond, ClusterDeleteDuration: 50 * time.Millisecond})
	ctx := testCtx(t)
	csvc := computeClient(t, ctx, s.ComputeURL())
	gke := containerClient(t, ctx, s.ContainerURL())
	makeNetwork(t, csvc, "auto", true)

	// regional: one instance group per zone, initialNodeCount per zone
	parent := "projects/" + project + "/locations/" + region
	op, err := gke.Projects.Locations.Clusters.Create(parent, &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name: "regional", Network: "projects/" + project + "/global/networks/auto", InitialNodeCount: 1}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, op)
	cl, err := gke.Projects.Locations.Clusters.Get(parent + "/clusters/regional").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Locations) != 3 || len(cl.NodePools) != 1 || cl.NodePools[0].Name != "default-pool" ||
		len(cl.NodePools[0].InstanceGroupUrls) != 3 || cl.CurrentNodeCount != 3 || cl.Subnetwork != "auto" {
		t.Fatalf("regional cluster = %+v", cl)
	}
	if ips := nodeExternalIPs(t, ctx, csvc, cl); len(ips) != 3 {
		t.Fatalf("ips %v", ips)
	}
	if !strings.HasPrefix(cl.Endpoint, "192.0.2.") {
		t.Fatalf("default endpoint %q", cl.Endpoint)
	}

	// the older zonal API (projects.zones.*)
	zop, err := gke.Projects.Zones.Clusters.Create(project, zone, &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name: "zonal", Network: "auto", InitialNodeCount: 1,
		PrivateClusterConfig: &container.PrivateClusterConfig{EnablePrivateNodes: true}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "zonal op", func() (bool, error) {
		o, err := gke.Projects.Zones.Operations.Get(project, zone, zop.Name).Do()
		return err == nil && o.Status == "DONE", err
	})
	zc, err := gke.Projects.Zones.Clusters.Get(project, zone, "zonal").Do()
	if err != nil || zc.Status != "RUNNING" {
		t.Fatalf("zonal get: %v %+v", err, zc)
	}
	if ips := nodeExternalIPs(t, ctx, csvc, zc); len(ips) != 0 {
		t.Fatalf("private nodes have external IPs %v", ips)
	}
	zop, err = gke.Projects.Zones.Clusters.Delete(project, zone, "zonal").Do()
	if err != nil {
		t.Fatal(err)
	}
	op, err = gke.Projects.Locations.Clusters.Delete(parent + "/clusters/regional").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, op)
	eventually(t, "zonal delete", func() (bool, error) {
		o, err := gke.Projects.Zones.Operations.Get(project, zone, zop.Name).Do()
		return err == nil && o.Status == "DONE", err
	})
	nop, err := csvc.Networks.Delete(project, "auto").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, nop)
	assertEmptyInventory(t, s)
}

func TestGKEDeleteWhileProvisioningAndValidation(t *testing.T) {
	s := newFake(t, Options{OperationDuration: -1, ClusterCreateDuration: 5 * time.Second, ClusterDeleteDuration: 50 * time.Millisecond})
	ctx := testCtx(t)
	csvc := computeClient(t, ctx, s.ComputeURL())
	gke := containerClient(t, ctx, s.ContainerURL())
	parent := "projects/" + project + "/locations/" + zone

	_, err := gke.Projects.Locations.Clusters.Create(parent, &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name: "c", Network: "missing", InitialNodeCount: 1}}).Do()
	gerr(t, err, 400, "invalid")
	makeNetwork(t, csvc, "net", true)
	_, err = gke.Projects.Locations.Clusters.Create(parent, &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name: "Bad_Name", Network: "net", InitialNodeCount: 1}}).Do()
	gerr(t, err, 400, "invalid")
	_, err = gke.Projects.Locations.Clusters.Get(parent + "/clusters/none").Do()
	gerr(t, err, 404, "notFound")

	create, err := gke.Projects.Locations.Clusters.Create(parent, &container.CreateClusterRequest{Cluster: &container.Cluster{
		Name: "c", Network: "net", InitialNodeCount: 1}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	del, err := gke.Projects.Locations.Clusters.Delete(parent + "/clusters/c").Do()
	if err != nil {
		t.Fatal(err)
	}
	cop, err := gke.Projects.Locations.Operations.Get(parent + "/operations/" + create.Name).Do()
	if err != nil || cop.Status != "DONE" || cop.Error == nil {
		t.Fatalf("aborted create op: %v %+v", err, cop)
	}
	waitContainer(t, gke, del)
	nop, err := csvc.Networks.Delete(project, "net").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, nop)
	assertEmptyInventory(t, s)
}
