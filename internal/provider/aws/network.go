package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudark/cld/internal/provider"
)

// vpcSpec names the network an environment uses: the region's default VPC
// unless app_deployment gives vpc or subnets.
type vpcSpec struct {
	base
	VPC     string   `json:"vpc,omitempty"`
	Subnets []string `json:"subnets,omitempty"`
}

// vpcHandler resolves the environment's VPC and subnets. cld does not make
// them: the element is borrowed, and deleting it forgets it.
type vpcHandler struct{ t *Target }

var _ provider.Borrowed = vpcHandler{}

func (vpcHandler) Borrowed(*provider.Element) bool { return true }

func (h vpcHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var vs vpcSpec
	c, err := h.t.decode(ctx, req.Element, &vs)
	if err != nil {
		return provider.Observation{}, err
	}
	vpcID, subnets, err := resolveNetwork(ctx, c, vs.VPC, vs.Subnets)
	if err != nil {
		return provider.Observation{}, err
	}
	return provider.Observation{Exists: true, Ready: true, Ref: vpcID, Outputs: map[string]string{
		"VpcId": vpcID, "Subnets": strings.Join(subnets, ","), "Region": vs.AWS.Region,
	}}, nil
}

// Create has nothing to make: Observe finds the VPC or says why not.
func (h vpcHandler) Create(ctx context.Context, req *provider.Request) error {
	_, err := h.Observe(ctx, req)
	return err
}

func (vpcHandler) Delete(context.Context, *provider.Request) error { return nil }

// resolveNetwork finds the VPC and its subnets (one per availability zone
// where it can): given subnets, a given VPC's subnets, or the default VPC's.
func resolveNetwork(ctx context.Context, c *clients, vpcID string, subnets []string) (string, []string, error) {
	if len(subnets) > 0 {
		out, err := c.EC2().DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets})
		if err != nil {
			return "", nil, classify(err)
		}
		for _, sn := range out.Subnets {
			v := aws.ToString(sn.VpcId)
			if vpcID != "" && v != vpcID {
				return "", nil, provider.Permanent(fmt.Errorf("subnet %s is in %s, not in vpc %s", aws.ToString(sn.SubnetId), v, vpcID))
			}
			vpcID = v
		}
		return vpcID, subnets, nil
	}
	if vpcID == "" {
		out, err := c.EC2().DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
		if err != nil {
			return "", nil, classify(err)
		}
		if len(out.Vpcs) == 0 {
			return "", nil, provider.Permanent(fmt.Errorf("region %s has no default VPC: set app_deployment.vpc (and subnets) in the environment", c.set.Region))
		}
		vpcID = aws.ToString(out.Vpcs[0].VpcId)
	}
	out, err := c.EC2().DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil {
		return "", nil, classify(err)
	}
	byAZ := map[string]string{}
	for _, sn := range out.Subnets {
		az := aws.ToString(sn.AvailabilityZone)
		if _, ok := byAZ[az]; !ok || aws.ToBool(sn.DefaultForAz) {
			byAZ[az] = aws.ToString(sn.SubnetId)
		}
	}
	azs := make([]string, 0, len(byAZ))
	for az := range byAZ {
		azs = append(azs, az)
	}
	sort.Strings(azs)
	var ids []string
	for _, az := range azs {
		ids = append(ids, byAZ[az])
	}
	if len(ids) == 0 {
		return "", nil, provider.Permanent(fmt.Errorf("vpc %s has no subnets", vpcID))
	}
	return vpcID, ids, nil
}

// depSubnets returns the subnets of the element's "vpc" dependency, or the
// default VPC's when it has none.
func depSubnets(ctx context.Context, c *clients, req *provider.Request) ([]string, error) {
	if v := req.Deps["vpc"]; v != nil && v.Outputs["Subnets"] != "" {
		return strings.Split(v.Outputs["Subnets"], ","), nil
	}
	_, subnets, err := resolveNetwork(ctx, c, "", nil)
	return subnets, err
}

// ipRule is one ingress rule: a protocol and port range from a CIDR, from the
// group itself, or from another group (by name).
type ipRule struct {
	Proto       string `json:"proto"` // tcp, udp, -1
	From        int32  `json:"from"`
	To          int32  `json:"to"`
	CIDR        string `json:"cidr,omitempty"`
	Self        bool   `json:"self,omitempty"`
	SourceGroup string `json:"source_group,omitempty"` // a group name
	Description string `json:"description,omitempty"`
}

func (r ipRule) String() string {
	src := r.CIDR
	switch {
	case r.Self:
		src = "itself"
	case r.SourceGroup != "":
		src = "group " + r.SourceGroup
	}
	if r.Proto == "-1" {
		return "all traffic from " + src
	}
	return fmt.Sprintf("%s %d-%d from %s", r.Proto, r.From, r.To, src)
}

// sgSpec is a security group and the ingress rules that belong to it.
type sgSpec struct {
	base
	Description string   `json:"description"`
	VpcID       string   `json:"vpc_id,omitempty"` // else the "vpc" dependency's
	Ingress     []ipRule `json:"ingress,omitempty"`
}

