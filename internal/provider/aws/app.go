package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/docker/go-units"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
)

// Defaults of a task: small enough for a t3.micro, valid on Fargate.
const (
	defaultMemoryMiB  = 256
	defaultFargateCPU = 256
	defaultFargateMem = 512
	secretRefPrefix   = "cld-secret:"
	logStreamPrefix   = "cld"
)

// envCluster is what an app needs of its environment's elements.
type envCluster struct {
	set       Settings
	cluster   string
	fargate   bool
	vpcID     string
	subnets   []string
	clusterSG string // id
	execRole  string // arn
	secrets   []string
}

func clusterOf(p provider.AppPlan) (envCluster, error) {
	var ec envCluster
	found := false
	for _, el := range p.Cluster {
		if el.Target != Name {
			continue
		}
		switch el.Key {
		case "cluster":
			var cs clusterSpec
			if err := el.DecodeSpec(&cs); err != nil {
				return ec, err
			}
			ec.set, ec.cluster, ec.fargate, found = cs.AWS, el.Name, cs.Fargate, true
		case "vpc":
			ec.vpcID = el.Outputs["VpcId"]
			if s := el.Outputs["Subnets"]; s != "" {
				ec.subnets = strings.Split(s, ",")
			}
		case "sg/cluster":
			ec.clusterSG = el.Outputs["GroupId"]
		case "role/exec":
			ec.execRole = el.Outputs["RoleArn"]
		}
	}
	for _, el := range p.Cluster {
		for _, v := range el.Secrets {
			if len(v) >= 8 {
				ec.secrets = append(ec.secrets, v)
			}
		}
	}
	if !found {
		return ec, fmt.Errorf("environment %s has no ECS cluster", p.Env)
	}
	if ec.vpcID == "" || len(ec.subnets) == 0 || ec.clusterSG == "" || ec.execRole == "" {
		return ec, fmt.Errorf("environment %s is missing outputs of its network, security group or execution role: is it available?", p.Env)
	}
	return ec, nil
}

// shortName makes a load balancer / target group name (at most 32
// characters) that stays the same across redeploys of an app.
func shortName(env, app string) string {
	sum := sha256.Sum256([]byte(env + "/" + app))
	a := app
	if len(a) > 22 {
		a = strings.TrimRight(a[:22], "-")
	}
	return a + "-" + hex.EncodeToString(sum[:])[:8]
}

