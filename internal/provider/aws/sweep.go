package aws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cloudark/cld/internal/provider"
)

// stray is an object found by its tags, with how to delete it.
type stray struct {
	kind  string
	name  string
	tags  map[string]string
	level int                         // deletion order: lower first
	prep  func(context.Context) error // optional: runs for a whole level before its deletes
	del   func(context.Context) error // deletes (or starts deleting)
	gone  func(context.Context) bool  // optional: true once it is gone
}

// scan lists every object in one account and region whose tags carry all
// labels (and managed-by=cld).
func scan(ctx context.Context, c *clients, labels map[string]string) ([]*stray, error) {
	want := map[string]string{provider.LabelManagedBy: provider.ManagedByValue}
	for k, v := range labels {
		want[k] = v
	}
	var out []*stray
	var errs []error
	add := func(s *stray) {
		if matches(s.tags, want) {
			out = append(out, s)
		}
	}
	fail := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", what, classify(err)))
		}
	}
	var ec2Filters []ec2types.Filter
	for _, k := range sortedKeys(want) {
		ec2Filters = append(ec2Filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{want[k]}})
	}

	// ECS: services of every cluster, clusters, capacity providers, task definitions
	clusters := map[string]ecstypes.Cluster{}
	lc, err := c.ECS().ListClusters(ctx, &ecs.ListClustersInput{})
	fail("ECS clusters", err)
	if err == nil && len(lc.ClusterArns) > 0 {
		for i := 0; i < len(lc.ClusterArns); i += 100 {
			dc, err := c.ECS().DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: lc.ClusterArns[i:min(i+100, len(lc.ClusterArns))], Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
			fail("ECS clusters", err)
			if err != nil {
				break
			}
			for _, cl := range dc.Clusters {
				if aws.ToString(cl.Status) == "ACTIVE" {
					clusters[aws.ToString(cl.ClusterName)] = cl
				}
			}
		}
	}
	for name, cl := range clusters {
		name := name
		add(&stray{kind: "ecs-cluster", name: name, tags: ecsTagMap(cl.Tags), level: 6, del: func(ctx context.Context) error { return deleteCluster(ctx, c, name) }})
		ls, err := c.ECS().ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(name)})
		fail("ECS services", err)
		if err != nil || len(ls.ServiceArns) == 0 {
			continue
		}
		for i := 0; i < len(ls.ServiceArns); i += 10 {
			ds, err := c.ECS().DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(name), Services: ls.ServiceArns[i:min(i+10, len(ls.ServiceArns))], Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
			fail("ECS services", err)
			if err != nil {
				break
			}
			for _, sv := range ds.Services {
				if aws.ToString(sv.Status) == "INACTIVE" {
					continue
				}
				svName := aws.ToString(sv.ServiceName)
				add(&stray{kind: "ecs-service", name: name + "/" + svName, tags: ecsTagMap(sv.Tags), level: 0,
					del: func(ctx context.Context) error { return deleteService(ctx, c, name, svName) },
					gone: func(ctx context.Context) bool {
						s, err := findService(ctx, c, name, svName)
						return err == nil && s == nil
					}})
			}
		}
	}
	cps, err := c.ECS().DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{Include: []ecstypes.CapacityProviderField{ecstypes.CapacityProviderFieldTags}})
	fail("ECS capacity providers", err)
	if err == nil {
		for _, cp := range cps.CapacityProviders {
			name := aws.ToString(cp.Name)
			if cp.Status != ecstypes.CapacityProviderStatusActive || name == "FARGATE" || name == "FARGATE_SPOT" {
				continue
			}
			cluster := ""
			for cn, cl := range clusters {
				for _, n := range cl.CapacityProviders {
					if n == name {
						cluster = cn
					}
				}
			}
			add(&stray{kind: "ecs-capacity-provider", name: name, tags: ecsTagMap(cp.Tags), level: 4, del: func(ctx context.Context) error { return deleteCapacityProvider(ctx, c, name, cluster) }})
		}
	}
	fams, err := taskFamilies(ctx, c, labels)
	fail("ECS task definitions", err)
	for _, fam := range fams {
		defs, tags, err := revisions(ctx, c, fam)
		fail("ECS task definitions", err)
		for i := range defs {
			arn := aws.ToString(defs[i].TaskDefinitionArn)
			add(&stray{kind: "ecs-task-definition", name: fmt.Sprintf("%s:%d", fam, defs[i].Revision), tags: tags[i], level: 3,
				del: func(ctx context.Context) error { return deregister(ctx, c, []string{arn}) }})
		}
	}

	// load balancers and target groups
	lbs, err := c.ELB().DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	fail("load balancers", err)
	if err == nil {
		var arns []string
		for _, lb := range lbs.LoadBalancers {
			arns = append(arns, aws.ToString(lb.LoadBalancerArn))
		}
		tags := elbTagsOf(ctx, c, arns, fail)
		for _, lb := range lbs.LoadBalancers {
			arn, name := aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.LoadBalancerName)
			add(&stray{kind: "load-balancer", name: name, tags: tags[arn], level: 1,
				del: func(ctx context.Context) error {
					_, err := c.ELB().DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)})
					return classify(err)
				},
				gone: func(ctx context.Context) bool {
					l, err := findLoadBalancer(ctx, c, name)
					return err == nil && l == nil
				}})
			ls, err := c.ELB().DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(arn)})
			if err != nil {
				continue
			}
			var larns []string
			for _, l := range ls.Listeners {
				larns = append(larns, aws.ToString(l.ListenerArn))
			}
			ltags := elbTagsOf(ctx, c, larns, fail)
			for _, l := range ls.Listeners {
				larn := aws.ToString(l.ListenerArn)
				add(&stray{kind: "listener", name: fmt.Sprintf("%s:%d", name, aws.ToInt32(l.Port)), tags: ltags[larn], level: 1,
					del: func(ctx context.Context) error {
						_, err := c.ELB().DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(larn)})
						if hasCode(err, "ListenerNotFound") {
							return nil
						}
						return classify(err)
					}})
			}
		}
	}
	tgs, err := c.ELB().DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	fail("target groups", err)
	if err == nil {
		var arns []string
		for _, tg := range tgs.TargetGroups {
			arns = append(arns, aws.ToString(tg.TargetGroupArn))
		}
		tags := elbTagsOf(ctx, c, arns, fail)
		for _, tg := range tgs.TargetGroups {
			arn := aws.ToString(tg.TargetGroupArn)
			add(&stray{kind: "target-group", name: aws.ToString(tg.TargetGroupName), tags: tags[arn], level: 2,
				del: func(ctx context.Context) error {
					_, err := c.ELB().DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
					return classify(err)
				}})
		}
	}

	// logs and secrets
	lg := cloudwatchlogs.NewDescribeLogGroupsPaginator(c.Logs(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/cld/")})
	for lg.HasMorePages() {
		page, err := lg.NextPage(ctx)
		fail("log groups", err)
		if err != nil {
			break
		}
		for _, g := range page.LogGroups {
			name := aws.ToString(g.LogGroupName)
			tt, err := c.Logs().ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(strings.TrimSuffix(aws.ToString(g.Arn), ":*"))})
			if err != nil {
				continue
			}
			add(&stray{kind: "log-group", name: name, tags: tt.Tags, level: 3, del: func(ctx context.Context) error {
				_, err := c.Logs().DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
				if hasCode(err, "ResourceNotFoundException") {
					return nil
				}
				return classify(err)
			}})
		}
	}
	sp := secretsmanager.NewListSecretsPaginator(c.SecretsManager(), &secretsmanager.ListSecretsInput{})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		fail("secrets", err)
		if err != nil {
			break
		}
		for _, s := range page.SecretList {
			if s.DeletedDate != nil {
				continue
			}
			name := aws.ToString(s.Name)
			tags := map[string]string{}
			for _, t := range s.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			add(&stray{kind: "secret", name: name, tags: tags, level: 3, del: func(ctx context.Context) error {
				_, err := c.SecretsManager().DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
				if hasCode(err, "ResourceNotFoundException") {
					return nil
				}
				return classify(err)
			}})
		}
	}

	// RDS
	dp := rds.NewDescribeDBInstancesPaginator(c.RDS(), &rds.DescribeDBInstancesInput{})
	for dp.HasMorePages() {
		page, err := dp.NextPage(ctx)
		fail("RDS instances", err)
		if err != nil {
			break
		}
		for _, db := range page.DBInstances {
			id := aws.ToString(db.DBInstanceIdentifier)
			tags := map[string]string{}
			for _, t := range db.TagList {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			deleting := aws.ToString(db.DBInstanceStatus) == "deleting"
			add(&stray{kind: "rds-instance", name: id, tags: tags, level: 4,
				del: func(ctx context.Context) error {
					if deleting {
						return nil
					}
					_, err := c.RDS().DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true), DeleteAutomatedBackups: aws.Bool(true)})
					if hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") || hasCode(err, "InvalidDBInstanceState") && strings.Contains(err.Error(), "already being deleted") {
						return nil
					}
					return classify(err)
				},
				gone: func(ctx context.Context) bool {
					_, err := c.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
					return hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault")
				}})
		}
	}
	sg, err := c.RDS().DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{})
	fail("DB subnet groups", err)
	if err == nil {
		for _, g := range sg.DBSubnetGroups {
			name, arn := aws.ToString(g.DBSubnetGroupName), aws.ToString(g.DBSubnetGroupArn)
			if arn == "" || name == "default" {
				continue
			}
			tt, err := c.RDS().ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
			if err != nil {
				continue
			}
			tags := map[string]string{}
			for _, t := range tt.TagList {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			add(&stray{kind: "db-subnet-group", name: name, tags: tags, level: 6, del: func(ctx context.Context) error {
				_, err := c.RDS().DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String(name)})
				if hasCode(err, "DBSubnetGroupNotFoundFault") {
					return nil
				}
				return classify(err)
			}})
		}
	}

	// Auto Scaling, EC2
	var asFilters []astypes.Filter
	for _, k := range sortedKeys(want) {
		asFilters = append(asFilters, astypes.Filter{Name: aws.String("tag:" + k), Values: []string{want[k]}})
	}
	ag, err := c.ASG().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: asFilters})
	fail("Auto Scaling groups", err)
	if err == nil {
		for _, g := range ag.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			tags := map[string]string{}
			for _, t := range g.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			add(&stray{kind: "auto-scaling-group", name: name, tags: tags, level: 5,
				del:  func(ctx context.Context) error { return deleteASG(ctx, c, name) },
				gone: func(ctx context.Context) bool { g, err := findASG(ctx, c, name); return err == nil && g == nil }})
		}
	}
	ins, err := c.EC2().DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: append(ec2Filters, ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}})})
	fail("EC2 instances", err)
	if err == nil {
		for _, r := range ins.Reservations {
			for _, in := range r.Instances {
				id := aws.ToString(in.InstanceId)
				add(&stray{kind: "instance", name: id, tags: ec2TagMap(in.Tags), level: 5, del: func(ctx context.Context) error {
					_, err := c.EC2().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
					if hasCode(err, "InvalidInstanceID.NotFound") {
						return nil
					}
					return classify(err)
				}})
			}
		}
	}
	lts, err := c.EC2().DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: ec2Filters})
	fail("launch templates", err)
	if err == nil {
		for _, lt := range lts.LaunchTemplates {
			id := aws.ToString(lt.LaunchTemplateId)
			add(&stray{kind: "launch-template", name: aws.ToString(lt.LaunchTemplateName), tags: ec2TagMap(lt.Tags), level: 6, del: func(ctx context.Context) error {
				_, err := c.EC2().DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
				if hasCode(err, "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException") {
					return nil
				}
				return classify(err)
			}})
		}
	}
	kps, err := c.EC2().DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: ec2Filters})
	fail("key pairs", err)
	if err == nil {
		for _, k := range kps.KeyPairs {
			name := aws.ToString(k.KeyName)
			add(&stray{kind: "key-pair", name: name, tags: ec2TagMap(k.Tags), level: 6, del: func(ctx context.Context) error {
				_, err := c.EC2().DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)})
				return classify(err)
			}})
		}
	}
	sgs, err := c.EC2().DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: ec2Filters})
	fail("security groups", err)
	if err == nil {
		for _, g := range sgs.SecurityGroups {
			id, perms := aws.ToString(g.GroupId), g.IpPermissions
			add(&stray{kind: "security-group", name: aws.ToString(g.GroupName), tags: ec2TagMap(g.Tags), level: 8,
				// rules naming other groups go first, so groups that refer
				// to each other can all be deleted
				prep: func(ctx context.Context) error {
					var refs []ec2types.IpPermission
					for _, p := range perms {
						if len(p.UserIdGroupPairs) > 0 {
							refs = append(refs, ec2types.IpPermission{IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, UserIdGroupPairs: p.UserIdGroupPairs})
						}
					}
					if len(refs) == 0 {
						return nil
					}
					_, err := c.EC2().RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: refs})
					if hasCode(err, "InvalidPermission.NotFound", "InvalidGroup.NotFound") {
						return nil
					}
					return classify(err)
				},
				del: func(ctx context.Context) error { return deleteGroup(ctx, c, id, nil) }})
		}
	}

	// IAM (global, under cld's path)
	rp := iam.NewListRolesPaginator(c.IAM(), &iam.ListRolesInput{PathPrefix: aws.String(iamPath)})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		fail("IAM roles", err)
		if err != nil {
			break
		}
		for _, r := range page.Roles {
			name := aws.ToString(r.RoleName)
			tt, err := c.IAM().ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
			if err != nil {
				continue
			}
			tags := map[string]string{}
			for _, t := range tt.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if !matches(tags, want) {
				continue
			}
			ips, err := c.IAM().ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
			if err == nil {
				for _, ip := range ips.InstanceProfiles {
					pn := aws.ToString(ip.InstanceProfileName)
					ptags := map[string]string{}
					for _, t := range ip.Tags {
						ptags[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
					if len(ptags) == 0 {
						ptags = tags
					}
					add(&stray{kind: "instance-profile", name: pn, tags: ptags, level: 7, del: func(ctx context.Context) error { return deleteProfile(ctx, c, pn) }})
				}
			}
			add(&stray{kind: "iam-role", name: name, tags: tags, level: 7, del: func(ctx context.Context) error { return deleteRole(ctx, c, name) }})
		}
	}

	// ECR repositories (containers)
	rr, err := c.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	fail("ECR repositories", err)
	if err == nil {
		for _, r := range rr.Repositories {
			name := aws.ToString(r.RepositoryName)
			tt, err := c.ECR().ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
			if err != nil {
				continue
			}
			tags := map[string]string{}
			for _, t := range tt.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			add(&stray{kind: "ecr-repository", name: name, tags: tags, level: 5, del: func(ctx context.Context) error {
				_, err := c.ECR().DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(name), Force: true})
				if hasCode(err, "RepositoryNotFoundException") {
					return nil
				}
				return classify(err)
			}})
		}
	}
	return out, errors.Join(errs...)
}