// sgHandler manages a security group by name (and cld-element tag).
type sgHandler struct{ t *Target }

var (
	_ provider.Updater = sgHandler{}
	_ provider.Waiter  = sgHandler{}
)

func (sgHandler) ReadyTimeout(*provider.Element) time.Duration { return 2 * time.Minute }

// findGroup finds a security group by name, optionally by cld-element tag too.
func findGroup(ctx context.Context, c *clients, name, element string) (*ec2types.SecurityGroup, error) {
	filters := []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}
	if element != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + provider.LabelElement), Values: []string{element}})
	} else {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + provider.LabelManagedBy), Values: []string{provider.ManagedByValue}})
	}
	out, err := c.EC2().DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	if err != nil {
		return nil, classify(err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

func (h sgHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ss sgSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return provider.Observation{}, err
	}
	sg, err := findGroup(ctx, c, req.Element.Name, req.Element.Labels[provider.LabelElement])
	if err != nil || sg == nil {
		return provider.Observation{}, err
	}
	id := aws.ToString(sg.GroupId)
	tags := map[string]string{}
	for _, t := range sg.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	obs := provider.Observation{Exists: true, Ready: true, Ref: id, Labels: knownTags(tags),
		Outputs: map[string]string{"GroupId": id, "GroupName": req.Element.Name, "VpcId": aws.ToString(sg.VpcId)}}
	for _, r := range ss.Ingress {
		src, err := ruleSource(ctx, c, r, id)
		if err != nil {
			return obs, err
		}
		if !hasPermission(sg.IpPermissions, r, src) {
			obs.Ready, obs.Incomplete = false, true
			obs.Progress = "missing rule " + r.String()
		}
	}
	return obs, nil
}

func (h sgHandler) Create(ctx context.Context, req *provider.Request) error {
	var ss sgSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return err
	}
	vpcID := ss.VpcID
	if vpcID == "" {
		if v := req.Deps["vpc"]; v != nil {
			vpcID = v.Outputs["VpcId"]
		}
	}
	if vpcID == "" {
		if vpcID, _, err = resolveNetwork(ctx, c, "", nil); err != nil {
			return err
		}
	}
	sg, err := findGroup(ctx, c, req.Element.Name, req.Element.Labels[provider.LabelElement])
	if err != nil {
		return err
	}
	var id string
	if sg != nil {
		id = aws.ToString(sg.GroupId)
	} else {
		out, err := c.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(req.Element.Name), Description: aws.String(ss.Description), VpcId: aws.String(vpcID),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: ec2Tags(req.Element, req.Element.Name)}},
		})
		if err != nil {
			return classify(err)
		}
		id = aws.ToString(out.GroupId)
		req.Say("security group %s (%s) in %s", req.Element.Name, id, vpcID)
	}
	for _, r := range ss.Ingress {
		if err := authorize(ctx, c, id, r); err != nil {
			return err
		}
	}
	return nil
}

// Update adds the rules a new version needs (a different listener port).
func (h sgHandler) Update(ctx context.Context, req *provider.Request, _ *provider.Element) error {
	return h.Create(ctx, req)
}

func (h sgHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ss sgSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return err
	}
	sg, err := findGroup(ctx, c, req.Element.Name, req.Element.Labels[provider.LabelElement])
	if err != nil || sg == nil {
		return err
	}
	return deleteGroup(ctx, c, aws.ToString(sg.GroupId), req.Say)
}

// deleteGroup deletes a security group, waiting (bounded) while something
// still uses it: a load balancer's network interfaces linger for a while
// after it is deleted, a database being deleted keeps its group.
func deleteGroup(ctx context.Context, c *clients, id string, say func(string, ...any)) error {
	deadline := time.Now().Add(10 * time.Minute)
	delay := 250 * time.Millisecond
	told := false
	for {
		_, err := c.EC2().DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		if err == nil || hasCode(err, "InvalidGroup.NotFound") {
			return nil
		}
		if !hasCode(err, "DependencyViolation") || time.Now().After(deadline) {
			return classify(err)
		}
		if !told && say != nil {
			say("security group %s is still in use; waiting", id)
			told = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// ruleSource resolves a rule's source group to its id ("" for CIDR rules).
func ruleSource(ctx context.Context, c *clients, r ipRule, self string) (string, error) {
	switch {
	case r.Self:
		return self, nil
	case r.SourceGroup != "":
		sg, err := findGroup(ctx, c, r.SourceGroup, "")
		if err != nil {
			return "", err
		}
		if sg == nil {
			return "", fmt.Errorf("security group %s not found", r.SourceGroup)
		}
		return aws.ToString(sg.GroupId), nil
	}
	return "", nil
}

func permission(r ipRule, srcGroup string) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(r.Proto)}
	if r.Proto != "-1" {
		p.FromPort, p.ToPort = aws.Int32(r.From), aws.Int32(r.To)
	}
	if srcGroup != "" {
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(srcGroup), Description: optional(r.Description)}}
	} else {
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: optional(r.Description)}}
	}
	return p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func authorize(ctx context.Context, c *clients, groupID string, r ipRule) error {
	src, err := ruleSource(ctx, c, r, groupID)
	if err != nil {
		return err
	}
	_, err = c.EC2().AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(groupID), IpPermissions: []ec2types.IpPermission{permission(r, src)},
	})
	if err != nil && !hasCode(err, "InvalidPermission.Duplicate") {
		return classify(err)
	}
	return nil
}

