package fake

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

type elbState struct {
	lbs       map[string]*loadBalancer // by ARN
	tgs       map[string]*targetGroup  // by ARN
	listeners map[string]*listener     // by ARN
	deleted   map[string]*loadBalancer // deleted, network interfaces still lingering
}

type loadBalancer struct {
	arn, name, dns, vpcID string
	scheme                elbtypes.LoadBalancerSchemeEnum
	typ                   elbtypes.LoadBalancerTypeEnum
	ipType                elbtypes.IpAddressType
	subnets, sgs          []string
	state                 string
	created, deletedAt    time.Time
	tags                  map[string]string
	attrs                 map[string]string
}

type targetGroup struct {
	arn, name, targetType string
	tg                    elbtypes.TargetGroup
	tags                  map[string]string
	attrs                 map[string]string
	targets               []*target
}

type target struct {
	id     string
	port   int32
	az     string
	state  string
	since  time.Time
	reason string
}

type listener struct {
	arn, lbArn string
	l          elbtypes.Listener
	tags       map[string]string
}

func (st *elbState) inventory() []Resource {
	var out []Resource
	for _, lb := range st.lbs {
		out = append(out, Resource{Service: "elasticloadbalancing", Type: "load-balancer", ID: lb.arn, Name: lb.name, Status: lb.state, Tags: copyTags(lb.tags)})
	}
	for _, tg := range st.tgs {
		out = append(out, Resource{Service: "elasticloadbalancing", Type: "target-group", ID: tg.arn, Name: tg.name, Tags: copyTags(tg.tags)})
	}
	for _, l := range st.listeners {
		out = append(out, Resource{Service: "elasticloadbalancing", Type: "listener", ID: l.arn, Tags: copyTags(l.tags)})
	}
	return out
}

func (s *Server) advanceELB(rs *regionState, now time.Time) {
	st := rs.elb
	for arn, lb := range st.deleted {
		if !now.Before(lb.deletedAt.Add(s.opts.LoadBalancerDeleteDuration)) {
			delete(st.deleted, arn)
		}
	}
	for _, lb := range st.lbs {
		if lb.state == "provisioning" && !now.Before(lb.created.Add(s.opts.LoadBalancerProvisionDuration)) {
			lb.state = "active"
		}
	}
	for _, tg := range st.tgs {
		lbs := s.tgLoadBalancers(rs, tg)
		var activeSince time.Time
		attached := len(lbs) > 0
		for _, lb := range lbs {
			if lb.state != "active" {
				attached = false
			}
			if t := lb.created.Add(s.opts.LoadBalancerProvisionDuration); t.After(activeSince) {
				activeSince = t
			}
		}
		var keep []*target
		for _, t := range tg.targets {
			switch t.state {
			case "initial", "unused":
				if !attached {
					t.state, t.reason = "unused", "Target.NotInUse"
					keep = append(keep, t)
					continue
				}
				start := t.since
				if activeSince.After(start) {
					start = activeSince
				}
				if at := start.Add(s.opts.TargetHealthyDuration); !now.Before(at) {
					t.state, t.reason, t.since = "healthy", "", at
				} else {
					t.state, t.reason = "initial", "Elb.RegistrationInProgress"
				}
			case "draining":
				if !now.Before(t.since.Add(s.opts.TargetDrainDuration)) {
					continue
				}
			}
			keep = append(keep, t)
		}
		tg.targets = keep
	}
}

// tgLoadBalancers lists the load balancers whose listeners forward to tg.
func (s *Server) tgLoadBalancers(rs *regionState, tg *targetGroup) []*loadBalancer {
	seen := map[string]bool{}
	var out []*loadBalancer
	for _, arn := range sortedKeys(rs.elb.listeners) {
		l := rs.elb.listeners[arn]
		if !contains(actionTargetGroups(l.l.DefaultActions), tg.arn) || seen[l.lbArn] {
			continue
		}
		if lb := rs.elb.lbs[l.lbArn]; lb != nil {
			seen[l.lbArn] = true
			out = append(out, lb)
		}
	}
	return out
}

func actionTargetGroups(actions []elbtypes.Action) []string {
	var out []string
	for _, a := range actions {
		if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, str(t.TargetGroupArn))
			}
		}
	}
	return out
}

