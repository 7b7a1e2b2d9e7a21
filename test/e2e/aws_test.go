package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	fake "github.com/cloudark/cld/test/fake/aws"
)

// envDetail is `env show -o json` with what the AWS tests look at.
type envDetail struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	Folder   string `json:"folder"`
	Elements []struct {
		Key, Kind, Name, Status string
		Outputs                 map[string]string
		Labels                  map[string]string
	} `json:"elements"`
}

func (d envDetail) element(key string) (name string, outputs map[string]string) {
	for _, e := range d.Elements {
		if e.Key == key {
			return e.Name, e.Outputs
		}
	}
	return "", nil
}

// The whole journey on ECS with EC2 capacity, through the real SDK against
// the stateful fake and a real registry: env (cluster of 2 x t3.small, a
// MySQL RDS behind its own group) -> ECR container (a failed push first,
// rolled back) -> app bound to the database through Secrets Manager ->
// logs (--follow too) -> redeploy -> a failed redeploy restored -> delete,
// after which the account holds nothing.
func TestAWSJourney(t *testing.T) {
	reg := startRegistry(t)
	opts := fakeDurations(50 * time.Millisecond)
	opts.RegistryHost = reg
	srv := startFakeAWS(t, opts)
	u := awsUser(t, srv)
	cfg := awsConfig(t, srv)
	ctx := context.Background()

	envFile := u.write("env.yaml", `environment:
  resources:
    aws:
      - resource:
          type: rds
          configuration:
            engine: mysql
            dbname: greetings
  app_deployment:
    target: aws
    type: ecs
    cluster_size: 2
    instance_type: t3.small
`)
	u.ok("env", "create", "awsdev", envFile)
	var env envDetail
	u.json(&env, "env", "show", "awsdev")
	if env.Status != "available" {
		t.Fatalf("env: %+v", env)
	}
	// every element is tagged with its owner
	for _, r := range srv.Inventory() {
		if r.Tags["managed-by"] != "cld" || r.Tags["cld-env"] != "awsdev" || !strings.HasPrefix(r.Tags["cld-element"], "env/awsdev/") {
			t.Errorf("%s %s %s is not tagged: %v", r.Service, r.Type, r.Name, r.Tags)
		}
	}
	// the ssh key's .pem is in the environment's folder, 0600
	_, kp := env.element("keypair")
	if fi, err := os.Stat(kp["PemFile"]); err != nil || fi.Mode().Perm() != 0o600 || filepath.Dir(kp["PemFile"]) != env.Folder {
		t.Fatalf("pem %q in %s: %v %v", kp["PemFile"], env.Folder, fi, err)
	} else if b, _ := os.ReadFile(kp["PemFile"]); !strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatalf("pem content: %.40s", b)
	}
	// ECS: two container instances joined the cluster through the capacity provider
	clusterName, _ := env.element("cluster")
	dc, err := ecs.NewFromConfig(cfg).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{clusterName}})
	if err != nil || len(dc.Clusters) != 1 || dc.Clusters[0].RegisteredContainerInstancesCount != 2 || len(dc.Clusters[0].CapacityProviders) != 1 {
		t.Fatalf("cluster %s: %v %+v", clusterName, err, dc)
	}
	// the database's group admits only the cluster's group, on 3306
	rdsGroup, _ := env.element("rds/sg")
	_, clusterSG := env.element("sg/cluster")
	perms := groupIngress(t, cfg, rdsGroup)
	if len(perms) != 1 || aws.ToInt32(perms[0].FromPort) != 3306 || len(perms[0].IpRanges) != 0 ||
		len(perms[0].UserIdGroupPairs) != 1 || aws.ToString(perms[0].UserIdGroupPairs[0].GroupId) != clusterSG["GroupId"] {
		t.Fatalf("rds group admits %+v, want only %s", perms, clusterSG["GroupId"])
	}
	// outputs, the password generated and masked
	var res []resource
	u.json(&res, "resource", "show", "awsdev", "--show-secrets")
	if len(res) != 1 || res[0].Type != "RDS" {
		t.Fatalf("resources %+v", res)
	}
	a := res[0].Attributes
	for _, k := range []string{"MasterUsername", "MasterUserPassword", "DBName", "Address", "Port", "DBInstanceIdentifier", "Engine", "DBInstanceClass"} {
		if a[k] == "" {
			t.Errorf("output %s missing: %v", k, a)
		}
	}
	if pw, _ := srv.DBPassword(awsRegion, a["DBInstanceIdentifier"]); pw != a["MasterUserPassword"] || len(pw) < 20 || a["Port"] != "3306" || a["DBName"] != "greetings" {
		t.Fatalf("password/port/dbname: %v (fake has %q)", a, pw)
	}
	var masked []resource
	u.json(&masked, "resource", "show", "awsdev")
	if masked[0].Attributes["MasterUserPassword"] != "********" {
		t.Fatalf("not masked: %v", masked[0].Attributes)
	}

	// container: a push that cannot authenticate rolls back, then it works
	dir := buildGreetings(t)
	srv.InjectFailure("ecr", "GetAuthorizationToken", "AccessDeniedException", "not allowed", -1)
	if r := u.runIn(dir, "container", "create", "greet", "ecr"); r.code == 0 || !strings.Contains(r.err, "not allowed") {
		t.Fatalf("container create with a failing token: %d %s", r.code, r.err)
	}
	if left := owned(srv, "cld-container", "greet"); len(left) > 0 {
		t.Fatalf("failed container create left %v", left)
	}
	srv.ClearFaults()
	r := u.runIn(dir, "container", "create", "greet", "ecr")
	if r.code != 0 {
		t.Fatalf("container create: %s", r.err)
	}
	img := strings.TrimSpace(r.out)
	if !strings.HasPrefix(img, reg+"/greet:") {
		t.Fatalf("image %q is not in the ECR repository (%s)", img, reg)
	}
	if tags := registryTags(t, reg, "greet"); len(tags) != 1 || img != reg+"/greet:"+tags[0] {
		t.Fatalf("registry has %v for %s", tags, img)
	}

	// app: bound to the database, the password through Secrets Manager
	appFile := u.write("app.yaml", `app:
  image: `+img+`
  container_port: 5000
  env:
    PASSWORD: $CLOUDARK_RDS_MasterUserPassword
    DB: $CLOUDARK_RDS_DBName
    HOST: $CLOUDARK_RDS_Address
    USER: $CLOUDARK_RDS_MasterUsername
`)
	url := strings.TrimSpace(u.ok("app", "deploy", "web", "awsdev", appFile))
	if !strings.HasPrefix(url, "http://web-") || !strings.HasSuffix(url, ".elb.amazonaws.com") {
		t.Fatalf("deploy printed %q", url)
	}
	var app object
	u.json(&app, "app", "show", "web")
	if app.Status != "available" || app.URL != url {
		t.Fatalf("app show: %+v", app)
	}
	td := taskDef(t, cfg, "awsdev-web")
	c0 := td.ContainerDefinitions[0]
	if td.NetworkMode != ecstypes.NetworkModeBridge || c0.LogConfiguration == nil || c0.LogConfiguration.Options["awslogs-group"] != "/cld/awsdev/web" {
		t.Fatalf("task definition: %s %+v", td.NetworkMode, c0.LogConfiguration)
	}
	raw, _ := json.Marshal(td)
	if strings.Contains(string(raw), a["MasterUserPassword"]) {
		t.Fatal("the database password is in the task definition")
	}
	if len(c0.Secrets) != 1 || aws.ToString(c0.Secrets[0].Name) != "PASSWORD" || !strings.Contains(aws.ToString(c0.Secrets[0].ValueFrom), ":secret:cld/awsdev/web") {
		t.Fatalf("secrets: %+v", c0.Secrets)
	}
	sv, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("cld/awsdev/web")})
	var sec map[string]string
	if err != nil || json.Unmarshal([]byte(aws.ToString(sv.SecretString)), &sec) != nil || sec["PASSWORD"] != a["MasterUserPassword"] {
		t.Fatalf("secret: %v %v", err, sec)
	}
	for _, res := range srv.Inventory() {
		if res.Tags["cld-app"] == "web" && (res.Tags["cld-env"] != "awsdev" || !strings.HasPrefix(res.Tags["cld-element"], "app/web/")) {
			t.Errorf("%s %s %s tags %v", res.Service, res.Type, res.Name, res.Tags)
		}
	}

	// logs: ECS service events and the containers' output; --follow streams
	logs := u.ok("app", "logs", "web")
	for _, want := range []string{"[deploy]", "has reached a steady state", "started from image " + img, "listening on port 5000"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	followAWSLogs(t, u, srv, "/cld/awsdev/web")

	// redeploy: a new revision, the service rolled, the same load balancer
	u.write("app.yaml", mustRead(t, appFile)+"    GREETING: v2\n")
	out := u.run("app", "redeploy", "web", appFile)
	if out.code != 0 || !strings.Contains(out.err, "updating aws-ecs-service") {
		t.Fatalf("redeploy: %d %s", out.code, out.err)
	}
	td2 := taskDef(t, cfg, "awsdev-web")
	if td2.Revision != td.Revision+1 || serviceTaskDef(t, cfg, clusterName, "web") != aws.ToString(td2.TaskDefinitionArn) {
		t.Fatalf("after redeploy: revision %d, service runs %s", td2.Revision, serviceTaskDef(t, cfg, clusterName, "web"))
	}
	u.json(&app, "app", "show", "web")
	if app.URL != url || app.Status != "available" {
		t.Fatalf("after redeploy: %+v", app)
	}
	// a version that cannot start: the previous one is restored
	srv.FailImage("greet:broken", "")
	u.write("app.yaml", strings.Replace(mustRead(t, appFile), img, reg+"/greet:broken", 1))
	out = u.run("app", "redeploy", "web", appFile)
	if out.code == 0 || !strings.Contains(out.err, "CannotPullContainerError") {
		t.Fatalf("broken redeploy: %d %s", out.code, out.err)
	}
	u.json(&app, "app", "show", "web")
	if app.Status != "available" || !strings.Contains(app.Error, "last redeploy failed") || app.URL != url {
		t.Fatalf("after the failed redeploy: %+v", app)
	}
	if img2 := serviceImage(t, cfg, clusterName, "web"); img2 != img {
		t.Fatalf("the service runs %s after the rollback, want %s", img2, img)
	}
	// the deployment logs say why the tasks stopped
	if logs := u.ok("app", "logs", "web", "--deployment"); !strings.Contains(logs, "stopped: CannotPullContainerError") || strings.Contains(logs, "started from image") {
		t.Errorf("deployment logs:\n%s", logs)
	}
	// tools run by `env exec` point at the environment's region
	if out := strings.TrimSpace(u.ok("env", "exec", "awsdev", "--", "sh", "-c", "echo $AWS_REGION")); out != awsRegion {
		t.Errorf("env exec: AWS_REGION=%q", out)
	}

	// delete: the app, the container (ECR and the registry), the environment
	u.ok("app", "delete", "web")
	if left := owned(srv, "cld-app", "web"); len(left) > 0 {
		t.Fatalf("app delete left %v", left)
	}
	u.ok("container", "delete", "greet")
	if left := owned(srv, "cld-container", "greet"); len(left) > 0 {
		t.Fatalf("container delete left %v", left)
	}
	u.ok("env", "delete", "awsdev")
	assertAWSEmpty(t, srv, "after env delete")
	if _, err := os.Stat(kp["PemFile"]); !os.IsNotExist(err) {
		t.Errorf("the .pem is left: %v", err)
	}
	assertNoLeftovers(t, "cld-container=greet")
}

