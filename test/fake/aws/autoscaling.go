package fake

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

type asgState struct {
	groups map[string]*asGroup
}

type asGroup struct {
	name, arn                 string
	lt                        astypes.LaunchTemplateSpecification
	min, max, desired         int32
	subnets                   []string
	tags                      []asgTag
	protectNew                bool
	created                   time.Time
	deleting                  bool
	deleteStart               time.Time
	instances                 []string
	protected                 map[string]bool
	healthCheckType           string
	grace, cooldown           int32
	capacityRebalance         bool
	targetGroups              []string
	launchFailure             string
	lastLaunchFailureReported time.Time
}

type asgTag struct {
	key, value string
	propagate  bool
}

func (g *asGroup) removeInstance(id string) {
	for i, x := range g.instances {
		if x == id {
			g.instances = append(g.instances[:i], g.instances[i+1:]...)
			return
		}
	}
}

func (st *asgState) inventory() []Resource {
	var out []Resource
	for _, g := range st.groups {
		tags := map[string]string{}
		for _, t := range g.tags {
			tags[t.key] = t.value
		}
		status := ""
		if g.deleting {
			status = "Delete in progress"
		}
		out = append(out, Resource{Service: "autoscaling", Type: "auto-scaling-group", ID: g.arn, Name: g.name, Status: status, Tags: copyTags(tags)})
	}
	return out
}

func (s *Server) advanceASG(rs *regionState, now time.Time) {
	for _, name := range sortedKeys(rs.asg.groups) {
		g := rs.asg.groups[name]
		// forget terminated instances
		var live []string
		for _, id := range g.instances {
			if in := rs.ec2.instances[id]; in != nil && in.state != "terminated" {
				live = append(live, id)
			}
		}
		g.instances = live
		if g.deleting {
			for _, id := range g.instances {
				s.terminateInstance(rs, rs.ec2.instances[id], now)
			}
			if len(g.instances) == 0 && !now.Before(g.deleteStart.Add(s.opts.ASGDeleteDuration)) {
				delete(rs.asg.groups, name)
			}
			continue
		}
		var active []string
		for _, id := range g.instances {
			if in := rs.ec2.instances[id]; in.state == "pending" || in.state == "running" {
				active = append(active, id)
			}
		}
		for n := int32(len(active)); n < g.desired; n++ {
			lt, err := rs.ec2.findLT(str(g.lt.LaunchTemplateId), str(g.lt.LaunchTemplateName))
			if err != nil {
				g.launchFailure = err.Error()
				break
			}
			if ref := orDefault(lt.data.profileArn, lt.data.profileName); ref != "" && s.iam.profiles[lastSegment(ref)] == nil {
				g.launchFailure = fmt.Sprintf("Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", lastSegment(ref))
				break
			}
			sn := s.pickSubnet(rs, g)
			if sn == nil {
				g.launchFailure = "no subnet"
				break
			}
			tags := map[string]string{}
			for _, t := range g.tags {
				if t.propagate {
					tags[t.key] = t.value
				}
			}
			in := s.launchInstance(rs, lt, sn, g.name, tags, now)
			g.instances = append(g.instances, in.id)
			if g.protectNew {
				g.protected[in.id] = true
			}
		}
		if excess := int32(len(active)) - g.desired; excess > 0 {
			// terminate the newest unprotected instances
			for i := len(active) - 1; i >= 0 && excess > 0; i-- {
				if g.protected[active[i]] {
					continue
				}
				s.terminateInstance(rs, rs.ec2.instances[active[i]], now)
				excess--
			}
		}
	}
}

func (s *Server) pickSubnet(rs *regionState, g *asGroup) *subnet {
	if len(g.subnets) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, id := range g.instances {
		if in := rs.ec2.instances[id]; in != nil {
			count[in.subnetID]++
		}
	}
	var best *subnet
	for _, id := range g.subnets {
		sn := rs.ec2.subnets[id]
		if sn == nil {
			continue
		}
		if best == nil || count[id] < count[best.id] {
			best = sn
		}
	}
	return best
}

func init() {
	register("autoscaling", map[string]handlerFunc{
		"CreateAutoScalingGroup":       (*Server).asgCreate,
		"DescribeAutoScalingGroups":    (*Server).asgDescribe,
		"UpdateAutoScalingGroup":       (*Server).asgUpdate,
		"DeleteAutoScalingGroup":       (*Server).asgDelete,
		"SetDesiredCapacity":           (*Server).asgSetDesired,
		"SetInstanceProtection":        (*Server).asgSetProtection,
		"DescribeAutoScalingInstances": (*Server).asgDescribeInstances,
		"CreateOrUpdateTags":           (*Server).asgCreateOrUpdateTags,
		"DeleteTags":                   (*Server).asgDeleteTags,
	})
}