// PlanApp plans an app as an ECS service: a log group, a secret holding the
// bound secret values, a task definition (bridge networking on EC2, awsvpc on
// Fargate), and for an app with a port a load balancer with its security
// group, target group and listener. Names come from the environment and app,
// not the timestamp, so a redeploy updates the same elements in place.
func (t *Target) PlanApp(p provider.AppPlan) ([]*provider.Element, error) {
	ec, err := clusterOf(p)
	if err != nil {
		return nil, err
	}
	s := base{ec.set}
	family := truncate(p.Env+"-"+p.App, 255)
	logGroup := "/cld/" + p.Env + "/" + p.App
	secretName := "cld/" + p.Env + "/" + p.App
	var td ecs.RegisterTaskDefinitionInput
	secrets := map[string]string{}
	var container string
	var port int32
	listen := int32(80)
	desired := int32(1)
	switch p.Spec.Format {
	case spec.FormatApp:
		a := p.Spec.Single
		td, err = appTaskDef(a, p.Bound, ec, p.App, logGroup, secrets)
		if err != nil {
			return nil, err
		}
		container, port = p.App, int32(a.ContainerPort)
		if a.HostPort != 0 {
			listen = int32(a.HostPort)
		}
		if a.Replicas > 0 {
			desired = int32(a.Replicas)
		}
	case spec.FormatECS:
		td, container, port, err = ecsTaskDef(p.Bound.ECS, ec, logGroup, secrets)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p.Spec.File, err)
		}
	default:
		return nil, fmt.Errorf("%s: the ecs target runs `app:` definitions and ECS task definitions, not %s YAML", p.Spec.File, p.Spec.Format)
	}
	td.Family = aws.String(family)
	def, err := json.Marshal(td)
	if err != nil {
		return nil, err
	}
	els := []*provider.Element{
		{Key: "log-group", Kind: KindLogGroup, Target: Name, Name: logGroup, Spec: provider.MustSpec(s)},
	}
	tdDeps := []string{"log-group"}
	if len(secrets) > 0 {
		els = append(els, &provider.Element{Key: "secret", Kind: KindSecret, Target: Name, Name: secretName, Spec: provider.MustSpec(s), Inputs: secrets})
		tdDeps = append(tdDeps, "secret")
	}
	els = append(els, &provider.Element{Key: "task-def", Kind: KindTaskDef, Target: Name, Name: family, Deps: tdDeps,
		Spec: provider.MustSpec(taskDefSpec{base: s, Deploy: p.Base, Def: def})})
	svc := serviceSpec{base: s, Cluster: ec.cluster, Desired: desired, Fargate: ec.fargate, Container: container, ContainerPort: port, ListenPort: listen}
	if ec.fargate {
		svc.Subnets, svc.SecurityGroups = ec.subnets, []string{ec.clusterSG}
	}
	svcDeps := []string{"task-def"}
	if port != 0 {
		lbName := shortName(p.Env, p.App)
		targetType := "instance"
		if ec.fargate {
			targetType = "ip"
		}
		els = append(els,
			&provider.Element{Key: "sg/lb", Kind: KindSecurityGroup, Target: Name, Name: "cld-" + p.Env + "-" + p.App + "-lb",
				Spec: provider.MustSpec(sgSpec{base: s, VpcID: ec.vpcID, Description: "cld " + p.Env + ": load balancer of app " + p.App,
					Ingress: []ipRule{{Proto: "tcp", From: listen, To: listen, CIDR: "0.0.0.0/0", Description: "cld: HTTP from anywhere"}}})},
			&provider.Element{Key: "target-group", Kind: KindTargetGroup, Target: Name, Name: lbName,
				Spec: provider.MustSpec(targetGroupSpec{base: s, VpcID: ec.vpcID, Port: port, TargetType: targetType})},
			&provider.Element{Key: "load-balancer", Kind: KindLoadBalancer, Target: Name, Name: lbName, Deps: []string{"sg/lb"},
				Spec: provider.MustSpec(loadBalancerSpec{base: s, Subnets: ec.subnets, SecurityGroups: []string{ec.clusterSG}, GroupName: "cld-" + p.Env + "-" + p.App + "-lb"})},
			&provider.Element{Key: "listener", Kind: KindListener, Target: Name, Name: fmt.Sprintf("%s:%d", lbName, listen), Deps: []string{"load-balancer", "target-group"},
				Spec: provider.MustSpec(listenerSpec{base: s, LoadBalancer: lbName, TargetGroup: lbName, Port: listen})},
		)
		svc.LoadBalancer, svc.TargetGroup = lbName, lbName
		svcDeps = append(svcDeps, "listener", "target-group", "load-balancer")
	}
	els = append(els, &provider.Element{Key: "service", Kind: KindService, Target: Name, Name: p.App, Deps: svcDeps, Spec: provider.MustSpec(svc)})
	return els, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// cpuUnits turns "0.5" CPUs or "512" ECS units into units.
func cpuUnits(s string) (int32, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("cpu %q: give a number of CPUs such as 0.5, or ECS units such as 512", s)
	}
	if f < 64 {
		f *= 1024
	}
	return int32(f), nil
}

// memoryMiB turns "512m", "1g", "256MiB" or a plain number of MiB into MiB.
func memoryMiB(s string) (int32, error) {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
		return int32(n), nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil || n < 6<<20 {
		return 0, fmt.Errorf("memory %q: give a size such as 256m or 1g", s)
	}
	return int32(n >> 20), nil
}