func groupIngress(t *testing.T, cfg aws.Config, name string) []ec2types.IpPermission {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("group %s: %v %+v", name, err, out)
	}
	return out.SecurityGroups[0].IpPermissions
}

func taskDef(t *testing.T, cfg aws.Config, family string) *ecstypes.TaskDefinition {
	t.Helper()
	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinition
}

func service(t *testing.T, cfg aws.Config, cluster, name string) ecstypes.Service {
	t.Helper()
	out, err := ecs.NewFromConfig(cfg).DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("service %s: %v", name, err)
	}
	return out.Services[0]
}

func serviceTaskDef(t *testing.T, cfg aws.Config, cluster, name string) string {
	return aws.ToString(service(t, cfg, cluster, name).TaskDefinition)
}

func serviceImage(t *testing.T, cfg aws.Config, cluster, name string) string {
	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(serviceTaskDef(t, cfg, cluster, name))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image)
}

func registryTags(t *testing.T, reg, repo string) []string {
	t.Helper()
	resp, err := http.Get("http://" + reg + "/v2/" + repo + "/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tl struct {
		Tags []string `json:"tags"`
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &tl)
	return tl.Tags
}

// followAWSLogs checks that `app logs --follow` streams a line written to
// the app's log group after it started.
func followAWSLogs(t *testing.T, u *user, srv *fake.Server, group string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cldBin, "app", "logs", "web", "--follow", "--runtime")
	cmd.Env = append(append(os.Environ(), "CLD_HOME="+u.home), u.env...)
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for !strings.Contains(out.String(), "started from image") {
		if ctx.Err() != nil {
			t.Fatalf("--follow printed nothing: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	marker := fmt.Sprintf("follow-%d", time.Now().UnixNano())
	if err := srv.PutLogEvents(awsRegion, group, "cld/web/follow", marker); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), marker) {
		if ctx.Err() != nil {
			t.Fatalf("--follow did not stream the new line; got:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With launch_type fargate, an ECS task definition YAML (two containers)
// runs as an awsvpc service behind an ip target group; the bound password
// moves from its environment into secrets.
func TestAWSFargateTaskDefinitionYAML(t *testing.T) {
	srv := startFakeAWS(t, fakeDurations(30*time.Millisecond))
	u := awsUser(t, srv)
	cfg := awsConfig(t, srv)
	u.ok("env", "create", "fg", u.write("env.yaml", `environment:
  resources:
    aws:
      - resource:
          type: rds
          configuration:
            engine: postgres
            flavor: db.t4g.micro
  app_deployment:
    target: aws
    type: ecs
    launch_type: fargate
`))
	var env envDetail
	u.json(&env, "env", "show", "fg")
	for _, e := range env.Elements {
		if e.Key == "asg" || e.Key == "keypair" || e.Key == "launch-template" {
			t.Errorf("fargate env has %s", e.Key)
		}
	}
	url := strings.TrimSpace(u.ok("app", "deploy", "wp", "fg", u.write("wp.yaml", `family: wordpress
containerDefinitions:
  - name: wordpress
    image: wordpress:6
    essential: true
    memory: 512
    portMappings:
      - containerPort: 80
    environment:
      - name: WORDPRESS_DB_PASSWORD
        value: $CLOUDARK_RDS_MasterUserPassword
      - name: WORDPRESS_DB_HOST
        value: $CLOUDARK_RDS_Address
  - name: cron
    image: busybox:1
    essential: false
    memory: 64
    command: ["sh", "-c", "sleep 3600"]
`)))
	if !strings.HasPrefix(url, "http://wp-") {
		t.Fatalf("deploy printed %q", url)
	}
	td := taskDef(t, cfg, "fg-wp")
	if td.NetworkMode != ecstypes.NetworkModeAwsvpc || len(td.ContainerDefinitions) != 2 || aws.ToString(td.Cpu) == "" || aws.ToString(td.Memory) == "" {
		t.Fatalf("task definition: %s cpu %s memory %s, %d containers", td.NetworkMode, aws.ToString(td.Cpu), aws.ToString(td.Memory), len(td.ContainerDefinitions))
	}
	wp := td.ContainerDefinitions[0]
	if len(wp.Secrets) != 1 || aws.ToString(wp.Secrets[0].Name) != "WORDPRESS_DB_PASSWORD" || len(wp.Environment) != 1 || aws.ToString(wp.Environment[0].Name) != "WORDPRESS_DB_HOST" {
		t.Fatalf("wordpress container: secrets %+v environment %+v", wp.Secrets, wp.Environment)
	}
	clusterName, _ := env.element("cluster")
	sv := service(t, cfg, clusterName, "wp")
	if sv.NetworkConfiguration == nil || sv.NetworkConfiguration.AwsvpcConfiguration == nil || len(sv.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups) != 1 {
		t.Fatalf("service network: %+v", sv.NetworkConfiguration)
	}
	tgs, err := elb.NewFromConfig(cfg).DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{})
	if err != nil || len(tgs.TargetGroups) != 1 || tgs.TargetGroups[0].TargetType != "ip" {
		t.Fatalf("target groups: %v %+v", err, tgs)
	}
	u.ok("env", "delete", "fg", "--force")
	assertAWSEmpty(t, srv, "after env delete --force")
}

// An environment with an RDS database and no ECS cluster, opened to a
// laptop on purpose, and a local app bound to it.
func TestAWSDatabaseForLocalApp(t *testing.T) {
	srv := startFakeAWS(t, fakeDurations(30*time.Millisecond))
	u := awsUser(t, srv)
	cfg := awsConfig(t, srv)
	u.ok("env", "create", "lap", u.write("env.yaml", mustRead(t, filepath.Join(repoRoot, "internal/spec/testdata/caastle-examples/greetings/environment-rds-local.yaml"))))
	var env envDetail
	u.json(&env, "env", "show", "lap")
	rdsGroup, _ := env.element("rds/sg")
	perms := groupIngress(t, cfg, rdsGroup)
	if len(perms) != 1 || len(perms[0].IpRanges) != 1 || aws.ToString(perms[0].IpRanges[0].CidrIp) != "0.0.0.0/0" || len(perms[0].UserIdGroupPairs) != 0 {
		t.Fatalf("open database group admits %+v", perms)
	}
	_, db := env.element("rds")
	dbs, err := rds.NewFromConfig(cfg).DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(db["DBInstanceIdentifier"])})
	if err != nil || !aws.ToBool(dbs.DBInstances[0].PubliclyAccessible) || aws.ToString(dbs.DBInstances[0].DBInstanceClass) != "db.t3.medium" {
		t.Fatalf("db: %v %+v", err, dbs)
	}
	// a local app bound to the RDS database
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "hello"), "./test/e2e/testdata/hello")
	build.Dir, build.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n"), 0o644)
	r := u.runIn(dir, "container", "create", "hello", "local")
	if r.code != 0 {
		t.Fatal(r.err)
	}
	url := strings.TrimSpace(u.ok("app", "deploy", "greet", "lap", u.write("app.yaml", `app:
  image: `+strings.TrimSpace(r.out)+`
  container_port: 8080
  env:
    HOST: $CLOUDARK_RDS_Address
    PASSWORD: $CLOUDARK_RDS_MasterUserPassword
`)))
	if code, body := httpDo(t, "GET", url, ""); code != 200 || !strings.Contains(body, "hello") {
		t.Fatalf("local app: %d %s", code, body)
	}
	c := dockerClient(t)
	defer c.Close()
	var appObj object
	u.json(&appObj, "app", "show", "greet")
	ci, err := c.ContainerInspect(context.Background(), appObj.Elements[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	var res []resource
	u.json(&res, "resource", "show", "lap", "--show-secrets")
	env2 := strings.Join(ci.Config.Env, "\n")
	if !strings.Contains(env2, "HOST="+res[0].Attributes["Address"]) || !strings.Contains(env2, "PASSWORD="+res[0].Attributes["MasterUserPassword"]) {
		t.Fatalf("container env lacks the RDS binding: %s", env2)
	}
	u.ok("env", "delete", "lap", "--force")
	u.ok("container", "delete", "hello")
	assertAWSEmpty(t, srv, "after env delete")
	assertNoLeftovers(t, "cld-env=lap")
}

// Cluster and database are created concurrently: with 4 s of latency on
// CreateCluster and 6 s on CreateDBInstance, env create takes about the
// longer, not the sum. The database's group admits the cluster's group and
// the policy's CIDR, nothing else.
func TestAWSEnvCreateConcurrency(t *testing.T) {
	srv := startFakeAWS(t, fake.Options{}) // the fake's default lifecycles (200 ms)
	const clusterLatency, dbLatency = 4 * time.Second, 6 * time.Second
	srv.InjectLatency("ecs", "CreateCluster", clusterLatency)
	srv.InjectLatency("rds", "CreateDBInstance", dbLatency)
	u := awsUser(t, srv)
	file := u.write("env.yaml", `environment:
  resources:
    aws:
      - resource:
          type: rds
          policy:
            access: 203.0.113.0/24
  app_deployment:
    target: aws
    type: ecs
`)
	_, took := u.timed("env", "create", "conc", file)
	sum := clusterLatency + dbLatency
	ratio := float64(took) / float64(sum)
	t.Logf("env create took %s with CreateCluster +%s and CreateDBInstance +%s: %.2f of their sum (%s)", took.Round(10*time.Millisecond), clusterLatency, dbLatency, ratio, sum)
	if took < dbLatency || ratio > 0.85 {
		t.Fatalf("env create took %s: cluster and database were not created concurrently (ratio %.2f)", took, ratio)
	}
	var cc, dc fake.Call
	for _, c := range srv.Calls() {
		switch c.Action {
		case "CreateCluster":
			cc = c
		case "CreateDBInstance":
			dc = c
		}
	}
	if dc.Time.After(cc.Time.Add(cc.Duration)) || cc.Time.After(dc.Time.Add(dc.Duration)) {
		t.Fatalf("CreateCluster (%s +%s) and CreateDBInstance (%s +%s) did not overlap", cc.Time, cc.Duration, dc.Time, dc.Duration)
	}
	var env envDetail
	u.json(&env, "env", "show", "conc")
	rdsGroup, _ := env.element("rds/sg")
	_, clusterSG := env.element("sg/cluster")
	var sources []string
	for _, p := range groupIngress(t, awsConfig(t, srv), rdsGroup) {
		if aws.ToInt32(p.FromPort) != 3306 || aws.ToInt32(p.ToPort) != 3306 {
			t.Errorf("rule on ports %d-%d", aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort))
		}
		for _, g := range p.UserIdGroupPairs {
			sources = append(sources, aws.ToString(g.GroupId))
		}
		for _, r := range p.IpRanges {
			sources = append(sources, aws.ToString(r.CidrIp))
		}
	}
	if len(sources) != 2 || !strings.Contains(strings.Join(sources, " "), clusterSG["GroupId"]) || !strings.Contains(strings.Join(sources, " "), "203.0.113.0/24") {
		t.Fatalf("database group admits %v, want the cluster's group and 203.0.113.0/24", sources)
	}
	srv.ClearFaults()
	u.ok("env", "delete", "conc")
	assertAWSEmpty(t, srv, "after env delete")
}

