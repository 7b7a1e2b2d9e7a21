package aws

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/providertest"
	"github.com/cloudark/cld/internal/spec"
	fake "github.com/cloudark/cld/test/fake/aws"
)

const region = "us-east-1"

// startFake serves the AWS fake with short lifecycles and points the SDK's
// credential chain at test values.
func startFake(t *testing.T, d time.Duration) (*fake.Server, Settings) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "cld-test-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	srv := fake.New(fake.Options{
		RDSCreateDuration: d, RDSBackupDuration: d, RDSDeleteDuration: d, InstanceLaunchDuration: d, InstanceTerminateDuration: d,
		ASGDeleteDuration: d, TaskStartDuration: d, TaskStopDuration: d, TargetHealthyDuration: d, TargetDrainDuration: d,
		LoadBalancerProvisionDuration: d, LoadBalancerDeleteDuration: d, CapacityProviderDeleteDuration: d,
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, Settings{Region: region, Endpoints: map[string]string{"": srv.URL()}}
}

// The conformance suite against the stateful fake, through the real SDK:
// the cluster's chain (group, cluster, roles, profile, key pair, launch
// template, Auto Scaling group, capacity provider), a database with its own
// group and the rule admitting the cluster, and an app (log group, secret,
// task definition, load balancer with its group, target group and listener,
// service), plus an ECR repository.
func TestAWSConformance(t *testing.T) {
	_, set := startFake(t, 20*time.Millisecond)
	run := "t" + time.Now().Format("150405")
	labels := func(key string) map[string]string {
		return map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run, provider.LabelElement: "env/" + run + "/" + key}
	}
	b := base{set}
	pem := filepath.Join(t.TempDir(), "key.pem")
	name := "conf-" + run
	el := func(key, kind, n string, deps []string, v any) *provider.Element {
		return &provider.Element{Key: key, Kind: kind, Target: Name, Name: n, Deps: deps, Labels: labels(key), Spec: provider.MustSpec(v)}
	}
	vpcID := func(t *testing.T) string {
		c, err := New().apiFor(context.Background(), set)
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := resolveNetwork(context.Background(), c, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	providertest.Run(t, providertest.Suite{
		New:          func() provider.Target { return New() },
		Owner:        map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run},
		ReadyTimeout: 30 * time.Second,
		Elements: func(t *testing.T) []*provider.Element {
			vpc := vpcID(t)
			secret := el("secret", KindSecret, "cld/"+run+"/web", nil, b)
			secret.Inputs = map[string]string{"PASSWORD": "s3cret-value"}
			rdsEl := el("rds", KindRDS, name+"-rds", []string{"rds/sg"}, rdsSpec{base: b, Engine: "postgres", Class: "db.t3.micro", Storage: 20, DBName: "app", Username: "cld", SecurityGroup: name + "-rds"})
			rdsEl.Inputs = map[string]string{"password": provider.GeneratePassword(24)}
			td := must(t, func() (*provider.Element, error) {
				ec := envCluster{set: set, execRole: "arn:aws:iam::123456789012:role/cld/" + name + "-exec"}
				def, err := appTaskDef(&spec.SingleApp{Image: "nginx:1", ContainerPort: 80}, &provider.BoundApp{Env: []provider.BoundVar{{Name: "A", Value: "1"}, {Name: "PASSWORD", Value: "s3cret-value", Secret: true}}}, ec, "web", "/cld/"+run+"/web", map[string]string{})
				if err != nil {
					return nil, err
				}
				return el("task-def", KindTaskDef, run+"-web", []string{"log-group", "secret"}, taskDefSpec{base: b, Deploy: "web-1", Def: provider.MustSpec(def)}), nil
			})
			lb := shortName(run, "web")
			return []*provider.Element{
				el("sg/cluster", KindSecurityGroup, name+"-cluster", nil, sgSpec{base: b, VpcID: vpc, Description: "conformance", Ingress: []ipRule{{Proto: "-1", Self: true}}}),
				el("cluster", KindCluster, name, nil, clusterSpec{base: b, Size: 1, InstanceType: "t3.micro"}),
				el("role/exec", KindRole, name+"-exec", nil, roleSpec{base: b, Service: "ecs-tasks.amazonaws.com", Managed: []string{policyArn(set, execPolicyName)}, Inline: execPolicy(set, run)}),
				el("role/instance", KindRole, name+"-instance", nil, roleSpec{base: b, Service: "ec2.amazonaws.com", Managed: []string{policyArn(set, instancePolicy)}}),
				el("profile", KindInstanceProfile, name+"-instance", []string{"role/instance"}, profileSpec{base: b, Role: name + "-instance"}),
				el("keypair", KindKeyPair, name, nil, keyPairSpec{base: b, Pem: pem}),
				el("launch-template", KindLaunchTemplate, name, []string{"sg/cluster", "profile", "keypair"}, launchTemplateSpec{base: b, InstanceType: "t3.micro", Cluster: name, KeyName: name, Profile: name + "-instance", SecurityGroup: name + "-cluster"}),
				el("asg", KindASG, name, []string{"launch-template", "cluster"}, asgSpec{base: b, Size: 1, LaunchTemplate: name}),
				el("capacity", KindCapacityProvider, "cld-"+name, []string{"asg", "cluster"}, capacitySpec{base: b, Cluster: name, ASG: name, Size: 1}),
				el("rds/sg", KindSecurityGroup, name+"-rds", nil, sgSpec{base: b, VpcID: vpc, Description: "conformance db"}),
				el("rds/rule/cluster", KindSGRule, name+"-rds-from-cluster", []string{"rds/sg", "sg/cluster"}, ruleSpec{base: b, Group: name + "-rds", Rule: ipRule{Proto: "tcp", From: 5432, To: 5432, SourceGroup: name + "-cluster"}}),
				rdsEl,
				el("log-group", KindLogGroup, "/cld/"+run+"/web", nil, b),
				secret,
				td,
				el("sg/lb", KindSecurityGroup, "cld-"+run+"-web-lb", nil, sgSpec{base: b, VpcID: vpc, Description: "lb", Ingress: []ipRule{{Proto: "tcp", From: 80, To: 80, CIDR: "0.0.0.0/0"}}}),
				el("target-group", KindTargetGroup, lb, nil, targetGroupSpec{base: b, VpcID: vpc, Port: 80, TargetType: "instance"}),
				el("load-balancer", KindLoadBalancer, lb, []string{"sg/lb"}, loadBalancerSpec{base: b, Subnets: subnets(t, set), GroupName: "cld-" + run + "-web-lb"}),
				el("listener", KindListener, lb+":80", []string{"load-balancer", "target-group"}, listenerSpec{base: b, LoadBalancer: lb, TargetGroup: lb, Port: 80}),
				el("service", KindService, "web", []string{"task-def", "listener", "target-group", "load-balancer", "capacity"}, serviceSpec{base: b, Cluster: name, Desired: 1, Container: "web", ContainerPort: 80, ListenPort: 80, LoadBalancer: lb, TargetGroup: lb}),
				el("repository", KindRepository, "conf-"+run, nil, b),
			}
		},
	})
	if _, err := os.Stat(pem); !os.IsNotExist(err) {
		t.Errorf("the key pair's .pem is left behind: %v", err)
	}
}