func (tg *targetGroup) healthy(id string, port int32) bool {
	for _, t := range tg.targets {
		if t.id == id && t.port == port {
			return t.state == "healthy"
		}
	}
	return false
}

func (s *Server) registerTarget(rs *regionState, tg *targetGroup, id string, port int32, az string, now time.Time) {
	if port == 0 {
		port = i32(tg.tg.Port)
	}
	for _, t := range tg.targets {
		if t.id == id && t.port == port {
			if t.state == "draining" {
				t.state, t.since, t.reason = "initial", now, "Elb.RegistrationInProgress"
			}
			return
		}
	}
	tg.targets = append(tg.targets, &target{id: id, port: port, az: az, state: "initial", since: now, reason: "Elb.RegistrationInProgress"})
}

func (s *Server) deregisterTarget(rs *regionState, tg *targetGroup, id string, port int32, now time.Time) {
	if port == 0 {
		port = i32(tg.tg.Port)
	}
	for i, t := range tg.targets {
		if t.id == id && t.port == port {
			if t.state == "unused" {
				tg.targets = append(tg.targets[:i], tg.targets[i+1:]...)
				return
			}
			t.state, t.since, t.reason = "draining", now, "Target.DeregistrationInProgress"
			return
		}
	}
}

// ---------------------------------------------------------------------------

func init() {
	register("elasticloadbalancing", map[string]handlerFunc{
		"CreateLoadBalancer":             (*Server).elbCreateLoadBalancer,
		"DescribeLoadBalancers":          (*Server).elbDescribeLoadBalancers,
		"DeleteLoadBalancer":             (*Server).elbDeleteLoadBalancer,
		"CreateTargetGroup":              (*Server).elbCreateTargetGroup,
		"DescribeTargetGroups":           (*Server).elbDescribeTargetGroups,
		"DeleteTargetGroup":              (*Server).elbDeleteTargetGroup,
		"CreateListener":                 (*Server).elbCreateListener,
		"DescribeListeners":              (*Server).elbDescribeListeners,
		"DeleteListener":                 (*Server).elbDeleteListener,
		"ModifyListener":                 (*Server).elbModifyListener,
		"DescribeTargetHealth":           (*Server).elbDescribeTargetHealth,
		"RegisterTargets":                (*Server).elbRegisterTargets,
		"DeregisterTargets":              (*Server).elbDeregisterTargets,
		"AddTags":                        (*Server).elbAddTags,
		"RemoveTags":                     (*Server).elbRemoveTags,
		"DescribeTags":                   (*Server).elbDescribeTags,
		"ModifyTargetGroupAttributes":    (*Server).elbModifyTGAttributes,
		"DescribeTargetGroupAttributes":  (*Server).elbDescribeTGAttributes,
		"ModifyLoadBalancerAttributes":   (*Server).elbModifyLBAttributes,
		"DescribeLoadBalancerAttributes": (*Server).elbDescribeLBAttributes,
	})
}

var elbNameRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)

func elbTags(in []elbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range in {
		m[str(t.Key)] = str(t.Value)
	}
	return m
}