// A failure injected at each create step of env create and of app deploy
// rolls back what that operation made: the account is as before.
func TestAWSRollbackAtEachStep(t *testing.T) {
	srv := startFakeAWS(t, fakeDurations(20*time.Millisecond))
	u := awsUser(t, srv)
	envFile := u.write("env.yaml", `environment:
  resources:
    aws:
      - resource:
          type: rds
  app_deployment:
    target: aws
    type: ecs
`)
	for _, s := range []struct{ service, action, code string }{
		{"ec2", "CreateSecurityGroup", "InvalidParameterValue"},
		{"ec2", "AuthorizeSecurityGroupIngress", "InvalidPermission.Malformed"},
		{"ecs", "CreateCluster", "InvalidParameterException"},
		{"iam", "CreateRole", "LimitExceeded"},
		{"iam", "AttachRolePolicy", "AccessDenied"},
		{"iam", "PutRolePolicy", "MalformedPolicyDocument"},
		{"iam", "CreateInstanceProfile", "LimitExceeded"},
		{"iam", "AddRoleToInstanceProfile", "LimitExceeded"},
		{"ec2", "CreateKeyPair", "KeyPairLimitExceeded"},
		{"ssm", "GetParameter", "ParameterNotFound"},
		{"ec2", "CreateLaunchTemplate", "InvalidParameterValue"},
		{"autoscaling", "CreateAutoScalingGroup", "LimitExceeded"},
		{"ecs", "CreateCapacityProvider", "ClientException"},
		{"ecs", "PutClusterCapacityProviders", "InvalidParameterException"},
		{"rds", "CreateDBInstance", "InsufficientDBInstanceCapacity"},
	} {
		srv.InjectFailure(s.service, s.action, s.code, "injected at "+s.action, -1)
		r := u.run("env", "create", "rb", envFile)
		if r.code == 0 || !strings.Contains(r.err, "injected at "+s.action) || !strings.Contains(r.err, "rolled") {
			t.Fatalf("env create with %s failing: exit %d\n%s", s.action, r.code, r.err)
		}
		assertAWSEmpty(t, srv, "env create failing at "+s.action)
		srv.ClearFaults()
	}
	u.ok("env", "create", "rb", envFile)
	before := owned(srv, "", "")
	appFile := u.write("app.yaml", `app:
  image: nginx:1
  container_port: 80
  env:
    PASSWORD: $CLOUDARK_RDS_MasterUserPassword
`)
	check := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Join(owned(srv, "", ""), "\n") != strings.Join(before, "\n") {
			if time.Now().After(deadline) {
				t.Fatalf("%s: left %v", what, owned(srv, "cld-app", "web"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, s := range []struct{ service, action, code string }{
		{"logs", "CreateLogGroup", "InvalidParameterException"},
		{"secretsmanager", "CreateSecret", "LimitExceededException"},
		{"ecs", "RegisterTaskDefinition", "ClientException"},
		{"ec2", "CreateSecurityGroup", "InvalidParameterValue"},
		{"elasticloadbalancing", "CreateTargetGroup", "TooManyTargetGroups"},
		{"elasticloadbalancing", "CreateLoadBalancer", "InvalidConfigurationRequest"},
		{"elasticloadbalancing", "CreateListener", "InvalidConfigurationRequest"},
		{"ecs", "CreateService", "InvalidParameterException"},
	} {
		srv.InjectFailure(s.service, s.action, s.code, "injected at "+s.action, -1)
		r := u.run("app", "deploy", "web", "rb", appFile)
		if r.code == 0 || !strings.Contains(r.err, "injected at "+s.action) {
			t.Fatalf("app deploy with %s failing: exit %d\n%s", s.action, r.code, r.err)
		}
		check("app deploy failing at " + s.action)
		srv.ClearFaults()
	}
	// a task that cannot start fails the deploy with ECS's reason
	srv.FailImage("nginx:broken", "")
	u.write("app.yaml", strings.Replace(mustRead(t, appFile), "nginx:1", "nginx:broken", 1))
	if r := u.run("app", "deploy", "web", "rb", appFile); r.code == 0 || !strings.Contains(r.err, "CannotPullContainerError") {
		t.Fatalf("app deploy of an image that cannot be pulled: exit %d\n%s", r.code, r.err)
	}
	check("app deploy of an image that cannot be pulled")
	u.ok("env", "delete", "rb", "--force") // the failed app's record is still there

	assertAWSEmpty(t, srv, "after env delete")
}

// `cld setup aws` writes the standard shared files for a profile (flags or
// prompts), 0600, keeping other profiles, and checks them with STS.
func TestAWSSetup(t *testing.T) {
	srv := startFakeAWS(t, fake.Options{})
	dir := t.TempDir()
	cfgFile, credFile := filepath.Join(dir, "aws", "config"), filepath.Join(dir, "aws", "credentials")
	os.MkdirAll(filepath.Dir(cfgFile), 0o700)
	os.WriteFile(cfgFile, []byte("[profile other]\nregion = ap-south-1\noutput = json\n"), 0o644)
	os.WriteFile(credFile, []byte("[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret\n"), 0o644)
	setup := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(cldBin, append([]string{"setup", "aws"}, args...)...)
		cmd.Env = append(os.Environ(), "CLD_HOME="+dir, "AWS_CONFIG_FILE="+cfgFile, "AWS_SHARED_CREDENTIALS_FILE="+credFile,
			"AWS_ENDPOINT_URL="+srv.URL(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), errb.String(), code
	}
	out, errOut, code := setup("", "--region", "eu-west-1", "--access-key-id", "AKIDFLAGS", "--secret-access-key", "flag-secret")
	if code != 0 || !strings.Contains(out, "AWS account "+fake.DefaultAccountID) || !strings.Contains(out, "profile default") {
		t.Fatalf("setup with flags: %d %s %s", code, out, errOut)
	}
	// prompts: Enter keeps the current value
	out, errOut, code = setup("AKIDPROMPT\n\n\n", "--profile", "work", "--region", "us-west-2", "--secret-access-key", "work-secret")
	if code != 0 || !strings.Contains(errOut, "AWS Access Key ID: ") || !strings.Contains(out, "profile work") {
		t.Fatalf("setup with prompts: %d %s %s", code, out, errOut)
	}
	out, errOut, code = setup("\n\n\n", "--profile", "work")
	if code != 0 || !strings.Contains(errOut, "AWS Access Key ID [****************OMPT]") || !strings.Contains(out, "us-west-2") {
		t.Fatalf("setup keeping values: %d %s %s", code, out, errOut)
	}
	cfg, cred := mustRead(t, cfgFile), mustRead(t, credFile)
	for _, want := range []string{"[profile other]\nregion = ap-south-1\noutput = json", "[default]\nregion = eu-west-1", "[profile work]\nregion = us-west-2"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	for _, want := range []string{"[other]\naws_access_key_id = AKIDOTHER", "aws_access_key_id = AKIDFLAGS\naws_secret_access_key = flag-secret", "[work]\naws_access_key_id = AKIDPROMPT\naws_secret_access_key = work-secret"} {
		if !strings.Contains(cred, want) {
			t.Errorf("credentials lack %q:\n%s", want, cred)
		}
	}
	for _, f := range []string{cfgFile, credFile} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	// the profile's credentials are what STS saw
	var keys []string
	for _, c := range srv.Calls() {
		if c.Action == "GetCallerIdentity" {
			keys = append(keys, c.Region)
		}
	}
	if len(keys) != 3 || keys[0] != "eu-west-1" || keys[1] != "us-west-2" {
		t.Errorf("GetCallerIdentity calls in regions %v", keys)
	}
	// STS refusing: the error says so
	srv.InjectFailure("sts", "GetCallerIdentity", "InvalidClientTokenId", "The security token included in the request is invalid.", -1)
	if _, errOut, code = setup("", "--region", "eu-west-1", "--access-key-id", "AKIDBAD", "--secret-access-key", "bad"); code != 1 || !strings.Contains(errOut, "STS does not accept them") {
		t.Fatalf("bad credentials: %d %s", code, errOut)
	}
}

// The original tool's AWS examples work unchanged: each environment is
// created and deleted, and the greetings and wordpress apps deploy bound to
// the RDS database of environment-rds-ecs.yaml.
func TestAWSCaastleExamples(t *testing.T) {
	srv := startFakeAWS(t, fakeDurations(20*time.Millisecond))
	u := awsUser(t, srv)
	ex := filepath.Join(repoRoot, "internal", "spec", "testdata", "caastle-examples")
	for i, f := range []string{"hello-world/environment-ecs-size-2.yaml", "hello-world/environment-ecs-instance-type.yaml", "greetings/environment-rds-local.yaml"} {
		name := fmt.Sprintf("ex%d", i)
		u.ok("env", "create", name, filepath.Join(ex, f))
		u.ok("env", "delete", name)
		assertAWSEmpty(t, srv, f)
	}
	u.ok("env", "create", "rdsecs", filepath.Join(ex, "greetings/environment-rds-ecs.yaml"))
	for _, a := range []struct{ name, file string }{{"greetings", "greetings/app-aws.yaml"}, {"wordpress", "wordpress/app-ecs.yaml"}} {
		if url := strings.TrimSpace(u.ok("app", "deploy", a.name, "rdsecs", filepath.Join(ex, a.file))); !strings.HasPrefix(url, "http://"+a.name+"-") {
			t.Errorf("%s: %q", a.file, url)
		}
	}
	u.ok("env", "delete", "rdsecs", "--force")
	assertAWSEmpty(t, srv, "environment-rds-ecs.yaml with its apps")
}

// A database that another installation (or a person) already runs under
// the name an environment's database would get is neither adopted nor
// deleted: env create fails, says why, and rolls back only its own.
func TestAWSForeignDatabaseLeftAlone(t *testing.T) {
	srv := startFakeAWS(t, fakeDurations(30*time.Millisecond))
	u := awsUser(t, srv)
	cfg := awsConfig(t, srv)
	ctx := context.Background()
	client := rds.NewFromConfig(cfg)
	now := time.Now().Unix()
	var theirs []string
	for s := now; s < now+4; s++ {
		id := fmt.Sprintf("own-%d-rds", s)
		_, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String("mysql"),
			DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("them"), MasterUserPassword: aws.String("their-own-password-0123"),
			Tags: []rdstypes.Tag{{Key: aws.String("managed-by"), Value: aws.String("cld")}, {Key: aws.String("cld-install"), Value: aws.String("someone-else")},
				{Key: aws.String("cld-element"), Value: aws.String("env/own/rds")}}})
		if err != nil {
			t.Fatal(err)
		}
		theirs = append(theirs, id)
	}
	r := u.run("env", "create", "own", u.write("env.yaml", mustRead(t, filepath.Join(repoRoot, "internal/spec/testdata/caastle-examples/greetings/environment-rds-local.yaml"))))
	if r.code == 0 || !strings.Contains(r.err, "is taken on the platform") || !strings.Contains(r.err, "cld-install=someone-else") {
		t.Fatalf("env create onto another's database name: exit %d\n%s", r.code, r.err)
	}
	for _, id := range theirs {
		out, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil || aws.ToString(out.DBInstances[0].DBInstanceStatus) == "deleting" {
			t.Fatalf("their database %s was touched: %v", id, err)
		}
		if _, err := client.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	assertAWSEmpty(t, srv, "after the refused create and their databases' deletes")
	// the environment's own local network, made while the database failed, is rolled back too
	assertNoLeftovers(t, "cld-env=own")
}

// The registry's region follows the shell that runs `container create`,
// not the one that started the server.
func TestAWSContainerRegionFromShell(t *testing.T) {
	reg := startRegistry(t)
	opts := fakeDurations(20 * time.Millisecond)
	opts.RegistryHost = reg
	srv := startFakeAWS(t, opts)
	u := awsUser(t, srv)
	u.ok("env", "list") // the server starts in us-east-1
	dir := buildGreetings(t)
	u.env = append(u.env, "AWS_REGION=eu-west-1")
	u.runOK(dir, "container", "create", "greet", "ecr")
	var regions []string
	for _, r := range srv.Inventory() {
		if r.Type == "repository" || strings.Contains(strings.ToLower(r.Type), "repositor") {
			regions = append(regions, r.Region)
		}
	}
	if len(regions) != 1 || regions[0] != "eu-west-1" {
		t.Fatalf("repositories in %v, want one in eu-west-1 (the shell's region)", regions)
	}
	u.ok("container", "delete", "greet")
	assertAWSEmpty(t, srv, "after container delete")
}