// taskFamilies lists the task definition families a sweep looks at:
// families are "<env>-<app>".
func taskFamilies(ctx context.Context, c *clients, labels map[string]string) ([]string, error) {
	in := &ecs.ListTaskDefinitionFamiliesInput{Status: ecstypes.TaskDefinitionFamilyStatusActive}
	if env := labels[provider.LabelEnv]; env != "" {
		in.FamilyPrefix = aws.String(env + "-")
	}
	var out []string
	p := ecs.NewListTaskDefinitionFamiliesPaginator(c.ECS(), in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, f := range page.Families {
			if app := labels[provider.LabelApp]; app != "" && !strings.HasSuffix(f, "-"+app) {
				continue
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func elbTagsOf(ctx context.Context, c *clients, arns []string, fail func(string, error)) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i := 0; i < len(arns); i += 20 {
		dt, err := c.ELB().DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: arns[i:min(i+20, len(arns))]})
		if err != nil {
			fail("load balancer tags", err)
			return out
		}
		for _, td := range dt.TagDescriptions {
			m := map[string]string{}
			for _, t := range td.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			out[aws.ToString(td.ResourceArn)] = m
		}
	}
	return out
}

func ecsTagMap(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ec2TagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// sweepWait bounds how long a sweep waits for one level to go away.
const sweepWait = 15 * time.Minute

// Sweep removes everything carrying the owner's labels in every account and
// region where this server handled that owner's elements, in dependency
// order: services, load balancers, target groups, task definitions, log
// groups and secrets, databases and capacity providers, Auto Scaling groups
// and repositories, launch templates, key pairs, clusters, IAM, security groups.
func (t *Target) Sweep(ctx context.Context, labels map[string]string) ([]string, error) {
	var removed []string
	var errs []error
	for _, s := range t.settingsFor(labels) {
		c, err := t.apiFor(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found, err := scan(ctx, c, labels)
		if err != nil {
			errs = append(errs, err)
		}
		sort.SliceStable(found, func(i, j int) bool { return found[i].level < found[j].level })
		for i := 0; i < len(found); {
			j := i
			for j < len(found) && found[j].level == found[i].level {
				j++
			}
			level := found[i:j]
			for _, st := range level {
				if st.prep != nil {
					if err := st.prep(ctx); err != nil {
						errs = append(errs, fmt.Errorf("%s %s: %w", st.kind, st.name, err))
					}
				}
			}
			for _, st := range level {
				if err := st.del(ctx); err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", st.kind, st.name, err))
					continue
				}
				removed = append(removed, fmt.Sprintf("%s %s (%s)", st.kind, st.name, s.Region))
			}
			deadline := time.Now().Add(sweepWait)
			for _, st := range level {
				delay := 100 * time.Millisecond
				for st.gone != nil && !st.gone(ctx) {
					if time.Now().After(deadline) || ctx.Err() != nil {
						errs = append(errs, fmt.Errorf("%s %s: still there after %s", st.kind, st.name, sweepWait))
						break
					}
					time.Sleep(delay)
					delay = min(delay*2, 5*time.Second)
				}
			}
			i = j
		}
	}
	return removed, errors.Join(errs...)
}

// Inventory lists every object tagged managed-by=cld in the accounts and
// regions this server has used (and the one its own environment names).
func (t *Target) Inventory(ctx context.Context) ([]provider.Found, error) {
	sets := t.settingsFor(nil)
	if len(sets) == 0 && (os.Getenv("AWS_REGION") != "" || os.Getenv("AWS_DEFAULT_REGION") != "") {
		if s, err := ResolveSettings("", nil); err == nil {
			sets = append(sets, s)
		}
	}
	var out []provider.Found
	var errs []error
	for _, s := range sets {
		c, err := t.apiFor(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found, err := scan(ctx, c, nil)
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range found {
			out = append(out, provider.Found{Kind: f.kind, Name: f.name, Labels: f.tags})
		}
	}
	return out, errors.Join(errs...)
}