// fargateSize rounds cpu units and memory MiB up to a size Fargate offers.
func fargateSize(cpu, mem int32) (int32, int32) {
	sizes := []struct{ cpu, min, max, step int32 }{
		{256, 512, 2048, 1024}, {512, 1024, 4096, 1024}, {1024, 2048, 8192, 1024},
		{2048, 4096, 16384, 1024}, {4096, 8192, 30720, 1024}, {8192, 16384, 61440, 4096}, {16384, 32768, 122880, 8192},
	}
	for _, s := range sizes {
		if cpu > s.cpu || mem > s.max {
			continue
		}
		m := max(mem, s.min)
		if s.cpu == 256 && m > 512 && m <= 1024 {
			m = 1024
		} else if m > s.min {
			m = s.min + (m-s.min+s.step-1)/s.step*s.step
		}
		return s.cpu, m
	}
	last := sizes[len(sizes)-1]
	return last.cpu, last.max
}

func logConfig(ec envCluster, group string) *ecstypes.LogConfiguration {
	return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": group, "awslogs-region": ec.set.Region, "awslogs-stream-prefix": logStreamPrefix,
	}}
}

// appTaskDef makes the task definition of an `app:` definition. Bound
// secrets become `secrets` entries read from the app's secret.
func appTaskDef(a *spec.SingleApp, bound *provider.BoundApp, ec envCluster, name, group string, secrets map[string]string) (ecs.RegisterTaskDefinitionInput, error) {
	cd := ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String(a.Image), Essential: aws.Bool(true),
		LogConfiguration: logConfig(ec, group), Command: a.Command, Environment: []ecstypes.KeyValuePair{}}
	for _, v := range bound.Env {
		if v.Secret {
			secrets[v.Name] = v.Value
			cd.Secrets = append(cd.Secrets, ecstypes.Secret{Name: aws.String(v.Name), ValueFrom: aws.String(secretRefPrefix + v.Name)})
		} else {
			cd.Environment = append(cd.Environment, ecstypes.KeyValuePair{Name: aws.String(v.Name), Value: aws.String(v.Value)})
		}
	}
	var cpu, mem int32
	var err error
	if a.CPU != "" {
		if cpu, err = cpuUnits(a.CPU); err != nil {
			return ecs.RegisterTaskDefinitionInput{}, fmt.Errorf("%s: app.cpu: %v", a.Pos, err)
		}
	}
	mem = defaultMemoryMiB
	if a.Memory != "" {
		if mem, err = memoryMiB(a.Memory); err != nil {
			return ecs.RegisterTaskDefinitionInput{}, fmt.Errorf("%s: app.memory: %v", a.Pos, err)
		}
	}
	td := ecs.RegisterTaskDefinitionInput{ExecutionRoleArn: aws.String(ec.execRole)}
	if a.ContainerPort != 0 {
		pm := ecstypes.PortMapping{ContainerPort: aws.Int32(int32(a.ContainerPort)), Protocol: ecstypes.TransportProtocolTcp}
		if ec.fargate {
			pm.HostPort = pm.ContainerPort
		} else {
			pm.HostPort = aws.Int32(0) // dynamic: several tasks per instance, rolling updates
		}
		cd.PortMappings = []ecstypes.PortMapping{pm}
	}
	if ec.fargate {
		c, m := fargateSize(max(cpu, defaultFargateCPU), max(mem, defaultFargateMem))
		td.NetworkMode = ecstypes.NetworkModeAwsvpc
		td.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
		td.Cpu, td.Memory = aws.String(fmt.Sprint(c)), aws.String(fmt.Sprint(m))
	} else {
		td.NetworkMode = ecstypes.NetworkModeBridge
		td.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityEc2}
		cd.Memory = aws.Int32(mem)
		cd.Cpu = cpu
	}
	td.ContainerDefinitions = []ecstypes.ContainerDefinition{cd}
	return td, nil
}

