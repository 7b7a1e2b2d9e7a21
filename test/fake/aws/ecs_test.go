package fake

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	logs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

const ec2AssumeRole = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
const ecsTasksAssumeRole = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

type mustErr struct{ err error }

// must panics on error; tests defer catch(t) to turn that into t.Fatal.
func must[T any](v T, err error) T {
	if err != nil {
		panic(mustErr{err})
	}
	return v
}

func catch(t *testing.T) {
	if r := recover(); r != nil {
		if e, ok := r.(mustErr); ok {
			t.Fatalf("unexpected error: %v", e.err)
		}
		panic(r)
	}
}

func serviceEvents(svc ecstypes.Service) string {
	var b strings.Builder
	for _, e := range svc.Events {
		b.WriteString(aws.ToString(e.Message) + "\n")
	}
	return b.String()
}

// TestECSOnEC2Lifecycle builds the whole EC2-capacity stack cld creates,
// runs a service behind an ALB until it is stable, then tears it down.
func TestECSOnEC2Lifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	ec2c, ecsc, iamc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	asc, elbc, logc := autoscaling.NewFromConfig(cfg), elb.NewFromConfig(cfg), logs.NewFromConfig(cfg)
	smc, ssmc := sm.NewFromConfig(cfg), ssm.NewFromConfig(cfg)

	// IAM: instance role + profile, task execution role
	must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cld-demo-instance"), AssumeRolePolicyDocument: aws.String(ec2AssumeRole)}))
	must(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("cld-demo-instance"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")}))
	prof := must(iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("cld-demo-instance")}))
	must(iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("cld-demo-instance"), RoleName: aws.String("cld-demo-instance")}))
	if _, err := iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("cld-demo-instance"), RoleName: aws.String("cld-demo-instance")}); apiCode(err) != "LimitExceeded" {
		t.Fatalf("want LimitExceeded, got %v", err)
	}
	execRole := must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cld-demo-exec"), AssumeRolePolicyDocument: aws.String(ecsTasksAssumeRole)}))
	must(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("cld-demo-exec"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")}))

	// network
	subs := must(ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}}))
	var subnetIDs []string
	for _, s := range subs.Subnets {
		subnetIDs = append(subnetIDs, aws.ToString(s.SubnetId))
	}
	vpcID := aws.ToString(subs.Subnets[0].VpcId)
	lbSG := must(ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("cld-demo-lb"), Description: aws.String("lb"), VpcId: aws.String(vpcID)}))
	appSG := must(ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("cld-demo-app"), Description: aws.String("app"), VpcId: aws.String(vpcID)}))
	must(ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: lbSG.GroupId, IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))
	must(ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: appSG.GroupId, IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: lbSG.GroupId}}}}}))
	must(ec2c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("cld-demo")}))

	// capacity: AMI from the public SSM parameter, launch template, ASG
	ami := must(ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")}))
	amiID := aws.ToString(ami.Parameter.Value)
	if !strings.HasPrefix(amiID, "ami-") {
		t.Fatalf("ami %q", amiID)
	}
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=cld-demo >> /etc/ecs/ecs.config\n"))
	lt := must(ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("cld-demo"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
		ImageId: aws.String(amiID), InstanceType: ec2types.InstanceTypeT3Medium, KeyName: aws.String("cld-demo"), UserData: aws.String(userData),
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: prof.InstanceProfile.Arn},
		SecurityGroupIds:   []string{aws.ToString(appSG.GroupId)}}}))
	must(ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("cld-demo"), Tags: []ecstypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}))
	must(asc.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("cld-demo"), MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")}, VPCZoneIdentifier: aws.String(strings.Join(subnetIDs, ",")),
		NewInstancesProtectedFromScaleIn: aws.Bool(true), Tags: []astypes.Tag{{Key: aws.String("Name"), Value: aws.String("cld-demo"), PropagateAtLaunch: aws.Bool(true)}}}))
	asg := must(asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"cld-demo"}}))
	cp := must(ecsc.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("cld-demo"), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{
		AutoScalingGroupArn: asg.AutoScalingGroups[0].AutoScalingGroupARN, ManagedTerminationProtection: ecstypes.ManagedTerminationProtectionEnabled,
		ManagedScaling: &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(100)}}}))
	must(ecsc.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("cld-demo"), CapacityProviders: []string{"cld-demo"},
		DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("cld-demo"), Weight: 1}}}))

	// the instance comes up and registers in the cluster
	eventually(t, 5*time.Second, "container instance registration", func() bool {
		d := must(ecsc.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"cld-demo"}}))
		return d.Clusters[0].RegisteredContainerInstancesCount == 1
	})
	asg = must(asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"cld-demo"}}))
	if inst := asg.AutoScalingGroups[0].Instances; len(inst) != 1 || inst[0].LifecycleState != astypes.LifecycleStateInService {
		t.Fatalf("asg instances: %+v", inst)
	}
	cis := must(ecsc.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("cld-demo")}))
	dci := must(ecsc.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("cld-demo"), ContainerInstances: cis.ContainerInstanceArns}))
	if aws.ToString(dci.ContainerInstances[0].CapacityProviderName) != "cld-demo" || aws.ToString(dci.ContainerInstances[0].Ec2InstanceId) != aws.ToString(asg.AutoScalingGroups[0].Instances[0].InstanceId) {
		t.Fatalf("container instance: %+v", dci.ContainerInstances[0])
	}
	insts := must(ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:aws:autoscaling:groupName"), Values: []string{"cld-demo"}}}}))
	if len(insts.Reservations) != 1 || insts.Reservations[0].Instances[0].State.Name != ec2types.InstanceStateNameRunning || aws.ToString(insts.Reservations[0].Instances[0].ImageId) != amiID {
		t.Fatalf("instances: %+v", insts.Reservations)
	}

	// app pieces: log group, secret, task definition
	must(logc.CreateLogGroup(ctx, &logs.CreateLogGroupInput{LogGroupName: aws.String("/cld/demo"), Tags: map[string]string{"cld:app": "demo"}}))
	must(logc.PutRetentionPolicy(ctx, &logs.PutRetentionPolicyInput{LogGroupName: aws.String("/cld/demo"), RetentionInDays: aws.Int32(7)}))
	sec := must(smc.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cld/demo/db"), SecretString: aws.String(`{"password":"hunter22hunter22"}`)}))
	td := must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("cld-demo-web"), ExecutionRoleArn: execRole.Role.Arn,
		NetworkMode: ecstypes.NetworkModeAwsvpc, ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx:1.27"), Memory: aws.Int32(256), Cpu: 256,
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}},
			Environment:  []ecstypes.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("top-secret-env-value")}},
			Secrets:      []ecstypes.Secret{{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(aws.ToString(sec.ARN) + ":password::")}},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/cld/demo", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}},
		}}}))
	if td.TaskDefinition.Revision != 1 {
		t.Fatalf("revision %d", td.TaskDefinition.Revision)
	}

	// load balancer
	lb := must(elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("cld-demo"), Subnets: subnetIDs, SecurityGroups: []string{aws.ToString(lbSG.GroupId)}}))
	if aws.ToString(lb.LoadBalancers[0].DNSName) == "" || lb.LoadBalancers[0].State.Code != elbtypes.LoadBalancerStateEnumProvisioning {
		t.Fatalf("lb: %+v", lb.LoadBalancers[0])
	}
	lbArn := lb.LoadBalancers[0].LoadBalancerArn
	tg := must(elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("cld-demo-web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(vpcID), TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/healthz")}))
	tgArn := tg.TargetGroups[0].TargetGroupArn
	svcIn := &ecs.CreateServiceInput{Cluster: aws.String("cld-demo"), ServiceName: aws.String("web"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: subnetIDs, SecurityGroups: []string{aws.ToString(appSG.GroupId)}}},
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: tgArn, ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}}}
	_, err := ecsc.CreateService(ctx, svcIn)
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "does not have an associated load balancer") {
		t.Fatalf("want InvalidParameterException about the target group, got %v", err)
	}
	lst := must(elbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgArn}}}))
	lbw := elb.NewLoadBalancerAvailableWaiter(elbc, func(o *elb.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := lbw.Wait(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lbArn)}}, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// service
	svc := must(ecsc.CreateService(ctx, svcIn))
	if svc.Service.DesiredCount != 2 || len(svc.Service.Deployments) != 1 {
		t.Fatalf("service: %+v", svc.Service)
	}
	if _, err := ecsc.CreateService(ctx, svcIn); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("want InvalidParameterException (not idempotent), got %v", err)
	}
	stable := ecs.NewServicesStableWaiter(ecsc, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := stable.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("cld-demo"), Services: []string{"web"}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "steady state event", func() bool {
		d := must(ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("cld-demo"), Services: []string{"web"}}))
		return strings.Contains(serviceEvents(d.Services[0]), "(service web) has reached a steady state.")
	})
	th := must(elbc.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tgArn}))
	if len(th.TargetHealthDescriptions) != 2 {
		t.Fatalf("targets: %+v", th.TargetHealthDescriptions)
	}
	for _, d := range th.TargetHealthDescriptions {
		if d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
			t.Fatalf("target not healthy: %+v", d.TargetHealth)
		}
	}
	tasks := must(ecsc.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("cld-demo"), ServiceName: aws.String("web")}))
	dt := must(ecsc.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("cld-demo"), Tasks: tasks.TaskArns}))
	if len(dt.Tasks) != 2 || aws.ToString(dt.Tasks[0].LastStatus) != "RUNNING" || aws.ToString(dt.Tasks[0].CapacityProviderName) != "cld-demo" {
		t.Fatalf("tasks: %+v", dt.Tasks)
	}
	taskID := tasks.TaskArns[0][strings.LastIndex(tasks.TaskArns[0], "/")+1:]
	ev := must(logc.GetLogEvents(ctx, &logs.GetLogEventsInput{LogGroupName: aws.String("/cld/demo"), LogStreamName: aws.String("web/web/" + taskID), StartFromHead: aws.Bool(true)}))
	var lines []string
	for _, e := range ev.Events {
		lines = append(lines, aws.ToString(e.Message))
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "task started") || strings.Contains(all, "top-secret-env-value") || strings.Contains(all, "hunter22") {
		t.Fatalf("log lines: %q", lines)
	}
	fl := must(logc.FilterLogEvents(ctx, &logs.FilterLogEventsInput{LogGroupName: aws.String("/cld/demo"), FilterPattern: aws.String(`"task started"`)}))
	if len(fl.Events) != 2 {
		t.Fatalf("filter: %+v", fl.Events)
	}

	// deleting the cluster now fails with the real errors
	_, err = ecsc.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("cld-demo")})
	var contains *ecstypes.ClusterContainsServicesException
	if !errors.As(err, &contains) {
		t.Fatalf("want ClusterContainsServicesException, got %v", err)
	}
	// the target group is in use by the listener
	if _, err := elbc.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tgArn}); apiCode(err) != "ResourceInUse" {
		t.Fatalf("want ResourceInUse, got %v", err)
	}

	// new revision -> rolling deployment
	td2 := must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("cld-demo-web"), ExecutionRoleArn: execRole.Role.Arn,
		NetworkMode: ecstypes.NetworkModeAwsvpc, ContainerDefinitions: td.TaskDefinition.ContainerDefinitions}))
	if td2.TaskDefinition.Revision != 2 {
		t.Fatalf("revision %d", td2.TaskDefinition.Revision)
	}
	up := must(ecsc.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("cld-demo"), Service: aws.String("web"), TaskDefinition: td2.TaskDefinition.TaskDefinitionArn}))
	if len(up.Service.Deployments) != 2 {
		t.Fatalf("deployments: %+v", up.Service.Deployments)
	}
	if err := stable.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("cld-demo"), Services: []string{"web"}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	d := must(ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("cld-demo"), Services: []string{"web"}}))
	if aws.ToString(d.Services[0].TaskDefinition) != aws.ToString(td2.TaskDefinition.TaskDefinitionArn) || d.Services[0].RunningCount != 2 {
		t.Fatalf("after update: %+v", d.Services[0])
	}

	// teardown, in dependency order
	if _, err := ecsc.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("cld-demo"), Service: aws.String("web")}); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("want InvalidParameterException (scaled above 0), got %v", err)
	}
	must(ecsc.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("cld-demo"), Service: aws.String("web"), Force: aws.Bool(true)}))
	inactive := ecs.NewServicesInactiveWaiter(ecsc, func(o *ecs.ServicesInactiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := inactive.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("cld-demo"), Services: []string{"web"}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, arn := range []*string{td.TaskDefinition.TaskDefinitionArn, td2.TaskDefinition.TaskDefinitionArn} {
		must(ecsc.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: arn}))
	}
	must(ecsc.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{aws.ToString(td.TaskDefinition.TaskDefinitionArn), aws.ToString(td2.TaskDefinition.TaskDefinitionArn)}}))
	must(elbc.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: lst.Listeners[0].ListenerArn}))
	must(elbc.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tgArn}))
	must(elbc.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lbArn}))
	_, err = ecsc.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("cld-demo")})
	var hasInst *ecstypes.ClusterContainsContainerInstancesException
	if !errors.As(err, &hasInst) {
		t.Fatalf("want ClusterContainsContainerInstancesException, got %v", err)
	}
	must(ecsc.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("cld-demo"), CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}))
	dcp := must(ecsc.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: cp.CapacityProvider.Name}))
	if dcp.CapacityProvider.Status != ecstypes.CapacityProviderStatusInactive {
		t.Fatalf("cp: %+v", dcp.CapacityProvider)
	}
	if _, err := asc.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("cld-demo")}); apiCode(err) != "ResourceInUse" {
		t.Fatalf("want ResourceInUse, got %v", err)
	}
	must(asc.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("cld-demo"), ForceDelete: aws.Bool(true)}))
	eventually(t, 5*time.Second, "asg deletion", func() bool {
		d := must(asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"cld-demo"}}))
		return len(d.AutoScalingGroups) == 0
	})
	must(ecsc.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("cld-demo")}))
	must(ec2c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId}))
	must(ec2c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("cld-demo")}))
	// the app SG is still referenced by... nothing now; the LB SG by the app SG's rule
	if _, err := ec2c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: lbSG.GroupId}); apiCode(err) != "DependencyViolation" {
		t.Fatalf("want DependencyViolation, got %v", err)
	}
	must(ec2c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: appSG.GroupId}))
	must(ec2c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: lbSG.GroupId}))
	must(logc.DeleteLogGroup(ctx, &logs.DeleteLogGroupInput{LogGroupName: aws.String("/cld/demo")}))
	must(smc.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: sec.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)}))
	if _, err := iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("cld-demo-instance")}); apiCode(err) != "DeleteConflict" {
		t.Fatalf("want DeleteConflict, got %v", err)
	}
	must(iamc.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("cld-demo-instance"), RoleName: aws.String("cld-demo-instance")}))
	must(iamc.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("cld-demo-instance")}))
	for _, r := range []struct{ role, policy string }{
		{"cld-demo-instance", "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"},
		{"cld-demo-exec", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
	} {
		must(iamc.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(r.role), PolicyArn: aws.String(r.policy)}))
		must(iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(r.role)}))
	}
	eventually(t, 5*time.Second, "empty inventory", func() bool { return len(srv.Inventory()) == 0 })
}