func elbTagList(m map[string]string) []elbtypes.Tag {
	out := []elbtypes.Tag{}
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.Tag{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

func (s *Server) lbOut(c *reqCtx, lb *loadBalancer) elbtypes.LoadBalancer {
	out := elbtypes.LoadBalancer{LoadBalancerArn: ptr(lb.arn), LoadBalancerName: ptr(lb.name), DNSName: ptr(lb.dns), CanonicalHostedZoneId: ptr("Z35SXDOTRQ7X7K"),
		CreatedTime: ptr(lb.created), Scheme: lb.scheme, VpcId: ptr(lb.vpcID), State: &elbtypes.LoadBalancerState{Code: elbtypes.LoadBalancerStateEnum(lb.state)},
		Type: lb.typ, IpAddressType: lb.ipType, SecurityGroups: append([]string{}, lb.sgs...)}
	for _, id := range lb.subnets {
		az := ""
		if sn := c.rs.ec2.subnets[id]; sn != nil {
			az = sn.az
		}
		out.AvailabilityZones = append(out.AvailabilityZones, elbtypes.AvailabilityZone{ZoneName: ptr(az), SubnetId: ptr(id), LoadBalancerAddresses: []elbtypes.LoadBalancerAddress{}})
	}
	return out
}

func (s *Server) elbCreateLoadBalancer(c *reqCtx) (any, error) {
	var in elb.CreateLoadBalancerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	name := str(in.Name)
	if !elbNameRe.MatchString(name) || strings.HasPrefix(strings.ToLower(name), "internal-") {
		return nil, errorf("ValidationError", "LoadBalancer name cannot be longer than 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen or begin with 'internal-'")
	}
	subnets := append([]string{}, in.Subnets...)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, str(m.SubnetId))
	}
	typ := in.Type
	if typ == "" {
		typ = elbtypes.LoadBalancerTypeEnumApplication
	}
	scheme := in.Scheme
	if scheme == "" {
		scheme = elbtypes.LoadBalancerSchemeEnumInternetFacing
	}
	azs := map[string]bool{}
	vpcID := ""
	for _, id := range subnets {
		sn := c.rs.ec2.subnets[id]
		if sn == nil {
			return nil, errorf("SubnetNotFound", "The subnet ID '%s' is not valid", id)
		}
		if vpcID != "" && sn.vpcID != vpcID {
			return nil, errorf("InvalidSubnet", "Subnets must be in the same VPC")
		}
		if azs[sn.az] {
			return nil, errorf("InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		azs[sn.az] = true
		vpcID = sn.vpcID
	}
	if typ == elbtypes.LoadBalancerTypeEnumApplication && len(azs) < 2 {
		return nil, errorf("InvalidConfigurationRequest", "At least two subnets in two different Availability Zones must be specified")
	}
	for _, g := range in.SecurityGroups {
		sg := c.rs.ec2.sgs[g]
		if sg == nil || sg.vpcID != vpcID {
			return nil, errorf("InvalidSecurityGroup", "Security group '%s' does not exist", g)
		}
	}
	for _, lb := range st.lbs {
		if lb.name == name {
			if lb.scheme == scheme && lb.typ == typ && strings.Join(lb.subnets, ",") == strings.Join(subnets, ",") {
				return &elb.CreateLoadBalancerOutput{LoadBalancers: []elbtypes.LoadBalancer{s.lbOut(c, lb)}}, nil
			}
			return nil, errorf("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
	}
	sgs := in.SecurityGroups
	if len(sgs) == 0 && typ == elbtypes.LoadBalancerTypeEnumApplication {
		for _, g := range c.rs.ec2.sgs {
			if g.isDefault && g.vpcID == vpcID {
				sgs = []string{g.id}
			}
		}
	}
	short := "app"
	if typ == elbtypes.LoadBalancerTypeEnumNetwork {
		short = "net"
	}
	id := randHex(16)
	dns := fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", name, 1000000000+rand.Int64N(8999999999), c.region)
	if scheme == elbtypes.LoadBalancerSchemeEnumInternal {
		dns = "internal-" + dns
	}
	ipType := in.IpAddressType
	if ipType == "" {
		ipType = elbtypes.IpAddressTypeIpv4
	}
	lb := &loadBalancer{arn: c.arn("elasticloadbalancing", "loadbalancer/"+short+"/"+name+"/"+id), name: name, dns: dns, vpcID: vpcID, scheme: scheme,
		typ: typ, ipType: ipType, subnets: subnets, sgs: sgs, state: "provisioning", created: c.now, tags: elbTags(in.Tags),
		attrs: map[string]string{"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60", "access_logs.s3.enabled": "false", "routing.http2.enabled": "true"}}
	st.lbs[lb.arn] = lb
	return &elb.CreateLoadBalancerOutput{LoadBalancers: []elbtypes.LoadBalancer{s.lbOut(c, lb)}}, nil
}

func (s *Server) elbDescribeLoadBalancers(c *reqCtx) (any, error) {
	var in elb.DescribeLoadBalancersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	out := &elb.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{}}
	for _, arn := range in.LoadBalancerArns {
		lb := st.lbs[arn]
		if lb == nil {
			return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
		}
		out.LoadBalancers = append(out.LoadBalancers, s.lbOut(c, lb))
	}
	for _, n := range in.Names {
		var found *loadBalancer
		for _, lb := range st.lbs {
			if lb.name == n {
				found = lb
			}
		}
		if found == nil {
			return nil, errorf("LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
		}
		out.LoadBalancers = append(out.LoadBalancers, s.lbOut(c, found))
	}
	if len(in.LoadBalancerArns) == 0 && len(in.Names) == 0 {
		for _, arn := range sortedKeys(st.lbs) {
			out.LoadBalancers = append(out.LoadBalancers, s.lbOut(c, st.lbs[arn]))
		}
	}
	return out, nil
}

func (s *Server) elbDeleteLoadBalancer(c *reqCtx) (any, error) {
	var in elb.DeleteLoadBalancerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	arn := str(in.LoadBalancerArn)
	lb := st.lbs[arn]
	if lb == nil {
		return &elb.DeleteLoadBalancerOutput{}, nil // deleting a missing load balancer succeeds
	}
	if lb.attrs["deletion_protection.enabled"] == "true" {
		return nil, errorf("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
	}
	for la, l := range st.listeners {
		if l.lbArn == arn {
			delete(st.listeners, la)
		}
	}
	delete(st.lbs, arn)
	lb.deletedAt = c.now
	st.deleted[arn] = lb
	return &elb.DeleteLoadBalancerOutput{}, nil
}

func (s *Server) tgOut(c *reqCtx, tg *targetGroup) elbtypes.TargetGroup {
	out := tg.tg
	out.LoadBalancerArns = []string{}
	for _, lb := range s.tgLoadBalancers(c.rs, tg) {
		out.LoadBalancerArns = append(out.LoadBalancerArns, lb.arn)
	}
	return out
}

func (s *Server) elbCreateTargetGroup(c *reqCtx) (any, error) {
	var in elb.CreateTargetGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	name := str(in.Name)
	if !elbNameRe.MatchString(name) {
		return nil, errorf("ValidationError", "Target group name '%s' cannot be longer than '32' characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen", name)
	}
	tt := in.TargetType
	if tt == "" {
		tt = elbtypes.TargetTypeEnumInstance
	}
	if tt != elbtypes.TargetTypeEnumLambda {
		if str(in.VpcId) == "" {
			return nil, errorf("ValidationError", "A VPC ID must be specified")
		}
		if c.rs.ec2.vpcs[str(in.VpcId)] == nil {
			return nil, errorf("ValidationError", "The VPC ID '%s' is not found", str(in.VpcId))
		}
		if in.Protocol == "" || in.Port == nil {
			return nil, errorf("ValidationError", "A protocol and port must be specified")
		}
	}
	for _, tg := range st.tgs {
		if tg.name == name {
			if str(tg.tg.VpcId) == str(in.VpcId) && tg.tg.Protocol == in.Protocol && i32(tg.tg.Port) == i32(in.Port) && tg.targetType == string(tt) {
				return &elb.CreateTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{s.tgOut(c, tg)}}, nil
			}
			return nil, errorf("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
		}
	}
	arn := c.arn("elasticloadbalancing", "targetgroup/"+name+"/"+randHex(16))
	t := elbtypes.TargetGroup{TargetGroupArn: ptr(arn), TargetGroupName: ptr(name), Protocol: in.Protocol, Port: in.Port, VpcId: in.VpcId, TargetType: tt,
		HealthCheckEnabled: ptr(true), HealthCheckProtocol: in.HealthCheckProtocol, HealthCheckPort: in.HealthCheckPort, HealthCheckPath: in.HealthCheckPath,
		HealthCheckIntervalSeconds: in.HealthCheckIntervalSeconds, HealthCheckTimeoutSeconds: in.HealthCheckTimeoutSeconds,
		HealthyThresholdCount: in.HealthyThresholdCount, UnhealthyThresholdCount: in.UnhealthyThresholdCount, Matcher: in.Matcher,
		IpAddressType: elbtypes.TargetGroupIpAddressTypeEnumIpv4}
	if in.HealthCheckEnabled != nil {
		t.HealthCheckEnabled = in.HealthCheckEnabled
	}
	if t.HealthCheckProtocol == "" {
		t.HealthCheckProtocol = in.Protocol
	}
	if t.HealthCheckPort == nil {
		t.HealthCheckPort = ptr("traffic-port")
	}
	if t.HealthCheckPath == nil && (in.Protocol == elbtypes.ProtocolEnumHttp || in.Protocol == elbtypes.ProtocolEnumHttps) {
		t.HealthCheckPath = ptr("/")
	}
	if t.HealthCheckIntervalSeconds == nil {
		t.HealthCheckIntervalSeconds = ptr(int32(30))
	}
	if t.HealthCheckTimeoutSeconds == nil {
		t.HealthCheckTimeoutSeconds = ptr(int32(5))
	}
	if t.HealthyThresholdCount == nil {
		t.HealthyThresholdCount = ptr(int32(5))
	}
	if t.UnhealthyThresholdCount == nil {
		t.UnhealthyThresholdCount = ptr(int32(2))
	}
	if t.Matcher == nil && (in.Protocol == elbtypes.ProtocolEnumHttp || in.Protocol == elbtypes.ProtocolEnumHttps) {
		t.Matcher = &elbtypes.Matcher{HttpCode: ptr("200")}
	}
	if in.Protocol == elbtypes.ProtocolEnumHttp || in.Protocol == elbtypes.ProtocolEnumHttps {
		t.ProtocolVersion = ptr("HTTP1")
		if in.ProtocolVersion != nil {
			t.ProtocolVersion = in.ProtocolVersion
		}
	}
	tg := &targetGroup{arn: arn, name: name, targetType: string(tt), tg: t, tags: elbTags(in.Tags),
		attrs: map[string]string{"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false", "stickiness.type": "lb_cookie", "load_balancing.algorithm.type": "round_robin", "slow_start.duration_seconds": "0"}}
	st.tgs[arn] = tg
	return &elb.CreateTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{s.tgOut(c, tg)}}, nil
}

func (s *Server) elbDescribeTargetGroups(c *reqCtx) (any, error) {
	var in elb.DescribeTargetGroupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	out := &elb.DescribeTargetGroupsOutput{TargetGroups: []elbtypes.TargetGroup{}}
	for _, arn := range in.TargetGroupArns {
		tg := st.tgs[arn]
		if tg == nil {
			return nil, errorf("TargetGroupNotFound", "One or more target groups not found")
		}
		out.TargetGroups = append(out.TargetGroups, s.tgOut(c, tg))
	}
	for _, n := range in.Names {
		var found *targetGroup
		for _, tg := range st.tgs {
			if tg.name == n {
				found = tg
			}
		}
		if found == nil {
			return nil, errorf("TargetGroupNotFound", "One or more target groups not found")
		}
		out.TargetGroups = append(out.TargetGroups, s.tgOut(c, found))
	}
	if len(in.TargetGroupArns) == 0 && len(in.Names) == 0 {
		lbArn := str(in.LoadBalancerArn)
		if lbArn != "" && st.lbs[lbArn] == nil {
			return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
		}
		for _, arn := range sortedKeys(st.tgs) {
			tg := st.tgs[arn]
			o := s.tgOut(c, tg)
			if lbArn != "" && !contains(o.LoadBalancerArns, lbArn) {
				continue
			}
			out.TargetGroups = append(out.TargetGroups, o)
		}
	}
	return out, nil
}

func (s *Server) elbDeleteTargetGroup(c *reqCtx) (any, error) {
	var in elb.DeleteTargetGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	arn := str(in.TargetGroupArn)
	tg := st.tgs[arn]
	if tg == nil {
		return &elb.DeleteTargetGroupOutput{}, nil
	}
	for _, l := range st.listeners {
		if contains(actionTargetGroups(l.l.DefaultActions), arn) {
			return nil, errorf("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
		}
	}
	delete(st.tgs, arn)
	return &elb.DeleteTargetGroupOutput{}, nil
}

func (s *Server) checkActions(c *reqCtx, lb *loadBalancer, actions []elbtypes.Action) error {
	if len(actions) == 0 {
		return errorf("ValidationError", "A default action must be specified")
	}
	for _, arn := range actionTargetGroups(actions) {
		tg := c.rs.elb.tgs[arn]
		if tg == nil {
			return errorf("TargetGroupNotFound", "Target group '%s' not found", arn)
		}
		if str(tg.tg.VpcId) != lb.vpcID {
			return errorf("ValidationError", "Target group '%s' is in a different VPC than the load balancer", arn)
		}
		for _, other := range s.tgLoadBalancers(c.rs, tg) {
			if other.arn != lb.arn {
				return errorf("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
	}
	return nil
}

func (s *Server) elbCreateListener(c *reqCtx) (any, error) {
	var in elb.CreateListenerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	lb := st.lbs[str(in.LoadBalancerArn)]
	if lb == nil {
		return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
	}
	if err := s.checkActions(c, lb, in.DefaultActions); err != nil {
		return nil, err
	}
	if in.Protocol == elbtypes.ProtocolEnumHttps && len(in.Certificates) == 0 {
		return nil, errorf("ValidationError", "A certificate must be specified for HTTPS listeners")
	}
	for _, l := range st.listeners {
		if l.lbArn == lb.arn && i32(l.l.Port) == i32(in.Port) {
			if l.l.Protocol == in.Protocol && strings.Join(actionTargetGroups(l.l.DefaultActions), ",") == strings.Join(actionTargetGroups(in.DefaultActions), ",") {
				return &elb.CreateListenerOutput{Listeners: []elbtypes.Listener{l.l}}, nil
			}
			return nil, errorf("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.arn)
		}
	}
	lbPath := strings.TrimPrefix(lb.arn[strings.Index(lb.arn, ":loadbalancer/")+1:], "loadbalancer/")
	arn := c.arn("elasticloadbalancing", "listener/"+lbPath+"/"+randHex(16))
	l := &listener{arn: arn, lbArn: lb.arn, tags: elbTags(in.Tags), l: elbtypes.Listener{ListenerArn: ptr(arn), LoadBalancerArn: ptr(lb.arn), Port: in.Port,
		Protocol: in.Protocol, DefaultActions: normActions(in.DefaultActions), Certificates: in.Certificates, SslPolicy: in.SslPolicy, AlpnPolicy: in.AlpnPolicy}}
	if in.Protocol == elbtypes.ProtocolEnumHttps && l.l.SslPolicy == nil {
		l.l.SslPolicy = ptr("ELBSecurityPolicy-2016-08")
	}
	st.listeners[arn] = l
	return &elb.CreateListenerOutput{Listeners: []elbtypes.Listener{l.l}}, nil
}

func normActions(in []elbtypes.Action) []elbtypes.Action {
	out := make([]elbtypes.Action, len(in))
	copy(out, in)
	for i := range out {
		if out[i].Type == elbtypes.ActionTypeEnumForward && out[i].TargetGroupArn != nil && out[i].ForwardConfig == nil {
			out[i].ForwardConfig = &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: out[i].TargetGroupArn, Weight: ptr(int32(1))}},
				TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: ptr(false)}}
		}
	}
	return out
}

func (s *Server) elbDescribeListeners(c *reqCtx) (any, error) {
	var in elb.DescribeListenersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.elb
	out := &elb.DescribeListenersOutput{Listeners: []elbtypes.Listener{}}
	if len(in.ListenerArns) > 0 {
		for _, arn := range in.ListenerArns {
			l := st.listeners[arn]
			if l == nil {
				return nil, errorf("ListenerNotFound", "One or more listeners not found")
			}
			out.Listeners = append(out.Listeners, l.l)
		}
		return out, nil
	}
	lbArn := str(in.LoadBalancerArn)
	if st.lbs[lbArn] == nil {
		return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
	}
	for _, arn := range sortedKeys(st.listeners) {
		if l := st.listeners[arn]; l.lbArn == lbArn {
			out.Listeners = append(out.Listeners, l.l)
		}
	}
	return out, nil
}

func (s *Server) elbDeleteListener(c *reqCtx) (any, error) {
	var in elb.DeleteListenerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if c.rs.elb.listeners[str(in.ListenerArn)] == nil {
		return nil, errorf("ListenerNotFound", "One or more listeners not found")
	}
	delete(c.rs.elb.listeners, str(in.ListenerArn))
	return &elb.DeleteListenerOutput{}, nil
}

func (s *Server) elbModifyListener(c *reqCtx) (any, error) {
	var in elb.ModifyListenerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	l := c.rs.elb.listeners[str(in.ListenerArn)]
	if l == nil {
		return nil, errorf("ListenerNotFound", "One or more listeners not found")
	}
	if in.DefaultActions != nil {
		if err := s.checkActions(c, c.rs.elb.lbs[l.lbArn], in.DefaultActions); err != nil {
			return nil, err
		}
		l.l.DefaultActions = normActions(in.DefaultActions)
	}
	if in.Port != nil {
		l.l.Port = in.Port
	}
	if in.Protocol != "" {
		l.l.Protocol = in.Protocol
	}
	if in.Certificates != nil {
		l.l.Certificates = in.Certificates
	}
	if in.SslPolicy != nil {
		l.l.SslPolicy = in.SslPolicy
	}
	return &elb.ModifyListenerOutput{Listeners: []elbtypes.Listener{l.l}}, nil
}

var targetDescriptions = map[string]string{
	"initial":  "Target registration is in progress",
	"unused":   "Target group is not configured to receive traffic from the load balancer",
	"draining": "Target deregistration is in progress",
}

func (s *Server) elbDescribeTargetHealth(c *reqCtx) (any, error) {
	var in elb.DescribeTargetHealthInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tg := c.rs.elb.tgs[str(in.TargetGroupArn)]
	if tg == nil {
		return nil, errorf("TargetGroupNotFound", "Target groups '%s' not found", str(in.TargetGroupArn))
	}
	out := &elb.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{}}
	desc := func(t *target) elbtypes.TargetHealthDescription {
		d := elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: ptr(t.id), Port: ptr(t.port)},
			HealthCheckPort: ptr(fmt.Sprint(t.port)), TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnum(t.state)}}
		if t.az != "" {
			d.Target.AvailabilityZone = ptr(t.az)
		}
		if t.reason != "" {
			d.TargetHealth.Reason = elbtypes.TargetHealthReasonEnum(t.reason)
			d.TargetHealth.Description = ptr(targetDescriptions[t.state])
		}
		return d
	}
	if len(in.Targets) > 0 {
		for _, want := range in.Targets {
			port := i32(want.Port)
			if port == 0 {
				port = i32(tg.tg.Port)
			}
			var found *target
			for _, t := range tg.targets {
				if t.id == str(want.Id) && t.port == port {
					found = t
				}
			}
			if found == nil {
				found = &target{id: str(want.Id), port: port, state: "unavailable", reason: "Target.NotRegistered"}
				d := desc(found)
				d.TargetHealth.Description = ptr("Target is not registered to the target group")
				out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
				continue
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(found))
		}
		return out, nil
	}
	for _, t := range tg.targets {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(t))
	}
	return out, nil
}