// ecsTaskDef prepares a user's ECS task definition: cld's family, execution
// role, awslogs for containers without a log configuration, network mode
// for the launch type, and environment values that carry a bound secret
// moved into `secrets`. The first container with a port mapping is the one
// behind the load balancer.
func ecsTaskDef(doc map[string]any, ec envCluster, group string, secrets map[string]string) (ecs.RegisterTaskDefinitionInput, string, int32, error) {
	var td ecs.RegisterTaskDefinitionInput
	doc = normalizeTaskDef(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		return td, "", 0, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&td); err != nil {
		return td, "", 0, fmt.Errorf("not a valid ECS task definition: %v", err)
	}
	if td.ExecutionRoleArn == nil {
		td.ExecutionRoleArn = aws.String(ec.execRole)
	}
	if ec.fargate {
		if td.NetworkMode != "" && td.NetworkMode != ecstypes.NetworkModeAwsvpc {
			return td, "", 0, fmt.Errorf("networkMode %s: Fargate runs awsvpc only", td.NetworkMode)
		}
		td.NetworkMode = ecstypes.NetworkModeAwsvpc
		td.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
	} else if td.NetworkMode == "" {
		td.NetworkMode = ecstypes.NetworkModeBridge
	}
	var container string
	var port int32
	var sumCPU, sumMem int32
	for i := range td.ContainerDefinitions {
		cd := &td.ContainerDefinitions[i]
		name := aws.ToString(cd.Name)
		if cd.LogConfiguration == nil {
			cd.LogConfiguration = logConfig(ec, group)
		}
		var env []ecstypes.KeyValuePair
		for _, kv := range cd.Environment {
			v := aws.ToString(kv.Value)
			if carriesSecret(v, ec.secrets) {
				key := name + "__" + aws.ToString(kv.Name)
				secrets[key] = v
				cd.Secrets = append(cd.Secrets, ecstypes.Secret{Name: kv.Name, ValueFrom: aws.String(secretRefPrefix + key)})
				continue
			}
			env = append(env, kv)
		}
		cd.Environment = env
		if td.Memory == nil && cd.Memory == nil && cd.MemoryReservation == nil {
			cd.Memory = aws.Int32(defaultMemoryMiB)
		}
		sumCPU += cd.Cpu
		sumMem += max(aws.ToInt32(cd.Memory), aws.ToInt32(cd.MemoryReservation))
		for j := range cd.PortMappings {
			pm := &cd.PortMappings[j]
			if td.NetworkMode == ecstypes.NetworkModeAwsvpc {
				pm.HostPort = pm.ContainerPort
			}
			if port == 0 && aws.ToInt32(pm.ContainerPort) != 0 {
				container, port = name, aws.ToInt32(pm.ContainerPort)
			}
		}
	}
	if ec.fargate && (td.Cpu == nil || td.Memory == nil) {
		c, m := fargateSize(max(sumCPU, defaultFargateCPU), max(sumMem, defaultFargateMem))
		if td.Cpu == nil {
			td.Cpu = aws.String(fmt.Sprint(c))
		}
		if td.Memory == nil {
			td.Memory = aws.String(fmt.Sprint(m))
		}
	}
	return td, container, port, nil
}

// normalizeTaskDef makes YAML values fit the API shapes: task-level cpu and
// memory are strings.
func normalizeTaskDef(doc map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		switch strings.ToLower(k) {
		case "cpu", "memory":
			out[k] = fmt.Sprint(v)
		case "family":
			// cld names the family
		default:
			out[k] = v
		}
	}
	return out
}

func carriesSecret(v string, secrets []string) bool {
	for _, s := range secrets {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// logGroupHandler manages the app's CloudWatch Logs group. It stays across
// redeploys (Update keeps it).
type logGroupHandler struct{ t *Target }

var _ provider.Updater = logGroupHandler{}

func (h logGroupHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.Logs().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(req.Element.Name)})
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == req.Element.Name {
			arn := strings.TrimSuffix(aws.ToString(g.Arn), ":*")
			return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{"LogGroup": req.Element.Name}}, nil
		}
	}
	return provider.Observation{}, nil
}

func (h logGroupHandler) Create(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	_, err = c.Logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(req.Element.Name), Tags: tagMap(req.Element)})
	if err != nil && !hasCode(err, "ResourceAlreadyExistsException") {
		return classify(err)
	}
	_, err = c.Logs().PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(req.Element.Name), RetentionInDays: aws.Int32(30)})
	return classify(err)
}

// Update keeps the group (and the app's earlier logs).
func (h logGroupHandler) Update(ctx context.Context, req *provider.Request, _ *provider.Element) error {
	obs, err := h.Observe(ctx, req)
	if err != nil || obs.Exists {
		return err
	}
	return h.Create(ctx, req)
}

