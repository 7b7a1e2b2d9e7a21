package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudark/cld/internal/provider"
)

// serviceSpec is an app's ECS service.
type serviceSpec struct {
	base
	Cluster        string   `json:"cluster"`
	Desired        int32    `json:"desired"`
	Fargate        bool     `json:"fargate,omitempty"`
	Subnets        []string `json:"subnets,omitempty"`         // awsvpc
	SecurityGroups []string `json:"security_groups,omitempty"` // awsvpc
	Container      string   `json:"container,omitempty"`       // behind the load balancer
	ContainerPort  int32    `json:"container_port,omitempty"`
	ListenPort     int32    `json:"listen_port,omitempty"`
	LoadBalancer   string   `json:"load_balancer,omitempty"`
	TargetGroup    string   `json:"target_group,omitempty"`
}

// serviceHandler manages the ECS service. It is ready when its primary
// deployment runs the expected task definition at the desired count, the
// deployment completed, and every target is healthy; Update rolls it to a
// new task definition revision.
type serviceHandler struct{ t *Target }

var (
	_ provider.Updater = serviceHandler{}
	_ provider.Waiter  = serviceHandler{}
)

// ReadyTimeout: image pulls and health checks take minutes on a cold cluster.
func (serviceHandler) ReadyTimeout(*provider.Element) time.Duration { return 15 * time.Minute }

func findService(ctx context.Context, c *clients, cluster, name string) (*ecstypes.Service, error) {
	out, err := c.ECS().DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if hasCode(err, "ClusterNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	for i := range out.Services {
		if aws.ToString(out.Services[i].ServiceName) == name && aws.ToString(out.Services[i].Status) != "INACTIVE" {
			return &out.Services[i], nil
		}
	}
	return nil, nil
}

func (h serviceHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ss serviceSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return provider.Observation{}, err
	}
	svc, err := findService(ctx, c, ss.Cluster, req.Element.Name)
	if err != nil || svc == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(svc.ServiceArn)
	obs := provider.Observation{Exists: true, Ref: arn, Outputs: map[string]string{"ServiceName": req.Element.Name, "ServiceArn": arn, "Cluster": ss.Cluster}}
	if aws.ToString(svc.Status) != "ACTIVE" {
		obs.Progress = strings.ToLower(aws.ToString(svc.Status))
		return obs, nil
	}
	want := ""
	if d := req.Deps["task-def"]; d != nil {
		want = d.Ref
	}
	var primary *ecstypes.Deployment
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			primary = &svc.Deployments[i]
		}
	}
	if primary == nil {
		obs.Progress = "waiting for a deployment"
		return obs, nil
	}
	obs.Outputs["TaskDefinition"] = aws.ToString(primary.TaskDefinition)
	if want != "" && aws.ToString(primary.TaskDefinition) != want {
		obs.Progress = "waiting for the deployment of " + want
		return obs, nil
	}
	if primary.RolloutState == ecstypes.DeploymentRolloutStateFailed {
		reason := aws.ToString(primary.RolloutStateReason)
		if why := lastStoppedReason(ctx, c, ss.Cluster, req.Element.Name, aws.ToString(primary.Id)); why != "" {
			reason += "; last stopped task: " + why
		}
		obs.Failed = fmt.Sprintf("ECS service %s: %s", req.Element.Name, reason)
		return obs, nil
	}
	if primary.RunningCount < ss.Desired || len(svc.Deployments) > 1 {
		obs.Progress = fmt.Sprintf("%d of %d tasks running", primary.RunningCount, ss.Desired)
		if primary.FailedTasks > 0 {
			if why := lastStoppedReason(ctx, c, ss.Cluster, req.Element.Name, aws.ToString(primary.Id)); why != "" {
				obs.Progress += fmt.Sprintf(" (%d failed: %s)", primary.FailedTasks, why)
			}
		}
		return obs, nil
	}
	if primary.RolloutState != "" && primary.RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		obs.Progress = "deployment " + strings.ToLower(string(primary.RolloutState))
	}
	if ss.TargetGroup != "" {
		healthy, total, err := targetHealth(ctx, c, ss.TargetGroup)
		if err != nil {
			return obs, err
		}
		if healthy < int(ss.Desired) {
			obs.Progress = fmt.Sprintf("%d of %d targets healthy (of %d registered)", healthy, ss.Desired, total)
			return obs, nil
		}
		lb, err := findLoadBalancer(ctx, c, ss.LoadBalancer)
		if err != nil {
			return obs, err
		}
		if lb != nil {
			obs.Outputs["URL"] = lbURL(aws.ToString(lb.DNSName), ss.ListenPort)
			obs.Outputs["LoadBalancerDNS"] = aws.ToString(lb.DNSName)
		}
	}
	if obs.Progress == "" {
		obs.Ready = true
	}
	return obs, nil
}

func targetHealth(ctx context.Context, c *clients, tgName string) (healthy, total int, err error) {
	tg, err := findTargetGroup(ctx, c, tgName)
	if err != nil || tg == nil {
		return 0, 0, err
	}
	out, err := c.ELB().DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return 0, 0, classify(err)
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth == nil {
			continue
		}
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining {
			continue
		}
		total++
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	return healthy, total, nil
}

// stoppedTasks returns the service's stopped tasks, newest first.
func stoppedTasks(ctx context.Context, c *clients, cluster, service string) ([]ecstypes.Task, error) {
	lt, err := c.ECS().ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service), DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil {
		return nil, classify(err)
	}
	if len(lt.TaskArns) == 0 {
		return nil, nil
	}
	arns := lt.TaskArns
	if len(arns) > 100 {
		arns = arns[:100]
	}
	dt, err := c.ECS().DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns})
	if err != nil {
		return nil, classify(err)
	}
	tasks := dt.Tasks
	sort.Slice(tasks, func(i, j int) bool { return aws.ToTime(tasks[i].StoppedAt).After(aws.ToTime(tasks[j].StoppedAt)) })
	return tasks, nil
}

