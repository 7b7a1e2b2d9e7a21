package aws

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
)

// defaultInstanceType is a current small instance type (the original tool
// used t2.micro, a previous generation).
const defaultInstanceType = "t3.micro"

// Managed policies the cluster's roles use.
const (
	instancePolicy = "service-role/AmazonEC2ContainerServiceforEC2Role"
	execPolicyName = "service-role/AmazonECSTaskExecutionRolePolicy"
)

func policyArn(s Settings, name string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition(s.Region), name)
}

// vpcElement plans the (borrowed) network of an environment.
func vpcElement(s Settings, d *spec.AppDeployment) *provider.Element {
	vs := vpcSpec{base: base{s}}
	if d != nil && d.Target == spec.TargetAWS {
		vs.VPC, vs.Subnets = d.VPC, d.Subnets
	}
	return &provider.Element{Key: "vpc", Kind: KindVPC, Target: Name, Name: or(vs.VPC, "default-vpc"), Spec: provider.MustSpec(vs)}
}

// PlanCluster plans an ECS cluster. On EC2 (the default): the cluster's
// security group, an instance role and profile, an ssh key pair (its .pem in
// the environment's folder), a launch template on the ECS-optimized AMI, an
// Auto Scaling group of cluster_size instances and a capacity provider. On
// Fargate: the cluster with the FARGATE capacity providers and its group.
// Both get the task execution role apps use to read their secrets and logs.
func (t *Target) PlanCluster(p provider.EnvPlan) ([]*provider.Element, error) {
	d := p.Spec.AppDeployment
	set, err := ResolveSettings(d.Region, p.ClientEnv)
	if err != nil {
		return nil, err
	}
	fargate := d.LaunchType == "fargate"
	itype := or(d.InstanceType, defaultInstanceType)
	if fargate && d.InstanceType != "" {
		return nil, fmt.Errorf("instance_type applies to launch_type ec2; Fargate sizes come from the app's cpu and memory")
	}
	if !instanceTypeRE.MatchString(itype) {
		return nil, fmt.Errorf("instance_type %q is not an EC2 instance type such as %s", itype, defaultInstanceType)
	}
	size := max(d.ClusterSize, 1)
	pb := p.Base
	s := base{set}
	els := []*provider.Element{
		vpcElement(set, d),
		{Key: "sg/cluster", Kind: KindSecurityGroup, Target: Name, Name: pb + "-cluster", Deps: []string{"vpc"},
			Spec: provider.MustSpec(sgSpec{base: s, Description: "cld " + p.Env + ": ECS cluster " + pb + " (its instances, tasks and load balancers)",
				Ingress: []ipRule{{Proto: "-1", Self: true, Description: "cld: members of the cluster"}}})},
		{Key: "cluster", Kind: KindCluster, Target: Name, Name: pb, Spec: provider.MustSpec(clusterSpec{base: s, Fargate: fargate, Size: size, InstanceType: itype})},
		{Key: "role/exec", Kind: KindRole, Target: Name, Name: roleName(pb, "-exec"),
			Spec: provider.MustSpec(roleSpec{base: s, Service: "ecs-tasks.amazonaws.com", Managed: []string{policyArn(set, execPolicyName)},
				Inline: execPolicy(set, p.Env), Describe: "cld " + p.Env + ": ECS task execution (image pulls, logs, app secrets)"})},
	}
	if fargate {
		return els, nil
	}
	els = append(els,
		&provider.Element{Key: "role/instance", Kind: KindRole, Target: Name, Name: roleName(pb, "-instance"),
			Spec: provider.MustSpec(roleSpec{base: s, Service: "ec2.amazonaws.com", Managed: []string{policyArn(set, instancePolicy)},
				Describe: "cld " + p.Env + ": ECS container instances"})},
		&provider.Element{Key: "profile", Kind: KindInstanceProfile, Target: Name, Name: roleName(pb, "-instance"), Deps: []string{"role/instance"},
			Spec: provider.MustSpec(profileSpec{base: s, Role: roleName(pb, "-instance")})},
		&provider.Element{Key: "keypair", Kind: KindKeyPair, Target: Name, Name: pb,
			Spec: provider.MustSpec(keyPairSpec{base: s, Pem: filepath.Join(p.Folder, pb+".pem")})},
		&provider.Element{Key: "launch-template", Kind: KindLaunchTemplate, Target: Name, Name: pb, Deps: []string{"sg/cluster", "profile", "keypair"},
			Spec: provider.MustSpec(launchTemplateSpec{base: s, InstanceType: itype, Cluster: pb, KeyName: pb, Profile: roleName(pb, "-instance"), SecurityGroup: pb + "-cluster"})},
		&provider.Element{Key: "asg", Kind: KindASG, Target: Name, Name: pb, Deps: []string{"launch-template", "vpc", "cluster"},
			Spec: provider.MustSpec(asgSpec{base: s, Size: int32(size), LaunchTemplate: pb})},
		&provider.Element{Key: "capacity", Kind: KindCapacityProvider, Target: Name, Name: "cld-" + pb, Deps: []string{"asg", "cluster"},
			Spec: provider.MustSpec(capacitySpec{base: s, Cluster: pb, ASG: pb, Size: int32(size)})},
	)
	return els, nil
}