func (s *Server) elbRegisterTargets(c *reqCtx) (any, error) {
	var in elb.RegisterTargetsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tg := c.rs.elb.tgs[str(in.TargetGroupArn)]
	if tg == nil {
		return nil, errorf("TargetGroupNotFound", "Target groups '%s' not found", str(in.TargetGroupArn))
	}
	for _, t := range in.Targets {
		if tg.targetType == "instance" {
			if in := c.rs.ec2.instances[str(t.Id)]; in == nil || in.state != "running" {
				return nil, errorf("InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", str(t.Id))
			}
		}
		s.registerTarget(c.rs, tg, str(t.Id), i32(t.Port), str(t.AvailabilityZone), c.now)
	}
	return &elb.RegisterTargetsOutput{}, nil
}

func (s *Server) elbDeregisterTargets(c *reqCtx) (any, error) {
	var in elb.DeregisterTargetsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tg := c.rs.elb.tgs[str(in.TargetGroupArn)]
	if tg == nil {
		return nil, errorf("TargetGroupNotFound", "Target groups '%s' not found", str(in.TargetGroupArn))
	}
	for _, t := range in.Targets {
		s.deregisterTarget(c.rs, tg, str(t.Id), i32(t.Port), c.now)
	}
	return &elb.DeregisterTargetsOutput{}, nil
}