func must(t *testing.T, f func() (*provider.Element, error)) *provider.Element {
	t.Helper()
	el, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func subnets(t *testing.T, set Settings) []string {
	c, err := New().apiFor(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := resolveNetwork(context.Background(), c, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAWSResolveSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte("[default]\nregion = eu-west-3\n[profile work]\nregion = ap-south-1\n"), 0o600)
	for _, c := range []struct {
		setting string
		env     map[string]string
		want    string
	}{
		{"us-west-2", map[string]string{"AWS_REGION": "eu-west-1"}, "us-west-2"},
		{"", map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-central-1"}, "eu-west-1"},
		{"", map[string]string{"AWS_DEFAULT_REGION": "eu-central-1"}, "eu-central-1"},
		{"", map[string]string{"AWS_CONFIG_FILE": cfg}, "eu-west-3"},
		{"", map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "work"}, "ap-south-1"},
	} {
		s, err := ResolveSettings(c.setting, c.env)
		if err != nil || s.Region != c.want {
			t.Errorf("%q %v: %+v %v, want %s", c.setting, c.env, s, err, c.want)
		}
	}
	if _, err := ResolveSettings("", map[string]string{"AWS_CONFIG_FILE": filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("no region: %v", err)
	}
	s, _ := ResolveSettings("", map[string]string{"AWS_REGION": "x", "AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_ECS": "http://b", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": "http://c"})
	if s.endpoint("ECS") != "http://b" || s.endpoint("EC2") != "http://a" || s.endpoint("ELASTIC_LOAD_BALANCING_V2") != "http://c" {
		t.Errorf("endpoints: %+v", s.Endpoints)
	}
}

// Each client honours AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL: a
// wrong global endpoint with the right EC2 one still reaches EC2.
func TestAWSServiceEndpointOverride(t *testing.T) {
	srv, set := startFake(t, 0)
	set.Endpoints = map[string]string{"": "http://127.0.0.1:1", "EC2": srv.URL()}
	c, err := New().apiFor(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EC2().DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("EC2 through AWS_ENDPOINT_URL_EC2: %v", err)
	}
}

func TestAWSPlanEnvironment(t *testing.T) {
	env, err := spec.ParseEnvironment("env.yaml", []byte(`environment:
  resources:
    aws:
      - resource:
          type: rds
          configuration:
            engine: postgres
            flavor: db.m1.medium
  app_deployment:
    target: aws
    type: ecs
    cluster_size: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	p := provider.EnvPlan{Env: "dev", Base: "dev-1700000000", Spec: env, ClientEnv: map[string]string{"AWS_REGION": "eu-west-1"}, Folder: t.TempDir()}
	tg := New()
	cl, err := tg.PlanCluster(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tg.PlanResources(p, env.Resources, cl)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*provider.Element{}
	for _, el := range append(cl, res...) {
		if keys[el.Key] != nil {
			t.Fatalf("key %s twice", el.Key)
		}
		keys[el.Key] = el
	}
	for _, k := range []string{"vpc", "sg/cluster", "cluster", "role/exec", "role/instance", "profile", "keypair", "launch-template", "asg", "capacity", "rds/sg", "rds/rule/cluster", "rds"} {
		if keys[k] == nil {
			t.Errorf("no element %s", k)
		}
	}
	if keys["rds/rule/policy"] != nil {
		t.Error("a policy rule without a policy")
	}
	// the database waits only for its own group and the network, not the cluster
	if d := keys["rds"].Deps; strings.Join(d, ",") != "rds/sg,vpc" {
		t.Errorf("rds deps %v", d)
	}
	if d := keys["rds/rule/cluster"].Deps; strings.Join(d, ",") != "rds/sg,sg/cluster" {
		t.Errorf("rule deps %v", d)
	}
	var rs rdsSpec
	keys["rds"].DecodeSpec(&rs)
	if rs.Class != "db.t3.medium" || rs.Engine != "postgres" || rs.Public || rs.AWS.Region != "eu-west-1" {
		t.Errorf("rds spec %+v", rs)
	}
	pw := keys["rds"].Inputs["password"]
	if len(pw) != passwordLength {
		t.Errorf("password %q", pw)
	}
	res2, _ := tg.PlanResources(p, env.Resources, cl)
	for _, el := range res2 {
		if el.Key == "rds" && el.Inputs["password"] == pw {
			t.Error("the password is a constant")
		}
	}
	var as asgSpec
	keys["asg"].DecodeSpec(&as)
	if as.Size != 2 {
		t.Errorf("asg size %d", as.Size)
	}
}

func TestAWSPlanOpenDatabaseWithoutCluster(t *testing.T) {
	env, err := spec.ParseEnvironment("env.yaml", []byte(`environment:
  resources:
    aws:
      - resource:
          type: rds
          configuration:
            engine: mysql
          policy:
            access: open
  app_deployment:
    target: local
`))
	if err != nil {
		t.Fatal(err)
	}
	p := provider.EnvPlan{Env: "lap", Base: "lap-1", Spec: env, ClientEnv: map[string]string{"AWS_REGION": "us-east-2"}}
	res, err := New().PlanResources(p, env.Resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, el := range res {
		keys = append(keys, el.Key)
		if el.Key == "rds" {
			var rs rdsSpec
			el.DecodeSpec(&rs)
			if !rs.Public {
				t.Error("open policy but not publicly accessible")
			}
		}
		if el.Key == "rds/rule/policy" {
			var r ruleSpec
			el.DecodeSpec(&r)
			if r.Rule.CIDR != "0.0.0.0/0" || r.Rule.From != 3306 {
				t.Errorf("policy rule %+v", r.Rule)
			}
		}
	}
	if strings.Join(keys, " ") != "vpc rds/sg rds/rule/policy rds" {
		t.Errorf("keys %v", keys)
	}
}

func TestAWSFargateSize(t *testing.T) {
	for _, c := range []struct{ cpu, mem, wc, wm int32 }{
		{256, 512, 256, 512}, {256, 700, 256, 1024}, {256, 3000, 512, 3072}, {512, 256, 512, 1024}, {1000, 512, 1024, 2048}, {4096, 100000, 16384, 106496},
	} {
		if c2, m2 := fargateSize(c.cpu, c.mem); c2 != c.wc || m2 != c.wm {
			t.Errorf("fargateSize(%d,%d) = %d,%d want %d,%d", c.cpu, c.mem, c2, m2, c.wc, c.wm)
		}
	}
	if n := shortName("an-environment-with-a-long-name", "an-app-with-a-rather-long-name-too"); len(n) > 32 || strings.HasSuffix(n, "-") {
		t.Errorf("short name %q", n)
	}
}

// A repository cld did not make is used and never deleted.
func TestAWSRepositoryBorrowed(t *testing.T) {
	srv, set := startFake(t, 0)
	cfg, _ := srv.AWSConfig(context.Background(), region)
	if _, err := ecr.NewFromConfig(cfg).CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	tg := New()
	el := &provider.Element{Key: "repository", Kind: KindRepository, Target: Name, Name: "shared", Spec: provider.MustSpec(base{set}),
		Labels: map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelContainer: "shared"}}
	h, _ := tg.Handler(KindRepository)
	obs, err := h.Observe(context.Background(), &provider.Request{Element: el})
	if err != nil || !obs.Exists || obs.Outputs["Owner"] != "external" {
		t.Fatalf("%+v %v", obs, err)
	}
	el.Outputs = obs.Outputs
	if !h.(provider.Borrowed).Borrowed(el) {
		t.Fatal("not borrowed")
	}
	if err := h.Delete(context.Background(), &provider.Request{Element: el}); err != nil {
		t.Fatal(err)
	}
	if removed, err := tg.Sweep(context.Background(), map[string]string{provider.LabelContainer: "shared"}); err != nil || len(removed) > 0 {
		t.Fatalf("sweep removed %v (%v)", removed, err)
	}
	if inv := srv.Inventory(); len(inv) != 1 || inv[0].Name != "shared" {
		t.Fatalf("the borrowed repository is gone: %+v", inv)
	}
}

// An ECS task definition on an EC2 cluster: bridge networking, cld's
// family and logs, bound secrets moved into `secrets`.
func TestAWSPlanECSTaskDefinition(t *testing.T) {
	set := Settings{Region: region}
	pw := "a-generated-password-123"
	cluster := []*provider.Element{
		{Key: "vpc", Target: Name, Outputs: map[string]string{"VpcId": "vpc-1", "Subnets": "subnet-a,subnet-b"}, Spec: provider.MustSpec(vpcSpec{base: base{set}})},
		{Key: "cluster", Target: Name, Name: "dev-1", Spec: provider.MustSpec(clusterSpec{base: base{set}})},
		{Key: "sg/cluster", Target: Name, Outputs: map[string]string{"GroupId": "sg-1"}},
		{Key: "role/exec", Target: Name, Outputs: map[string]string{"RoleArn": "arn:aws:iam::1:role/cld/x"}},
		{Key: "rds", Target: Name, BindType: "RDS", Secrets: map[string]string{"MasterUserPassword": pw}},
	}
	app, err := spec.ParseApp("td.yaml", []byte(`family: mine
cpu: 256
containerDefinitions:
  - name: web
    image: nginx:1
    portMappings:
      - containerPort: 8080
    environment:
      - name: DSN
        value: mysql://cld:`+pw+`@db:3306/app
      - name: MODE
        value: prod
  - name: worker
    image: busybox:1
    memoryReservation: 64
`))
	if err != nil {
		t.Fatal(err)
	}
	els, err := New().PlanApp(provider.AppPlan{App: "web", Base: "web-1", Env: "dev", Spec: app, Bound: &provider.BoundApp{ECS: app.ECS.Object}, Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	var td taskDefSpec
	var svc serviceSpec
	var secret *provider.Element
	for _, el := range els {
		switch el.Key {
		case "task-def":
			el.DecodeSpec(&td)
		case "service":
			el.DecodeSpec(&svc)
		case "secret":
			secret = el
		}
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(td.Def, &in); err != nil {
		t.Fatal(err)
	}
	web := in.ContainerDefinitions[0]
	if aws.ToString(in.Family) != "dev-web" || in.NetworkMode != "bridge" || aws.ToString(in.Cpu) != "256" || aws.ToString(in.ExecutionRoleArn) == "" ||
		len(web.Environment) != 1 || len(web.Secrets) != 1 || aws.ToInt32(web.Memory) != defaultMemoryMiB || web.LogConfiguration == nil ||
		in.ContainerDefinitions[1].Memory != nil {
		b, _ := json.MarshalIndent(in, "", " ")
		t.Fatalf("task definition:\n%s", b)
	}
	if secret == nil || secret.Inputs["web__DSN"] != "mysql://cld:"+pw+"@db:3306/app" || strings.Contains(string(td.Def), pw) {
		t.Fatalf("secret %+v", secret)
	}
	if svc.Container != "web" || svc.ContainerPort != 8080 || svc.ListenPort != 80 || svc.TargetGroup == "" {
		t.Fatalf("service %+v", svc)
	}
}