var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)

// roleName keeps IAM names within 64 characters.
func roleName(base, suffix string) string {
	if len(base)+len(suffix) > 64 {
		base = base[:64-len(suffix)]
	}
	return base + suffix
}

// clusterSpec is an ECS cluster.
type clusterSpec struct {
	base
	Fargate      bool   `json:"fargate,omitempty"`
	Size         int    `json:"size,omitempty"`
	InstanceType string `json:"instance_type,omitempty"`
}

// clusterHandler manages the ECS cluster.
type clusterHandler struct{ t *Target }

var _ provider.Waiter = clusterHandler{}

func (clusterHandler) ReadyTimeout(*provider.Element) time.Duration { return 5 * time.Minute }

func (h clusterHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var cs clusterSpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.ECS().DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{req.Element.Name}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	for _, cl := range out.Clusters {
		status := aws.ToString(cl.Status)
		if status == "INACTIVE" || aws.ToString(cl.ClusterName) != req.Element.Name {
			continue
		}
		arn := aws.ToString(cl.ClusterArn)
		launch := "EC2"
		if cs.Fargate {
			launch = "FARGATE"
		}
		tags := map[string]string{}
		for _, t := range cl.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		obs := provider.Observation{Exists: true, Ref: arn, Labels: knownTags(tags), Outputs: map[string]string{
			"Cluster": req.Element.Name, "ClusterArn": arn, "Region": cs.AWS.Region, "LaunchType": launch,
		}}
		switch status {
		case "ACTIVE":
			obs.Ready = true
		case "FAILED":
			obs.Failed = "ECS cluster " + req.Element.Name + " failed to provision"
		default:
			obs.Progress = strings.ToLower(status)
		}
		if status == "DEPROVISIONING" {
			obs.Ready = false
		}
		return obs, nil
	}
	return provider.Observation{}, nil
}

func (h clusterHandler) Create(ctx context.Context, req *provider.Request) error {
	var cs clusterSpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return err
	}
	in := &ecs.CreateClusterInput{ClusterName: aws.String(req.Element.Name), Tags: ecsTags(req.Element)}
	if cs.Fargate {
		in.CapacityProviders = []string{"FARGATE", "FARGATE_SPOT"}
		in.DefaultCapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}
		req.Say("ECS cluster %s on Fargate in %s", req.Element.Name, cs.AWS.Region)
	} else {
		req.Say("ECS cluster %s: %d x %s in %s", req.Element.Name, cs.Size, cs.InstanceType, cs.AWS.Region)
	}
	_, err = c.ECS().CreateCluster(ctx, in)
	return classify(err)
}