// TestECSFargateFailures covers a task whose image cannot be pulled and the
// deployment circuit breaker, on Fargate.
func TestECSFargateFailures(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	ecsc, ec2c, iamc := ecs.NewFromConfig(cfg), ec2.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	srv.FailImage("does-not-exist", "")
	exec := must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(ecsTasksAssumeRole)}))
	subs := must(ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}))
	must(ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("fg"), CapacityProviders: []string{"FARGATE"}}))
	_, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bad"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Memory: aws.String("512"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x")}}})
	var ce *ecstypes.ClientException
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "'cpu'") {
		t.Fatalf("want ClientException about cpu, got %v", err)
	}
	td := must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bad"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: exec.Role.Arn,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("registry.example/does-not-exist:1")}}}))
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{aws.ToString(subs.Subnets[0].SubnetId)}, AssignPublicIp: ecstypes.AssignPublicIpEnabled}}
	must(ecsc.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("fg"), ServiceName: aws.String("bad"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: net,
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true}}}))
	var stopped []ecstypes.Task
	eventually(t, 5*time.Second, "stopped task", func() bool {
		l := must(ecsc.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("fg"), ServiceName: aws.String("bad"), DesiredStatus: ecstypes.DesiredStatusStopped}))
		if len(l.TaskArns) == 0 {
			return false
		}
		d := must(ecsc.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("fg"), Tasks: l.TaskArns}))
		stopped = d.Tasks
		return aws.ToString(d.Tasks[0].LastStatus) == "STOPPED"
	})
	if r := aws.ToString(stopped[0].StoppedReason); !strings.HasPrefix(r, "CannotPullContainerError:") || stopped[0].StopCode != ecstypes.TaskStopCodeTaskFailedToStart {
		t.Fatalf("stopped reason %q code %q", r, stopped[0].StopCode)
	}
	if r := aws.ToString(stopped[0].Containers[0].Reason); !strings.HasPrefix(r, "CannotPullContainerError:") {
		t.Fatalf("container reason %q", r)
	}
	stable := ecs.NewServicesStableWaiter(ecsc, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := stable.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("fg"), Services: []string{"bad"}}, 300*time.Millisecond); err == nil {
		t.Fatal("a failing service must not become stable")
	}
	eventually(t, 5*time.Second, "circuit breaker", func() bool {
		d := must(ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("fg"), Services: []string{"bad"}}))
		return d.Services[0].Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateFailed &&
			strings.Contains(serviceEvents(d.Services[0]), "deployment failed: tasks failed to start")
	})

	// a one-off task: runs, then exits 0
	td2 := must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("migrate"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("alpine:3"), Command: []string{"true"}}}}))
	rt := must(ecsc.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("fg"), TaskDefinition: td2.TaskDefinition.TaskDefinitionArn, LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: net}))
	w := ecs.NewTasksStoppedWaiter(ecsc, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("fg"), Tasks: []string{aws.ToString(rt.Tasks[0].TaskArn)}}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Tasks[0].Containers[0]; aws.ToInt32(c.ExitCode) != 0 || c.ExitCode == nil || out.Tasks[0].StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Fatalf("one-off task: %+v", out.Tasks[0])
	}
}