func (h logGroupHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	_, err = c.Logs().DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(req.Element.Name)})
	if err != nil && !hasCode(err, "ResourceNotFoundException") {
		return classify(err)
	}
	return nil
}

// secretHandler manages the app's Secrets Manager secret: a JSON object of
// the bound secret values (Element.Inputs), read by ECS into the task.
type secretHandler struct{ t *Target }

var _ provider.Updater = secretHandler{}

func (h secretHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.SecretsManager().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(req.Element.Name)})
	if hasCode(err, "ResourceNotFoundException") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if out.DeletedDate != nil {
		return provider.Observation{}, nil // scheduled for deletion: gone for cld
	}
	arn := aws.ToString(out.ARN)
	return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{"SecretArn": arn, "SecretName": req.Element.Name}}, nil
}

func secretValue(inputs map[string]string) string {
	b, _ := json.Marshal(inputs)
	return string(b)
}

func (h secretHandler) Create(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	var tags []smtypes.Tag
	m := tagMap(req.Element)
	for _, k := range sortedKeys(m) {
		tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	_, err = c.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(req.Element.Name), SecretString: aws.String(secretValue(req.Element.Inputs)), Tags: tags,
		Description: aws.String("cld: values bound to app " + req.Element.Labels[provider.LabelApp]),
	})
	if hasCode(err, "ResourceExistsException") {
		return h.put(ctx, c, req)
	}
	return classify(err)
}

func (h secretHandler) put(ctx context.Context, c *clients, req *provider.Request) error {
	_, err := c.SecretsManager().PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(req.Element.Name), SecretString: aws.String(secretValue(req.Element.Inputs))})
	return classify(err)
}

// Update stores the new values as the secret's current version.
func (h secretHandler) Update(ctx context.Context, req *provider.Request, _ *provider.Element) error {
	obs, err := h.Observe(ctx, req)
	if err != nil {
		return err
	}
	if !obs.Exists {
		return h.Create(ctx, req)
	}
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	return h.put(ctx, c, req)
}

func (h secretHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	_, err = c.SecretsManager().DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(req.Element.Name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil && !hasCode(err, "ResourceNotFoundException") && !(hasCode(err, "InvalidRequestException") && strings.Contains(err.Error(), "deletion")) {
		return classify(err)
	}
	return nil
}

// taskDefSpec is one revision of the app's task definition family. Deploy
// (the deploy's "<app>-<timestamp>") tells revisions apart: it is a tag on
// the revision.
type taskDefSpec struct {
	base
	Deploy string          `json:"deploy"`
	Def    json.RawMessage `json:"def"` // ecs.RegisterTaskDefinitionInput
}

const tagDeploy = "cld-deploy"

// taskDefHandler registers task definition revisions. Update registers the
// new version's revision and deregisters older ones but the previous, which
// a failed redeploy rolls back to.
type taskDefHandler struct{ t *Target }

var _ provider.Updater = taskDefHandler{}

// revisions lists the ACTIVE revisions of a family with their tags, newest first.
func revisions(ctx context.Context, c *clients, family string) ([]ecstypes.TaskDefinition, []map[string]string, error) {
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(c.ECS(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive, Sort: ecstypes.SortOrderDesc})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, classify(err)
		}
		arns = append(arns, out.TaskDefinitionArns...)
	}
	var defs []ecstypes.TaskDefinition
	var tags []map[string]string
	for _, arn := range arns {
		out, err := c.ECS().DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
		if err != nil {
			if hasCode(err, "ClientException") {
				continue
			}
			return nil, nil, classify(err)
		}
		if aws.ToString(out.TaskDefinition.Family) != family {
			continue
		}
		m := map[string]string{}
		for _, t := range out.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		defs = append(defs, *out.TaskDefinition)
		tags = append(tags, m)
	}
	return defs, tags, nil
}

func (h taskDefHandler) find(ctx context.Context, req *provider.Request) (*clients, taskDefSpec, *ecstypes.TaskDefinition, error) {
	var ts taskDefSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return nil, ts, nil, err
	}
	defs, tags, err := revisions(ctx, c, req.Element.Name)
	if err != nil {
		return c, ts, nil, err
	}
	for i := range defs {
		if tags[i][tagDeploy] == ts.Deploy && tags[i][provider.LabelManagedBy] == provider.ManagedByValue {
			return c, ts, &defs[i], nil
		}
	}
	return c, ts, nil, nil
}