// stopReason says why a task stopped, with its containers' reasons.
func stopReason(t ecstypes.Task) string {
	why := aws.ToString(t.StoppedReason)
	for _, ct := range t.Containers {
		r := aws.ToString(ct.Reason)
		if r != "" && !strings.Contains(why, r) {
			why += fmt.Sprintf("; container %s: %s", aws.ToString(ct.Name), r)
		}
		if ct.ExitCode != nil && aws.ToInt32(ct.ExitCode) != 0 {
			why += fmt.Sprintf("; container %s exited with code %d", aws.ToString(ct.Name), aws.ToInt32(ct.ExitCode))
		}
	}
	return why
}

func lastStoppedReason(ctx context.Context, c *clients, cluster, service, deployment string) string {
	tasks, err := stoppedTasks(ctx, c, cluster, service)
	if err != nil {
		return ""
	}
	for _, t := range tasks {
		if deployment == "" || strings.Contains(aws.ToString(t.StartedBy), deployment) {
			return stopReason(t)
		}
	}
	if len(tasks) > 0 {
		return stopReason(tasks[0])
	}
	return ""
}

func (h serviceHandler) lbConfig(ctx context.Context, c *clients, ss serviceSpec) ([]ecstypes.LoadBalancer, error) {
	if ss.TargetGroup == "" {
		return nil, nil
	}
	tg, err := findTargetGroup(ctx, c, ss.TargetGroup)
	if err != nil {
		return nil, err
	}
	if tg == nil {
		return nil, fmt.Errorf("target group %s not found", ss.TargetGroup)
	}
	return []ecstypes.LoadBalancer{{TargetGroupArn: tg.TargetGroupArn, ContainerName: aws.String(ss.Container), ContainerPort: aws.Int32(ss.ContainerPort)}}, nil
}

func (ss serviceSpec) network() *ecstypes.NetworkConfiguration {
	if !ss.Fargate {
		return nil
	}
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: ss.Subnets, SecurityGroups: ss.SecurityGroups, AssignPublicIp: ecstypes.AssignPublicIpEnabled,
	}}
}

func taskDefArn(req *provider.Request) (string, error) {
	d := req.Deps["task-def"]
	if d == nil || d.Ref == "" {
		return "", fmt.Errorf("service %s: its task definition is not available", req.Element.Name)
	}
	return d.Ref, nil
}

func (h serviceHandler) Create(ctx context.Context, req *provider.Request) error {
	var ss serviceSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return err
	}
	td, err := taskDefArn(req)
	if err != nil {
		return err
	}
	lbs, err := h.lbConfig(ctx, c, ss)
	if err != nil {
		return err
	}
	in := &ecs.CreateServiceInput{
		Cluster: aws.String(ss.Cluster), ServiceName: aws.String(req.Element.Name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(ss.Desired),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: false},
			MaximumPercent:           aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
		},
		LoadBalancers: lbs, NetworkConfiguration: ss.network(), PropagateTags: ecstypes.PropagateTagsService,
		EnableECSManagedTags: true, Tags: ecsTags(req.Element),
	}
	if len(lbs) > 0 {
		in.HealthCheckGracePeriodSeconds = aws.Int32(30)
	}
	req.Say("ECS service %s: %d task(s) of %s", req.Element.Name, ss.Desired, td)
	_, err = c.ECS().CreateService(ctx, in)
	if err != nil && strings.Contains(err.Error(), "not idempotent") {
		return nil // made by an earlier attempt
	}
	if err != nil && strings.Contains(err.Error(), "still Draining") {
		return err // the previous service of that name is going away: retry
	}
	return classify(err)
}

// Update rolls the service to the new task definition revision.
func (h serviceHandler) Update(ctx context.Context, req *provider.Request, _ *provider.Element) error {
	var ss serviceSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return err
	}
	svc, err := findService(ctx, c, ss.Cluster, req.Element.Name)
	if err != nil {
		return err
	}
	if svc == nil {
		return h.Create(ctx, req)
	}
	td, err := taskDefArn(req)
	if err != nil {
		return err
	}
	lbs, err := h.lbConfig(ctx, c, ss)
	if err != nil {
		return err
	}
	in := &ecs.UpdateServiceInput{
		Cluster: aws.String(ss.Cluster), Service: aws.String(req.Element.Name), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(ss.Desired), ForceNewDeployment: true, NetworkConfiguration: ss.network(),
	}
	if len(lbs) > 0 {
		in.LoadBalancers = lbs
	}
	req.Say("rolling ECS service %s to %s", req.Element.Name, td)
	_, err = c.ECS().UpdateService(ctx, in)
	return classify(err)
}

func (h serviceHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ss serviceSpec
	c, err := h.t.decode(ctx, req.Element, &ss)
	if err != nil {
		return err
	}
	return deleteService(ctx, c, ss.Cluster, req.Element.Name)
}

func deleteService(ctx context.Context, c *clients, cluster, name string) error {
	gone := func(err error) bool {
		return hasCode(err, "ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException")
	}
	_, err := c.ECS().UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), DesiredCount: aws.Int32(0)})
	if gone(err) {
		return nil
	}
	_, err = c.ECS().DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), Force: aws.Bool(true)})
	if err != nil && !gone(err) {
		return classify(err)
	}
	return nil
}