// TestECSManagedScaling: an empty ASG behind a capacity provider with
// managed scaling grows when a service needs capacity.
func TestECSManagedScaling(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	ec2c, ecsc, iamc, asc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
	must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("inst"), AssumeRolePolicyDocument: aws.String(ec2AssumeRole)}))
	must(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("inst"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")}))
	must(iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("inst")}))
	must(iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("inst"), RoleName: aws.String("inst")}))
	ami := must(ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")}))
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\ncat <<'EOF' >> /etc/ecs/ecs.config\nECS_CLUSTER=ms\nEOF\n"))
	must(ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("ms"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
		ImageId: ami.Parameter.Value, InstanceType: ec2types.InstanceTypeT3Small, UserData: aws.String(ud),
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("inst")}}}))
	must(asc.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("ms"), MinSize: aws.Int32(0), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(0),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("ms")}, AvailabilityZones: []string{"us-east-1a", "us-east-1b"}}))
	asg := must(asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"ms"}}))
	must(ecsc.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("ms-cp"), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{
		AutoScalingGroupArn: asg.AutoScalingGroups[0].AutoScalingGroupARN, ManagedScaling: &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusEnabled}}}))
	must(ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ms"), CapacityProviders: []string{"ms-cp"},
		DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("ms-cp"), Weight: 1}}}))
	td := must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("ms"), ContainerDefinitions: []ecstypes.ContainerDefinition{{
		Name: aws.String("app"), Image: aws.String("nginx"), MemoryReservation: aws.Int32(128), PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0)}}}}}))
	must(ecsc.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("ms"), ServiceName: aws.String("app"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2)}))
	stable := ecs.NewServicesStableWaiter(ecsc, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := stable.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("ms"), Services: []string{"app"}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	asg = must(asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"ms"}}))
	if aws.ToInt32(asg.AutoScalingGroups[0].DesiredCapacity) != 1 {
		t.Fatalf("desired capacity %d", aws.ToInt32(asg.AutoScalingGroups[0].DesiredCapacity))
	}
	d := must(ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("ms"), Services: []string{"app"}}))
	if ev := serviceEvents(d.Services[0]); !strings.Contains(ev, "was unable to place a task") || !strings.Contains(ev, "has reached a steady state") {
		t.Fatalf("events:\n%s", ev)
	}
	tasks := must(ecsc.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("ms")}))
	dt := must(ecsc.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ms"), Tasks: tasks.TaskArns}))
	if len(dt.Tasks) != 2 || len(dt.Tasks[0].Containers[0].NetworkBindings) != 1 || aws.ToInt32(dt.Tasks[0].Containers[0].NetworkBindings[0].HostPort) < 32768 {
		t.Fatalf("tasks %+v", dt.Tasks)
	}
	if n := len(srv.Inventory()); n == 0 {
		t.Fatal("empty inventory")
	}
}