func (h taskDefHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	_, _, td, err := h.find(ctx, req)
	if err != nil || td == nil {
		return provider.Observation{}, err
	}
	arn := aws.ToString(td.TaskDefinitionArn)
	return provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{
		"TaskDefinitionArn": arn, "Family": aws.ToString(td.Family), "Revision": fmt.Sprint(td.Revision), "NetworkMode": string(td.NetworkMode),
	}}, nil
}

func (h taskDefHandler) Create(ctx context.Context, req *provider.Request) error {
	c, ts, td, err := h.find(ctx, req)
	if err != nil || td != nil {
		return err
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(ts.Def, &in); err != nil {
		return provider.Permanent(fmt.Errorf("task definition base: %w", err))
	}
	in.Family = aws.String(req.Element.Name)
	secretArn := ""
	if d := req.Deps["secret"]; d != nil {
		secretArn = d.Ref
	}
	for i := range in.ContainerDefinitions {
		for j := range in.ContainerDefinitions[i].Secrets {
			sec := &in.ContainerDefinitions[i].Secrets[j]
			v := aws.ToString(sec.ValueFrom)
			if key, ok := strings.CutPrefix(v, secretRefPrefix); ok {
				if secretArn == "" {
					return fmt.Errorf("task definition %s: the app's secret is not available", req.Element.Name)
				}
				sec.ValueFrom = aws.String(secretArn + ":" + key + "::")
			}
		}
	}
	tags := tagMap(req.Element)
	tags[tagDeploy] = ts.Deploy
	// user tags first, then cld's
	have := map[string]bool{}
	for _, t := range in.Tags {
		have[aws.ToString(t.Key)] = true
	}
	for _, k := range sortedKeys(tags) {
		if !have[k] {
			in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
	}
	out, err := c.ECS().RegisterTaskDefinition(ctx, &in)
	if err != nil {
		return classify(err)
	}
	req.Say("task definition %s:%d (%s networking)", req.Element.Name, out.TaskDefinition.Revision, out.TaskDefinition.NetworkMode)
	return nil
}

// Update registers the new revision, then deregisters the revisions older
// than the previous version's.
func (h taskDefHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	if err := h.Create(ctx, req); err != nil {
		return err
	}
	var ts, prev taskDefSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return err
	}
	if old != nil {
		old.DecodeSpec(&prev)
	}
	defs, tags, err := revisions(ctx, c, req.Element.Name)
	if err != nil {
		return err
	}
	for i := range defs {
		d := tags[i][tagDeploy]
		if d == ts.Deploy || d == prev.Deploy || tags[i][provider.LabelManagedBy] != provider.ManagedByValue {
			continue
		}
		if _, err := c.ECS().DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: defs[i].TaskDefinitionArn}); err != nil && !hasCode(err, "ClientException") {
			return classify(err)
		}
	}
	return nil
}

// Delete deregisters (and deletes) every revision cld registered in the family.
func (h taskDefHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ts taskDefSpec
	c, err := h.t.decode(ctx, req.Element, &ts)
	if err != nil {
		return err
	}
	defs, tags, err := revisions(ctx, c, req.Element.Name)
	if err != nil {
		return err
	}
	var arns []string
	for i := range defs {
		if tags[i][provider.LabelManagedBy] != provider.ManagedByValue || tags[i][provider.LabelElement] != req.Element.Labels[provider.LabelElement] {
			continue
		}
		arns = append(arns, aws.ToString(defs[i].TaskDefinitionArn))
	}
	return deregister(ctx, c, arns)
}

func deregister(ctx context.Context, c *clients, arns []string) error {
	sort.Strings(arns)
	for _, arn := range arns {
		if _, err := c.ECS().DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil && !hasCode(err, "ClientException") {
			return classify(err)
		}
	}
	for i := 0; i < len(arns); i += 10 {
		batch := arns[i:min(i+10, len(arns))]
		// best effort: deregistered revisions are free and invisible
		c.ECS().DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: batch})
	}
	return nil
}