func (h clusterHandler) Delete(ctx context.Context, req *provider.Request) error {
	var cs clusterSpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return err
	}
	return deleteCluster(ctx, c, req.Element.Name)
}

// deleteCluster deletes a cluster, waiting (bounded) while container
// instances of a terminating Auto Scaling group still deregister.
func deleteCluster(ctx context.Context, c *clients, name string) error {
	deadline := time.Now().Add(10 * time.Minute)
	delay := 250 * time.Millisecond
	for {
		_, err := c.ECS().DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(name)})
		if err == nil || hasCode(err, "ClusterNotFoundException") {
			return nil
		}
		if !hasCode(err, "ClusterContainsContainerInstancesException", "ClusterContainsTasksException", "ClusterContainsServicesException", "ResourceInUseException", "UpdateInProgressException") || time.Now().After(deadline) {
			return classify(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

func ecsTags(el *provider.Element) []ecstypes.Tag {
	m := tagMap(el)
	var out []ecstypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, ecstypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// keyPairSpec is the cluster instances' ssh key; its private key is only
// given at creation, and kept in the environment's folder (mode 0600).
type keyPairSpec struct {
	base
	Pem string `json:"pem"`
}

// keyPairHandler manages the ssh key pair.
type keyPairHandler struct{ t *Target }

func (h keyPairHandler) find(ctx context.Context, c *clients, name string) (*ec2types.KeyPairInfo, error) {
	out, err := c.EC2().DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}})
	if hasCode(err, "InvalidKeyPair.NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	if len(out.KeyPairs) == 0 {
		return nil, nil
	}
	return &out.KeyPairs[0], nil
}

func (h keyPairHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ks keyPairSpec
	c, err := h.t.decode(ctx, req.Element, &ks)
	if err != nil {
		return provider.Observation{}, err
	}
	k, err := h.find(ctx, c, req.Element.Name)
	if err != nil || k == nil {
		return provider.Observation{}, err
	}
	obs := provider.Observation{Exists: true, Ready: true, Ref: aws.ToString(k.KeyPairId),
		Outputs: map[string]string{"KeyName": req.Element.Name, "KeyPairId": aws.ToString(k.KeyPairId), "PemFile": ks.Pem}}
	if _, err := os.Stat(ks.Pem); err != nil {
		// made by an interrupted create whose private key was never saved:
		// Create replaces it
		obs.Ready, obs.Incomplete = false, true
	}
	return obs, nil
}

func (h keyPairHandler) Create(ctx context.Context, req *provider.Request) error {
	var ks keyPairSpec
	c, err := h.t.decode(ctx, req.Element, &ks)
	if err != nil {
		return err
	}
	k, err := h.find(ctx, c, req.Element.Name)
	if err != nil {
		return err
	}
	if k != nil {
		if _, err := os.Stat(ks.Pem); err == nil {
			return nil
		}
		req.Say("key pair %s exists but its private key was not saved: making it again", req.Element.Name)
		if _, err := c.EC2().DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(req.Element.Name)}); err != nil {
			return classify(err)
		}
	}
	out, err := c.EC2().CreateKeyPair(ctx, &ec2.CreateKeyPairInput{
		KeyName: aws.String(req.Element.Name), KeyType: ec2types.KeyTypeRsa,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeKeyPair, Tags: ec2Tags(req.Element, req.Element.Name)}},
	})
	if err != nil {
		return classify(err)
	}
	if err := os.MkdirAll(filepath.Dir(ks.Pem), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(ks.Pem, []byte(aws.ToString(out.KeyMaterial)+"\n"), 0o600); err != nil {
		return err
	}
	req.Say("ssh key %s saved in %s", req.Element.Name, ks.Pem)
	return nil
}

func (h keyPairHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ks keyPairSpec
	c, err := h.t.decode(ctx, req.Element, &ks)
	if err != nil {
		return err
	}
	_, err = c.EC2().DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(req.Element.Name)})
	if err != nil && !hasCode(err, "InvalidKeyPair.NotFound") {
		return classify(err)
	}
	if err := os.Remove(ks.Pem); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// launchTemplateSpec is how the cluster's instances start: the
