package gcloud

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	compute "google.golang.org/api/compute/v1"

	"github.com/cloudark/cld/internal/provider"
)

// networkSpec is an environment's VPC network: auto-mode (a subnetwork in
// every region), custom to the environment, since some projects have no
// default network.
type networkSpec struct {
	Settings Settings `json:"gcloud"`
}

type networkHandler struct{ t *Target }

func (h networkHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s networkSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	name := req.Element.Name
	n, err := c.compute.Networks.Get(s.Settings.Project, name).Context(ctx).Do()
	if isNotFound(err) {
		return c.computeOpObservation(ctx, s.Settings.Project, "global/networks/"+name, "network "+name)
	}
	if err != nil {
		return provider.Observation{}, classify(err, "network %s", name)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: strconv.FormatUint(n.Id, 10),
		Labels:  observedLabels(describedLabels(n.Description), req.Element.Labels),
		Outputs: map[string]string{"VPC": n.Name, "Project": s.Settings.Project}}, nil
}

func (h networkHandler) Create(ctx context.Context, req *provider.Request) error {
	var s networkSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	_, err = c.compute.Networks.Insert(s.Settings.Project, &compute.Network{
		Name:                  req.Element.Name,
		AutoCreateSubnetworks: true,
		Description:           describe("cld environment network.", req.Element.Labels),
		RoutingConfig:         &compute.NetworkRoutingConfig{RoutingMode: "REGIONAL"},
	}).Context(ctx).Do()
	if isConflict(err) {
		return nil // made by an earlier attempt: adopt it
	}
	return classify(err, "creating network %s", req.Element.Name)
}

func (h networkHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s networkSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	name := req.Element.Name
	return c.deleteCompute(ctx, s.Settings.Project, "global/networks/"+name, "network "+name, func() error {
		_, err := c.compute.Networks.Delete(s.Settings.Project, name).Context(ctx).Do()
		return err
	})
}

// computeOpObservation tells, for a resource Compute does not show, whether
// its creation is still running (Exists, not ready), failed (Failed), or
// never happened.
func (c *apiClients) computeOpObservation(ctx context.Context, project, target, what string) (provider.Observation, error) {
	op, err := c.lastComputeOp(ctx, project, target)
	if err != nil || op == nil {
		return provider.Observation{}, err
	}
	switch {
	case op.Status != "DONE" && op.OperationType == "insert":
		return provider.Observation{Exists: true, Progress: what + ": " + strings.ToLower(op.Status)}, nil
	case op.Status == "DONE" && op.OperationType == "insert" && op.Error != nil && len(op.Error.Errors) > 0:
		var msgs []string
		for _, e := range op.Error.Errors {
			msgs = append(msgs, e.Code+": "+e.Message)
		}
		return provider.Observation{Failed: fmt.Sprintf("creating %s failed: %s", what, strings.Join(msgs, "; "))}, nil
	}
	return provider.Observation{}, nil
}

// lastComputeOp is the most recent global operation on a target
// ("global/networks/N").
func (c *apiClients) lastComputeOp(ctx context.Context, project, target string) (*compute.Operation, error) {
	l, err := c.compute.GlobalOperations.List(project).Filter(fmt.Sprintf(`targetLink eq ".*/%s"`, target)).Context(ctx).Do()
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, classify(err, "listing operations on %s", target)
	}
	ops := l.Items
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].InsertTime < ops[j].InsertTime })
	for i := len(ops) - 1; i >= 0; i-- {
		if strings.HasSuffix(ops[i].TargetLink, "/"+target) {
			return ops[i], nil
		}
	}
	return nil, nil
}

// firewallSpec is the rule that lets the environment's machines talk to
// each other (what the default network's default-allow-internal does).
type firewallSpec struct {
	Settings     Settings `json:"gcloud"`
	Network      string   `json:"network"`
	SourceRanges []string `json:"source_ranges"`
}

// autoModeRange holds every subnetwork of an auto-mode network.
const autoModeRange = "10.128.0.0/9"

type firewallHandler struct{ t *Target }

func (h firewallHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s firewallSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	name := req.Element.Name
	fw, err := c.compute.Firewalls.Get(s.Settings.Project, name).Context(ctx).Do()
	if isNotFound(err) {
		return c.computeOpObservation(ctx, s.Settings.Project, "global/firewalls/"+name, "firewall rule "+name)
	}
	if err != nil {
		return provider.Observation{}, classify(err, "firewall rule %s", name)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: strconv.FormatUint(fw.Id, 10),
		Labels:  observedLabels(describedLabels(fw.Description), req.Element.Labels),
		Outputs: map[string]string{"Firewall": fw.Name, "SourceRanges": strings.Join(fw.SourceRanges, ",")}}, nil
}

func (h firewallHandler) Create(ctx context.Context, req *provider.Request) error {
	var s firewallSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	_, err = c.compute.Firewalls.Insert(s.Settings.Project, &compute.Firewall{
		Name:         req.Element.Name,
		Network:      "projects/" + s.Settings.Project + "/global/networks/" + s.Network,
		Description:  describe("cld: traffic inside the environment's network.", req.Element.Labels),
		Direction:    "INGRESS",
		Priority:     1000,
		SourceRanges: s.SourceRanges,
		Allowed: []*compute.FirewallAllowed{
			{IPProtocol: "tcp", Ports: []string{"0-65535"}},
			{IPProtocol: "udp", Ports: []string{"0-65535"}},
			{IPProtocol: "icmp"},
		},
	}).Context(ctx).Do()
	if isConflict(err) {
		return nil
	}
	return classify(err, "creating firewall rule %s", req.Element.Name)
}

func (h firewallHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s firewallSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	name := req.Element.Name
	return c.deleteCompute(ctx, s.Settings.Project, "global/firewalls/"+name, "firewall rule "+name, func() error {
		_, err := c.compute.Firewalls.Delete(s.Settings.Project, name).Context(ctx).Do()
		return err
	})
}

// deleteCompute deletes a global Compute resource. One still being created
// (a rollback right after its insert) is not visible yet: wait for its
// insert to end, then delete it, so nothing appears after the delete.
func (c *apiClients) deleteCompute(ctx context.Context, project, target, what string, del func() error) error {
	return untilSettled(ctx, func() error {
		err := del()
		if !isNotFound(err) {
			return classify(err, "deleting %s", what)
		}
		op, oerr := c.lastComputeOp(ctx, project, target)
		if oerr != nil {
			return oerr
		}
		if op != nil && op.OperationType == "insert" && op.Status != "DONE" {
			return errStillCreating
		}
		return nil
	})
}
