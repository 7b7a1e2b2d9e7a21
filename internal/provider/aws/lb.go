package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudark/cld/internal/provider"
)

func elbTags(el *provider.Element) []elbtypes.Tag {
	m := tagMap(el)
	var out []elbtypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// targetGroupSpec is the target group of an app's load balancer: EC2
// instances on dynamic host ports (bridge), or task IPs (awsvpc).
type targetGroupSpec struct {
	base
	VpcID      string `json:"vpc_id"`
	Port       int32  `json:"port"`
	TargetType string `json:"target_type"` // instance | ip
}

// targetGroupHandler manages a target group by name.
type targetGroupHandler struct{ t *Target }

var _ provider.Updater = targetGroupHandler{}

func findTargetGroup(ctx context.Context, c *clients, name string) (*elbtypes.TargetGroup, error) {
	out, err := c.ELB().DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{name}})
	if hasCode(err, "TargetGroupNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	if len(out.TargetGroups) == 0 {
		return nil, nil
	}
	return &out.TargetGroups[0], nil
}

func (h targetGroupHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ts targetGroupSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return provider.Observation{}, err
	}
	tg, err := findTargetGroup(ctx, c, req.Element.Name)
	if err != nil || tg == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(tg.TargetGroupArn)
	return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{"TargetGroupArn": arn, "Port": fmt.Sprint(aws.ToInt32(tg.Port))}}, nil
}

func (h targetGroupHandler) Create(ctx context.Context, req *provider.Request) error {
	var ts targetGroupSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return err
	}
	out, err := c.ELB().CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String(req.Element.Name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(ts.Port), VpcId: aws.String(ts.VpcID),
		TargetType: elbtypes.TargetTypeEnum(ts.TargetType), HealthCheckPath: aws.String("/"), HealthCheckIntervalSeconds: aws.Int32(10),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(3),
		// any HTTP answer means the app is up (as the local target checks)
		Matcher: &elbtypes.Matcher{HttpCode: aws.String("200-499")}, Tags: elbTags(req.Element),
	})
	if err != nil {
		return classify(err)
	}
	if len(out.TargetGroups) > 0 {
		// tasks stop quicker on redeploy and delete
		c.ELB().ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: out.TargetGroups[0].TargetGroupArn,
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("15")}}})
	}
	return nil
}

// Update keeps the group; its port and target type cannot change in place.
func (h targetGroupHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	var ts, prev targetGroupSpec
	if err := req.Element.DecodeSpec(&ts); err != nil {
		return err
	}
	if old != nil && old.DecodeSpec(&prev) == nil && (prev.Port != ts.Port || prev.TargetType != ts.TargetType) && prev.Port != 0 {
		return provider.Permanent(fmt.Errorf("the app's container port changed (%d -> %d): delete the app and deploy it again", prev.Port, ts.Port))
	}
	obs, err := h.Observe(ctx, req)
	if err != nil || obs.Exists {
		return err
	}
	return h.Create(ctx, req)
}

func (h targetGroupHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ts targetGroupSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return err
	}
	tg, err := findTargetGroup(ctx, c, req.Element.Name)
	if err != nil || tg == nil {
		return err
	}
	_, err = c.ELB().DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil && !hasCode(err, "TargetGroupNotFound") {
		return classify(err)
	}
	return nil
}