// ECS-optimized AMI, the instance profile, the key, the cluster's group and
// user data that joins the ECS agent to the cluster.
type launchTemplateSpec struct {
	base
	InstanceType  string `json:"instance_type"`
	Cluster       string `json:"cluster"`
	KeyName       string `json:"key_name"`
	Profile       string `json:"profile"`
	SecurityGroup string `json:"security_group"`
}

// launchTemplateHandler manages the launch template.
type launchTemplateHandler struct{ t *Target }

var armFamily = regexp.MustCompile(`^([a-z]+[0-9]+g[a-z]*|a1)\.`)

// amiParameter is the public SSM parameter naming the current
// ECS-optimized Amazon Linux 2023 AMI for the instance type's architecture.
func amiParameter(instanceType string) string {
	if armFamily.MatchString(instanceType) {
		return "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
	}
	return "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

func userData(cluster string) string {
	return base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\ncat >> /etc/ecs/ecs.config <<'EOF'\nECS_CLUSTER=" + cluster +
		"\nECS_ENABLE_CONTAINER_METADATA=true\nEOF\n"))
}

func (h launchTemplateHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ls launchTemplateSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.EC2().DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{req.Element.Name}})
	if hasCode(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if len(out.LaunchTemplates) == 0 {
		return provider.Observation{}, nil
	}
	id := aws.ToString(out.LaunchTemplates[0].LaunchTemplateId)
	return provider.Observation{Exists: true, Ready: true, Ref: id, Outputs: map[string]string{"LaunchTemplateId": id, "LaunchTemplateName": req.Element.Name}}, nil
}

func (h launchTemplateHandler) Create(ctx context.Context, req *provider.Request) error {
	var ls launchTemplateSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	param := amiParameter(ls.InstanceType)
	p, err := c.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
	if err != nil {
		return classify(fmt.Errorf("finding the ECS-optimized AMI (%s): %w", param, err))
	}
	ami := aws.ToString(p.Parameter.Value)
	sgID := ""
	if d := req.Deps["sg/cluster"]; d != nil {
		sgID = d.Outputs["GroupId"]
	}
	if sgID == "" {
		sg, err := findGroup(ctx, c, ls.SecurityGroup, "")
		if err != nil {
			return err
		}
		if sg == nil {
			return fmt.Errorf("security group %s not found", ls.SecurityGroup)
		}
		sgID = aws.ToString(sg.GroupId)
	}
	profile := &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(ls.Profile)}
	if d := req.Deps["profile"]; d != nil && d.Outputs["Arn"] != "" {
		profile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: aws.String(d.Outputs["Arn"])}
	}
	req.Say("instances start from %s (%s)", ami, param)
	_, err = c.EC2().CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(req.Element.Name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(ami), InstanceType: ec2types.InstanceType(ls.InstanceType), KeyName: aws.String(ls.KeyName),
			IamInstanceProfile: profile, SecurityGroupIds: []string{sgID}, UserData: aws.String(userData(ls.Cluster)),
			MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2)},
			TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
				{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2Tags(req.Element, ls.Cluster)},
				{ResourceType: ec2types.ResourceTypeVolume, Tags: ec2Tags(req.Element, ls.Cluster)},
			},
		},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: ec2Tags(req.Element, req.Element.Name)}},
	})
	if hasCode(err, "InvalidLaunchTemplateName.AlreadyExistsException") {
		return nil
	}
	return classify(err)
}

func (h launchTemplateHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ls launchTemplateSpec
	c, err := h.t.decode(ctx, req.Element, &ls)
	if err != nil {
		return err
	}
	_, err = c.EC2().DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(req.Element.Name)})
	if err != nil && !hasCode(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound") {
		return classify(err)
	}
	return nil
}

// asgSpec is the cluster's Auto Scaling group: cluster_size instances.
type asgSpec struct {
	base
	Size           int32  `json:"size"`
	LaunchTemplate string `json:"launch_template"`
}