func (s *Server) elbTagTarget(c *reqCtx, arn string) (*map[string]string, error) {
	st := c.rs.elb
	switch {
	case strings.Contains(arn, ":loadbalancer/"):
		if lb := st.lbs[arn]; lb != nil {
			return &lb.tags, nil
		}
		return nil, errorf("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	case strings.Contains(arn, ":targetgroup/"):
		if tg := st.tgs[arn]; tg != nil {
			return &tg.tags, nil
		}
		return nil, errorf("TargetGroupNotFound", "Target group '%s' not found", arn)
	case strings.Contains(arn, ":listener/"):
		if l := st.listeners[arn]; l != nil {
			return &l.tags, nil
		}
		return nil, errorf("ListenerNotFound", "Listener '%s' not found", arn)
	}
	return nil, errorf("ValidationError", "'%s' is not a valid resource ARN", arn)
}

func (s *Server) elbAddTags(c *reqCtx) (any, error) {
	var in elb.AddTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, arn := range in.ResourceArns {
		if _, err := s.elbTagTarget(c, arn); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ResourceArns {
		tp, _ := s.elbTagTarget(c, arn)
		if *tp == nil {
			*tp = map[string]string{}
		}
		for k, v := range elbTags(in.Tags) {
			(*tp)[k] = v
		}
	}
	return &elb.AddTagsOutput{}, nil
}

func (s *Server) elbRemoveTags(c *reqCtx) (any, error) {
	var in elb.RemoveTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, arn := range in.ResourceArns {
		tp, err := s.elbTagTarget(c, arn)
		if err != nil {
			return nil, err
		}
		for _, k := range in.TagKeys {
			delete(*tp, k)
		}
	}
	return &elb.RemoveTagsOutput{}, nil
}

func (s *Server) elbDescribeTags(c *reqCtx) (any, error) {
	var in elb.DescribeTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &elb.DescribeTagsOutput{TagDescriptions: []elbtypes.TagDescription{}}
	for _, arn := range in.ResourceArns {
		tp, err := s.elbTagTarget(c, arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, elbtypes.TagDescription{ResourceArn: ptr(arn), Tags: elbTagList(*tp)})
	}
	return out, nil
}

func (s *Server) elbModifyTGAttributes(c *reqCtx) (any, error) {
	var in elb.ModifyTargetGroupAttributesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tg := c.rs.elb.tgs[str(in.TargetGroupArn)]
	if tg == nil {
		return nil, errorf("TargetGroupNotFound", "One or more target groups not found")
	}
	for _, a := range in.Attributes {
		tg.attrs[str(a.Key)] = str(a.Value)
	}
	return &elb.ModifyTargetGroupAttributesOutput{Attributes: tgAttrList(tg.attrs)}, nil
}

func tgAttrList(m map[string]string) []elbtypes.TargetGroupAttribute {
	out := []elbtypes.TargetGroupAttribute{}
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.TargetGroupAttribute{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

func (s *Server) elbDescribeTGAttributes(c *reqCtx) (any, error) {
	var in elb.DescribeTargetGroupAttributesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tg := c.rs.elb.tgs[str(in.TargetGroupArn)]
	if tg == nil {
		return nil, errorf("TargetGroupNotFound", "One or more target groups not found")
	}
	return &elb.DescribeTargetGroupAttributesOutput{Attributes: tgAttrList(tg.attrs)}, nil
}

func lbAttrList(m map[string]string) []elbtypes.LoadBalancerAttribute {
	out := []elbtypes.LoadBalancerAttribute{}
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.LoadBalancerAttribute{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

func (s *Server) elbModifyLBAttributes(c *reqCtx) (any, error) {
	var in elb.ModifyLoadBalancerAttributesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	lb := c.rs.elb.lbs[str(in.LoadBalancerArn)]
	if lb == nil {
		return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
	}
	for _, a := range in.Attributes {
		lb.attrs[str(a.Key)] = str(a.Value)
	}
	return &elb.ModifyLoadBalancerAttributesOutput{Attributes: lbAttrList(lb.attrs)}, nil
}

func (s *Server) elbDescribeLBAttributes(c *reqCtx) (any, error) {
	var in elb.DescribeLoadBalancerAttributesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	lb := c.rs.elb.lbs[str(in.LoadBalancerArn)]
	if lb == nil {
		return nil, errorf("LoadBalancerNotFound", "One or more load balancers not found")
	}
	return &elb.DescribeLoadBalancerAttributesOutput{Attributes: lbAttrList(lb.attrs)}, nil
}