// loadBalancerSpec is an internet-facing application load balancer in the
// environment's subnets, in its own group (which admits the listener port)
// and the cluster's (which reaches the tasks).
type loadBalancerSpec struct {
	base
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"security_groups"` // ids known at plan time (the cluster's)
	GroupName      string   `json:"group_name"`      // the load balancer's own group
}

// loadBalancerHandler manages the application load balancer.
type loadBalancerHandler struct{ t *Target }

var (
	_ provider.Updater = loadBalancerHandler{}
	_ provider.Waiter  = loadBalancerHandler{}
)

func (loadBalancerHandler) ReadyTimeout(*provider.Element) time.Duration { return 10 * time.Minute }

func findLoadBalancer(ctx context.Context, c *clients, name string) (*elbtypes.LoadBalancer, error) {
	out, err := c.ELB().DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{name}})
	if hasCode(err, "LoadBalancerNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	if len(out.LoadBalancers) == 0 {
		return nil, nil
	}
	return &out.LoadBalancers[0], nil
}

func (h loadBalancerHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ls loadBalancerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return provider.Observation{}, err
	}
	lb, err := findLoadBalancer(ctx, c, req.Element.Name)
	if err != nil || lb == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(lb.LoadBalancerArn)
	obs := provider.Observation{Exists: true, Ref: arn, Outputs: map[string]string{"LoadBalancerArn": arn, "DNSName": aws.ToString(lb.DNSName)}}
	state := elbtypes.LoadBalancerStateEnumProvisioning
	if lb.State != nil {
		state = lb.State.Code
	}
	switch state {
	case elbtypes.LoadBalancerStateEnumActive, elbtypes.LoadBalancerStateEnumActiveImpaired:
		obs.Ready = true
	case elbtypes.LoadBalancerStateEnumFailed:
		reason := ""
		if lb.State != nil {
			reason = aws.ToString(lb.State.Reason)
		}
		obs.Failed = "load balancer " + req.Element.Name + " failed: " + reason
	default:
		obs.Progress = "load balancer " + string(state)
	}
	return obs, nil
}

func (h loadBalancerHandler) Create(ctx context.Context, req *provider.Request) error {
	var ls loadBalancerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	groups := append([]string{}, ls.SecurityGroups...)
	own := ""
	if d := req.Deps["sg/lb"]; d != nil {
		own = d.Outputs["GroupId"]
	}
	if own == "" {
		sg, err := findGroup(ctx, c, ls.GroupName, "")
		if err != nil {
			return err
		}
		if sg == nil {
			return fmt.Errorf("security group %s not found", ls.GroupName)
		}
		own = aws.ToString(sg.GroupId)
	}
	groups = append(groups, own)
	_, err = c.ELB().CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String(req.Element.Name), Subnets: ls.Subnets, SecurityGroups: groups, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Type: elbtypes.LoadBalancerTypeEnumApplication, IpAddressType: elbtypes.IpAddressTypeIpv4, Tags: elbTags(req.Element),
	})
	return classify(err)
}

// Update keeps the load balancer (and so the app's URL).
func (h loadBalancerHandler) Update(ctx context.Context, req *provider.Request, _ *provider.Element) error {
	obs, err := h.Observe(ctx, req)
	if err != nil || obs.Exists {
		return err
	}
	return h.Create(ctx, req)
}

func (h loadBalancerHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ls loadBalancerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	lb, err := findLoadBalancer(ctx, c, req.Element.Name)
	if err != nil || lb == nil {
		return err
	}
	_, err = c.ELB().DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil && !hasCode(err, "LoadBalancerNotFound") {
		return classify(err)
	}
	return nil
}

// listenerSpec is the load balancer's HTTP listener forwarding to the group.
type listenerSpec struct {
	base
	LoadBalancer string `json:"load_balancer"`
	TargetGroup  string `json:"target_group"`
	Port         int32  `json:"port"`
}

// listenerHandler manages the listener.
type listenerHandler struct{ t *Target }

var _ provider.Updater = listenerHandler{}

func (h listenerHandler) find(ctx context.Context, c *clients, ls listenerSpec, port int32) (*elbtypes.LoadBalancer, *elbtypes.Listener, error) {
	lb, err := findLoadBalancer(ctx, c, ls.LoadBalancer)
	if err != nil || lb == nil {
		return nil, nil, err
	}
	out, err := c.ELB().DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	if hasCode(err, "LoadBalancerNotFound", "ListenerNotFound") {
		return lb, nil, nil
	}
	if err != nil {
		return lb, nil, classify(err)
	}
	for i := range out.Listeners {
		if aws.ToInt32(out.Listeners[i].Port) == port {
			return lb, &out.Listeners[i], nil
		}
	}
	return lb, nil, nil
}

func (h listenerHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ls listenerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return provider.Observation{}, err
	}
	_, l, err := h.find(ctx, c, ls, ls.Port)
	if err != nil || l == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(l.ListenerArn)
	return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{"ListenerArn": arn, "Port": fmt.Sprint(ls.Port)}}, nil
}

func (h listenerHandler) Create(ctx context.Context, req *provider.Request) error {
	var ls listenerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	lb, l, err := h.find(ctx, c, ls, ls.Port)
	if err != nil || l != nil {
		return err
	}
	if lb == nil {
		return fmt.Errorf("load balancer %s not found", ls.LoadBalancer)
	}
	tg, err := findTargetGroup(ctx, c, ls.TargetGroup)
	if err != nil {
		return err
	}
	if tg == nil {
		return fmt.Errorf("target group %s not found", ls.TargetGroup)
	}
	_, err = c.ELB().CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Port: aws.Int32(ls.Port), Protocol: elbtypes.ProtocolEnumHttp, Tags: elbTags(req.Element),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}},
	})
	if hasCode(err, "DuplicateListener") {
		return nil
	}
	return classify(err)
}

// Update moves the listener to a new port if the app's host_port changed.
func (h listenerHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	if err := h.Create(ctx, req); err != nil {
		return err
	}
	var ls, prev listenerSpec
	if err := req.Element.DecodeSpec(&ls); err != nil || old == nil || old.DecodeSpec(&prev) != nil || prev.Port == ls.Port || prev.Port == 0 {
		return err
	}
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	_, l, err := h.find(ctx, c, ls, prev.Port)
	if err != nil || l == nil {
		return err
	}
	_, err = c.ELB().DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn})
	return classify(err)
}

func (h listenerHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ls listenerSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	_, l, err := h.find(ctx, c, ls, ls.Port)
	if err != nil || l == nil {
		return err
	}
	_, err = c.ELB().DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn})
	if err != nil && !hasCode(err, "ListenerNotFound") {
		return classify(err)
	}
	return nil
}

// lbURL is the app's address on its load balancer.
func lbURL(dns string, port int32) string {
	if port == 80 || port == 0 {
		return "http://" + strings.ToLower(dns)
	}
	return fmt.Sprintf("http://%s:%d", strings.ToLower(dns), port)
}