// asgHandler manages the Auto Scaling group.
type asgHandler struct{ t *Target }

var _ provider.Waiter = asgHandler{}

// ReadyTimeout: instances boot in a few minutes.
func (asgHandler) ReadyTimeout(*provider.Element) time.Duration { return 15 * time.Minute }

func findASG(ctx context.Context, c *clients, name string) (*astypes.AutoScalingGroup, error) {
	out, err := c.ASG().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, classify(err)
	}
	for i := range out.AutoScalingGroups {
		if aws.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, nil
}

func (h asgHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var as asgSpec
	c, err := h.t.decode(ctx, req.Element, &as)
	if err != nil {
		return provider.Observation{}, err
	}
	g, err := findASG(ctx, c, req.Element.Name)
	if err != nil || g == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(g.AutoScalingGroupARN)
	obs := provider.Observation{Exists: true, Ref: arn, Outputs: map[string]string{"AutoScalingGroupName": req.Element.Name, "AutoScalingGroupARN": arn}}
	if aws.ToString(g.Status) != "" {
		obs.Progress = aws.ToString(g.Status)
		return obs, nil
	}
	n := int32(0)
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			n++
		}
	}
	obs.Outputs["Instances"] = fmt.Sprint(n)
	if n >= as.Size {
		obs.Ready = true
	} else {
		obs.Progress = fmt.Sprintf("%d of %d instances in service", n, as.Size)
	}
	return obs, nil
}

func (h asgHandler) Create(ctx context.Context, req *provider.Request) error {
	var as asgSpec
	c, err := h.t.decode(ctx, req.Element, &as)
	if err != nil {
		return err
	}
	subnets, err := depSubnets(ctx, c, req)
	if err != nil {
		return err
	}
	var tags []astypes.Tag
	m := tagMap(req.Element)
	m["Name"] = req.Element.Name
	for _, k := range sortedKeys(m) {
		tags = append(tags, astypes.Tag{Key: aws.String(k), Value: aws.String(m[k]), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(req.Element.Name), ResourceType: aws.String("auto-scaling-group")})
	}
	_, err = c.ASG().CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(req.Element.Name),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(as.LaunchTemplate), Version: aws.String("$Latest")},
		MinSize:              aws.Int32(as.Size), MaxSize: aws.Int32(as.Size), DesiredCapacity: aws.Int32(as.Size),
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), HealthCheckGracePeriod: aws.Int32(120), Tags: tags,
	})
	if hasCode(err, "AlreadyExists") {
		return nil
	}
	return classify(err)
}

func (h asgHandler) Delete(ctx context.Context, req *provider.Request) error {
	var as asgSpec
	c, err := h.t.decode(ctx, req.Element, &as)
	if err != nil {
		return err
	}
	return deleteASG(ctx, c, req.Element.Name)
}

func deleteASG(ctx context.Context, c *clients, name string) error {
	_, err := c.ASG().DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)})
	if err == nil || hasCode(err, "ScalingActivityInProgress") {
		return nil
	}
	if hasCode(err, "ValidationError") && strings.Contains(err.Error(), "not found") {
		return nil
	}
	return classify(err)
}

// capacitySpec is the capacity provider that ties the group to the cluster.
type capacitySpec struct {
	base
	Cluster string `json:"cluster"`
	ASG     string `json:"asg"`
	Size    int32  `json:"size"`
}

// capacityProviderHandler manages the capacity provider and its association
// with the cluster; it is ready once the instances have joined the cluster.
type capacityProviderHandler struct{ t *Target }

var _ provider.Waiter = capacityProviderHandler{}

func (capacityProviderHandler) ReadyTimeout(*provider.Element) time.Duration { return 15 * time.Minute }