// hasPermission reports whether a group's ingress has the rule.
func hasPermission(perms []ec2types.IpPermission, r ipRule, srcGroup string) bool {
	norm := func(p string) string {
		switch strings.ToLower(p) {
		case "6", "tcp":
			return "tcp"
		case "17", "udp":
			return "udp"
		case "-1", "all", "":
			return "-1"
		}
		return strings.ToLower(p)
	}
	for _, p := range perms {
		if norm(aws.ToString(p.IpProtocol)) != norm(r.Proto) {
			continue
		}
		if r.Proto != "-1" && (aws.ToInt32(p.FromPort) != r.From || aws.ToInt32(p.ToPort) != r.To) {
			continue
		}
		if srcGroup != "" {
			for _, g := range p.UserIdGroupPairs {
				if aws.ToString(g.GroupId) == srcGroup {
					return true
				}
			}
			continue
		}
		for _, ip := range p.IpRanges {
			if aws.ToString(ip.CidrIp) == r.CIDR {
				return true
			}
		}
	}
	return false
}

// ruleSpec is one ingress rule on a group cld made, added as its own element
// when it waits for something else (the cluster's group).
type ruleSpec struct {
	base
	Group string `json:"group"` // name of the group the rule is on
	Rule  ipRule `json:"rule"`
}

// ruleHandler manages one ingress rule.
type ruleHandler struct{ t *Target }

func (h ruleHandler) find(ctx context.Context, req *provider.Request) (*clients, ruleSpec, *ec2types.SecurityGroup, string, error) {
	var rs ruleSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return nil, rs, nil, "", err
	}
	sg, err := findGroup(ctx, c, rs.Group, "")
	if err != nil || sg == nil {
		return c, rs, nil, "", err
	}
	src := ""
	if rs.Rule.SourceGroup != "" {
		g, err := findGroup(ctx, c, rs.Rule.SourceGroup, "")
		if err != nil || g == nil {
			return c, rs, sg, "", err
		}
		src = aws.ToString(g.GroupId)
	} else if rs.Rule.Self {
		src = aws.ToString(sg.GroupId)
	}
	return c, rs, sg, src, nil
}

func (h ruleHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	_, rs, sg, src, err := h.find(ctx, req)
	if err != nil || sg == nil || (rs.Rule.SourceGroup != "" && src == "") {
		return provider.Observation{}, err
	}
	if !hasPermission(sg.IpPermissions, rs.Rule, src) {
		return provider.Observation{}, nil
	}
	peer := rs.Rule.CIDR
	if src != "" {
		peer = src
	}
	ref := fmt.Sprintf("%s:%s:%d-%d:%s", aws.ToString(sg.GroupId), rs.Rule.Proto, rs.Rule.From, rs.Rule.To, peer)
	return provider.Observation{Exists: true, Ready: true, Ref: ref, Outputs: map[string]string{
		"GroupId": aws.ToString(sg.GroupId), "Source": peer, "Port": fmt.Sprint(rs.Rule.From),
	}}, nil
}

func (h ruleHandler) Create(ctx context.Context, req *provider.Request) error {
	c, rs, sg, _, err := h.find(ctx, req)
	if err != nil {
		return err
	}
	if sg == nil {
		return fmt.Errorf("security group %s not found", rs.Group)
	}
	req.Say("%s admits %s", rs.Group, rs.Rule)
	return authorize(ctx, c, aws.ToString(sg.GroupId), rs.Rule)
}

func (h ruleHandler) Delete(ctx context.Context, req *provider.Request) error {
	c, rs, sg, src, err := h.find(ctx, req)
	if err != nil || sg == nil || (rs.Rule.SourceGroup != "" && src == "") {
		return err
	}
	if !hasPermission(sg.IpPermissions, rs.Rule, src) {
		return nil
	}
	_, err = c.EC2().RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{permission(ipRule{Proto: rs.Rule.Proto, From: rs.Rule.From, To: rs.Rule.To, CIDR: rs.Rule.CIDR}, src)},
	})
	if err != nil && !hasCode(err, "InvalidPermission.NotFound", "InvalidGroup.NotFound") {
		return classify(err)
	}
	return nil
}

// ec2Tags converts an element's labels to EC2 tags, with a Name.
func ec2Tags(el *provider.Element, name string) []ec2types.Tag {
	m := tagMap(el)
	if name != "" {
		m["Name"] = name
	}
	var out []ec2types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