func (s *Server) asgLT(c *reqCtx, spec *astypes.LaunchTemplateSpecification) (astypes.LaunchTemplateSpecification, error) {
	if spec == nil {
		return astypes.LaunchTemplateSpecification{}, errorf("ValidationError", "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	lt, err := c.rs.ec2.findLT(str(spec.LaunchTemplateId), str(spec.LaunchTemplateName))
	if err != nil {
		what := "name " + str(spec.LaunchTemplateName)
		if spec.LaunchTemplateId != nil {
			what = "ID " + str(spec.LaunchTemplateId)
		}
		return astypes.LaunchTemplateSpecification{}, errorf("ValidationError", "You must use a valid fully-formed launch template. The specified launch template, with template %s, does not exist.", what)
	}
	out := astypes.LaunchTemplateSpecification{LaunchTemplateId: ptr(lt.id), LaunchTemplateName: ptr(lt.name), Version: spec.Version}
	if out.Version == nil {
		out.Version = ptr("$Default")
	}
	return out, nil
}

func (s *Server) asgCreate(c *reqCtx) (any, error) {
	var in autoscaling.CreateAutoScalingGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.asg
	name := str(in.AutoScalingGroupName)
	if st.groups[name] != nil {
		return nil, errorf("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	}
	lt, err := s.asgLT(c, in.LaunchTemplate)
	if err != nil {
		return nil, err
	}
	min, max := i32(in.MinSize), i32(in.MaxSize)
	if min > max {
		return nil, errorf("ValidationError", "Max bound, %d, must be greater than or equal to min bound, %d", max, min)
	}
	desired := min
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	}
	if desired < min || desired > max {
		return nil, errorf("ValidationError", "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	var subnets []string
	for _, id := range strings.Split(str(in.VPCZoneIdentifier), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if c.rs.ec2.subnets[id] == nil {
			return nil, errorf("ValidationError", "The subnet ID '%s' does not exist", id)
		}
		subnets = append(subnets, id)
	}
	if len(subnets) == 0 {
		for _, az := range in.AvailabilityZones {
			for _, sn := range c.rs.ec2.defaultSubnets() {
				if sn.az == az {
					subnets = append(subnets, sn.id)
				}
			}
		}
	}
	if len(subnets) == 0 {
		return nil, errorf("ValidationError", "At least one Availability Zone or VPC Subnet is required.")
	}
	for _, tg := range in.TargetGroupARNs {
		if c.rs.elb.tgs[tg] == nil {
			return nil, errorf("ValidationError", "Provided Target Groups may not be valid. Please ensure they exist and try again.")
		}
	}
	g := &asGroup{name: name, arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", c.region, c.account(), newUUID(), name),
		lt: lt, min: min, max: max, desired: desired, subnets: subnets, protectNew: boolv(in.NewInstancesProtectedFromScaleIn), created: c.now,
		protected: map[string]bool{}, healthCheckType: orDefault(str(in.HealthCheckType), "EC2"), grace: i32(in.HealthCheckGracePeriod),
		cooldown: 300, capacityRebalance: boolv(in.CapacityRebalance), targetGroups: in.TargetGroupARNs}
	if in.DefaultCooldown != nil {
		g.cooldown = *in.DefaultCooldown
	}
	for _, t := range in.Tags {
		g.tags = append(g.tags, asgTag{key: str(t.Key), value: str(t.Value), propagate: boolv(t.PropagateAtLaunch)})
	}
	st.groups[name] = g
	return &autoscaling.CreateAutoScalingGroupOutput{}, nil
}

func (s *Server) asgOut(c *reqCtx, g *asGroup) astypes.AutoScalingGroup {
	out := astypes.AutoScalingGroup{AutoScalingGroupName: ptr(g.name), AutoScalingGroupARN: ptr(g.arn), LaunchTemplate: &g.lt,
		MinSize: ptr(g.min), MaxSize: ptr(g.max), DesiredCapacity: ptr(g.desired), DefaultCooldown: ptr(g.cooldown),
		HealthCheckType: ptr(g.healthCheckType), HealthCheckGracePeriod: ptr(g.grace), CreatedTime: ptr(g.created),
		VPCZoneIdentifier: ptr(strings.Join(g.subnets, ",")), NewInstancesProtectedFromScaleIn: ptr(g.protectNew),
		CapacityRebalance: ptr(g.capacityRebalance), TerminationPolicies: []string{"Default"}, TargetGroupARNs: append([]string{}, g.targetGroups...),
		LoadBalancerNames: []string{}, SuspendedProcesses: []astypes.SuspendedProcess{}, EnabledMetrics: []astypes.EnabledMetric{},
		ServiceLinkedRoleARN: ptr(fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", c.account())),
		Instances:            []astypes.Instance{}, Tags: []astypes.TagDescription{}}
	if g.deleting {
		out.Status = ptr("Delete in progress")
	}
	azs := map[string]bool{}
	for _, id := range g.subnets {
		if sn := c.rs.ec2.subnets[id]; sn != nil && !azs[sn.az] {
			azs[sn.az] = true
			out.AvailabilityZones = append(out.AvailabilityZones, sn.az)
		}
	}
	sort.Strings(out.AvailabilityZones)
	for _, id := range g.instances {
		in := c.rs.ec2.instances[id]
		if in == nil {
			continue
		}
		out.Instances = append(out.Instances, astypes.Instance{InstanceId: ptr(in.id), InstanceType: ptr(in.instanceType), AvailabilityZone: ptr(in.az),
			LifecycleState: asgLifecycle(in.state), HealthStatus: ptr("Healthy"), LaunchTemplate: &g.lt, ProtectedFromScaleIn: ptr(g.protected[in.id])})
	}
	for _, t := range g.tags {
		out.Tags = append(out.Tags, astypes.TagDescription{ResourceId: ptr(g.name), ResourceType: ptr("auto-scaling-group"), Key: ptr(t.key), Value: ptr(t.value), PropagateAtLaunch: ptr(t.propagate)})
	}
	return out
}

func asgLifecycle(state string) astypes.LifecycleState {
	switch state {
	case "pending":
		return astypes.LifecycleStatePending
	case "running":
		return astypes.LifecycleStateInService
	case "shutting-down":
		return astypes.LifecycleStateTerminating
	}
	return astypes.LifecycleStateTerminated
}

func (s *Server) asgDescribe(c *reqCtx) (any, error) {
	var in autoscaling.DescribeAutoScalingGroupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []astypes.AutoScalingGroup{}}
	for _, n := range sortedKeys(c.rs.asg.groups) {
		g := c.rs.asg.groups[n]
		if len(in.AutoScalingGroupNames) > 0 && !contains(in.AutoScalingGroupNames, n) {
			continue
		}
		ok := true
		for _, f := range in.Filters {
			key := str(f.Name)
			if strings.HasPrefix(key, "tag:") {
				found := false
				for _, t := range g.tags {
					if t.key == strings.TrimPrefix(key, "tag:") && contains(f.Values, t.value) {
						found = true
					}
				}
				ok = ok && found
			}
			if key == "tag-key" {
				found := false
				for _, t := range g.tags {
					found = found || contains(f.Values, t.key)
				}
				ok = ok && found
			}
		}
		if ok {
			out.AutoScalingGroups = append(out.AutoScalingGroups, s.asgOut(c, g))
		}
	}
	return out, nil
}

func (st *asgState) find(name string) (*asGroup, error) {
	g := st.groups[name]
	if g == nil {
		return nil, errorf("ValidationError", "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", name)
	}
	return g, nil
}

func (s *Server) asgUpdate(c *reqCtx) (any, error) {
	var in autoscaling.UpdateAutoScalingGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.asg.find(str(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	if g.deleting {
		return nil, errorf("ScalingActivityInProgress", "An update is not permitted while the AutoScalingGroup is being deleted.")
	}
	min, max, desired := g.min, g.max, g.desired
	if in.MinSize != nil {
		min = *in.MinSize
	}
	if in.MaxSize != nil {
		max = *in.MaxSize
	}
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	} else if desired < min {
		desired = min
	} else if desired > max {
		desired = max
	}
	if min > max {
		return nil, errorf("ValidationError", "Max bound, %d, must be greater than or equal to min bound, %d", max, min)
	}
	if desired < min || desired > max {
		return nil, errorf("ValidationError", "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	if in.LaunchTemplate != nil {
		lt, err := s.asgLT(c, in.LaunchTemplate)
		if err != nil {
			return nil, err
		}
		g.lt = lt
	}
	if in.VPCZoneIdentifier != nil {
		var subnets []string
		for _, id := range strings.Split(*in.VPCZoneIdentifier, ",") {
			if id = strings.TrimSpace(id); id != "" {
				if c.rs.ec2.subnets[id] == nil {
					return nil, errorf("ValidationError", "The subnet ID '%s' does not exist", id)
				}
				subnets = append(subnets, id)
			}
		}
		g.subnets = subnets
	}
	if in.NewInstancesProtectedFromScaleIn != nil {
		g.protectNew = *in.NewInstancesProtectedFromScaleIn
	}
	g.min, g.max, g.desired = min, max, desired
	return &autoscaling.UpdateAutoScalingGroupOutput{}, nil
}

func (s *Server) asgSetDesired(c *reqCtx) (any, error) {
	var in autoscaling.SetDesiredCapacityInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.asg.find(str(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	d := i32(in.DesiredCapacity)
	if d < g.min || d > g.max {
		return nil, errorf("ValidationError", "New SetDesiredCapacity value %d is %s min value %d.", d, "outside the range of", g.min)
	}
	g.desired = d
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

func (s *Server) asgSetProtection(c *reqCtx) (any, error) {
	var in autoscaling.SetInstanceProtectionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.asg.find(str(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	for _, id := range in.InstanceIds {
		if !contains(g.instances, id) {
			return nil, errorf("ValidationError", "The instance %s is not part of Auto Scaling group %s.", id, g.name)
		}
		g.protected[id] = boolv(in.ProtectedFromScaleIn)
	}
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

func (s *Server) asgDelete(c *reqCtx) (any, error) {
	var in autoscaling.DeleteAutoScalingGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.asg.find(str(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	if g.deleting {
		return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
	}
	if len(g.instances) > 0 && !boolv(in.ForceDelete) {
		return nil, errorf("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
	}
	g.deleting = true
	g.deleteStart = c.now
	g.desired, g.min = 0, 0
	for _, id := range g.instances {
		s.terminateInstance(c.rs, c.rs.ec2.instances[id], c.now)
	}
	return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
}

func (s *Server) asgDescribeInstances(c *reqCtx) (any, error) {
	var in autoscaling.DescribeAutoScalingInstancesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []astypes.AutoScalingInstanceDetails{}}
	for _, n := range sortedKeys(c.rs.asg.groups) {
		g := c.rs.asg.groups[n]
		for _, id := range g.instances {
			if len(in.InstanceIds) > 0 && !contains(in.InstanceIds, id) {
				continue
			}
			ins := c.rs.ec2.instances[id]
			out.AutoScalingInstances = append(out.AutoScalingInstances, astypes.AutoScalingInstanceDetails{AutoScalingGroupName: ptr(g.name), InstanceId: ptr(id),
				AvailabilityZone: ptr(ins.az), HealthStatus: ptr("HEALTHY"), LifecycleState: ptr(string(asgLifecycle(ins.state))), ProtectedFromScaleIn: ptr(g.protected[id]),
				InstanceType: ptr(ins.instanceType), LaunchTemplate: &g.lt})
		}
	}
	return out, nil
}

func (s *Server) asgCreateOrUpdateTags(c *reqCtx) (any, error) {
	var in autoscaling.CreateOrUpdateTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		g, err := c.rs.asg.find(str(t.ResourceId))
		if err != nil {
			return nil, err
		}
		replaced := false
		for i := range g.tags {
			if g.tags[i].key == str(t.Key) {
				g.tags[i] = asgTag{str(t.Key), str(t.Value), boolv(t.PropagateAtLaunch)}
				replaced = true
			}
		}
		if !replaced {
			g.tags = append(g.tags, asgTag{str(t.Key), str(t.Value), boolv(t.PropagateAtLaunch)})
		}
	}
	return &autoscaling.CreateOrUpdateTagsOutput{}, nil
}

func (s *Server) asgDeleteTags(c *reqCtx) (any, error) {
	var in autoscaling.DeleteTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		g, err := c.rs.asg.find(str(t.ResourceId))
		if err != nil {
			return nil, err
		}
		for i := range g.tags {
			if g.tags[i].key == str(t.Key) {
				g.tags = append(g.tags[:i], g.tags[i+1:]...)
				break
			}
		}
	}
	return &autoscaling.DeleteTagsOutput{}, nil
}