func (h capacityProviderHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var cs capacitySpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.ECS().DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{req.Element.Name}})
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	var cp *ecstypes.CapacityProvider
	for i := range out.CapacityProviders {
		if aws.ToString(out.CapacityProviders[i].Name) == req.Element.Name && out.CapacityProviders[i].Status == ecstypes.CapacityProviderStatusActive {
			cp = &out.CapacityProviders[i]
		}
	}
	if cp == nil {
		return provider.Observation{}, nil
	}
	arn := aws.ToString(cp.CapacityProviderArn)
	obs := provider.Observation{Exists: true, Ref: arn, Outputs: map[string]string{"CapacityProvider": req.Element.Name, "CapacityProviderArn": arn}}
	cl, err := c.ECS().DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cs.Cluster}})
	if err != nil {
		return obs, classify(err)
	}
	for _, x := range cl.Clusters {
		if aws.ToString(x.ClusterName) != cs.Cluster || aws.ToString(x.Status) != "ACTIVE" {
			continue
		}
		associated := false
		for _, n := range x.CapacityProviders {
			associated = associated || n == req.Element.Name
		}
		if !associated {
			obs.Incomplete = true
			return obs, nil
		}
		obs.Outputs["ContainerInstances"] = fmt.Sprint(x.RegisteredContainerInstancesCount)
		if x.RegisteredContainerInstancesCount >= cs.Size {
			obs.Ready = true
		} else {
			obs.Progress = fmt.Sprintf("%d of %d instances joined the cluster", x.RegisteredContainerInstancesCount, cs.Size)
		}
	}
	return obs, nil
}

func (h capacityProviderHandler) Create(ctx context.Context, req *provider.Request) error {
	var cs capacitySpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return err
	}
	asgArn := ""
	if d := req.Deps["asg"]; d != nil {
		asgArn = d.Outputs["AutoScalingGroupARN"]
	}
	if asgArn == "" {
		g, err := findASG(ctx, c, cs.ASG)
		if err != nil {
			return err
		}
		if g == nil {
			return fmt.Errorf("auto scaling group %s not found", cs.ASG)
		}
		asgArn = aws.ToString(g.AutoScalingGroupARN)
	}
	_, err = c.ECS().CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{
		Name: aws.String(req.Element.Name), Tags: ecsTags(req.Element),
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{
			AutoScalingGroupArn:          aws.String(asgArn),
			ManagedScaling:               &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusDisabled},
			ManagedTerminationProtection: ecstypes.ManagedTerminationProtectionDisabled,
		},
	})
	if err != nil && !(hasCode(err, "ClientException") && strings.Contains(err.Error(), "already exists")) {
		return classify(err)
	}
	_, err = c.ECS().PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String(cs.Cluster), CapacityProviders: []string{req.Element.Name},
		DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String(req.Element.Name), Weight: 1}},
	})
	return classify(err)
}

func (h capacityProviderHandler) Delete(ctx context.Context, req *provider.Request) error {
	var cs capacitySpec
	c, err := h.t.decode(ctx, req.Element, &cs)
	if err != nil {
		return err
	}
	return deleteCapacityProvider(ctx, c, req.Element.Name, cs.Cluster)
}

func deleteCapacityProvider(ctx context.Context, c *clients, name, cluster string) error {
	if cluster != "" {
		out, err := c.ECS().DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cluster}})
		if err != nil {
			return classify(err)
		}
		for _, cl := range out.Clusters {
			var keep []string
			found := false
			for _, n := range cl.CapacityProviders {
				if n == name {
					found = true
				} else {
					keep = append(keep, n)
				}
			}
			if !found || aws.ToString(cl.Status) != "ACTIVE" {
				continue
			}
			_, err := c.ECS().PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
				Cluster: aws.String(cluster), CapacityProviders: append([]string{}, keep...), DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{},
			})
			if err != nil && !hasCode(err, "ClusterNotFoundException") {
				return classify(err)
			}
		}
	}
	_, err := c.ECS().DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String(name)})
	if err != nil && !(hasCode(err, "ClientException") && strings.Contains(err.Error(), "does not exist")) {
		return classify(err)
	}
	return nil
}
