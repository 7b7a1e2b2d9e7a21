package aws

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
)

// RDS defaults: a current small burstable class, the engine's default port.
const (
	defaultDBClass  = "db.t3.micro"
	defaultStorage  = 20
	defaultDBName   = "app"
	defaultDBUser   = "cld"
	defaultDBEngine = "mysql"
	passwordLength  = 24
	rdsReadyTimeout = 40 * time.Minute
)

var enginePorts = map[string]int32{"mysql": 3306, "postgres": 5432}

// retiredClasses maps instance classes RDS no longer offers (the original
// tool's examples use db.m1.medium) to a current class of the same size.
var retiredClasses = map[string]string{
	"db.t1.micro": "db.t3.micro", "db.m1.small": "db.t3.small", "db.m1.medium": "db.t3.medium", "db.m1.large": "db.m5.large",
	"db.m1.xlarge": "db.m5.xlarge", "db.m2.xlarge": "db.r5.large", "db.m2.2xlarge": "db.r5.xlarge", "db.m2.4xlarge": "db.r5.2xlarge",
	"db.m3.medium": "db.t3.medium", "db.m3.large": "db.m5.large", "db.m3.xlarge": "db.m5.xlarge", "db.m3.2xlarge": "db.m5.2xlarge",
	"db.t2.micro": "db.t3.micro", "db.t2.small": "db.t3.small", "db.t2.medium": "db.t3.medium", "db.t2.large": "db.t3.large",
}

// rdsSpec is the desired state of an RDS instance.
type rdsSpec struct {
	base
	Engine        string `json:"engine"`
	Version       string `json:"version,omitempty"`
	Class         string `json:"class"`
	Storage       int32  `json:"storage"`
	DBName        string `json:"dbname"`
	Username      string `json:"username"`
	Public        bool   `json:"public,omitempty"`
	SecurityGroup string `json:"security_group"`         // name of its group
	SubnetGroup   string `json:"subnet_group,omitempty"` // name of its DB subnet group
}

// PlanResources plans, per rds resource: a security group admitting nobody,
// a rule admitting the cluster's group on the engine port (when the
// environment has an ECS cluster), a rule for the policy's CIDR, a DB subnet
// group when the environment names its VPC or subnets, and the instance. The
// instance waits only for its group: it is created while the cluster is.
func (t *Target) PlanResources(p provider.EnvPlan, res []spec.Resource, cluster []*provider.Element) ([]*provider.Element, error) {
	var set Settings
	var err error
	var vpc *provider.Element
	clusterSG := ""
	for _, el := range cluster {
		switch el.Key {
		case "vpc":
			vpc = el
			var vs vpcSpec
			if err := el.DecodeSpec(&vs); err != nil {
				return nil, err
			}
			set = vs.AWS
		case "sg/cluster":
			clusterSG = el.Name
		}
	}
	var out []*provider.Element
	if vpc == nil {
		region := ""
		if d := p.Spec.AppDeployment; d != nil && d.Target == spec.TargetAWS {
			region = d.Region
		}
		if set, err = ResolveSettings(region, p.ClientEnv); err != nil {
			return nil, err
		}
		vpc = vpcElement(set, p.Spec.AppDeployment)
		out = append(out, vpc)
	}
	var vs vpcSpec
	vpc.DecodeSpec(&vs)
	custom := vs.VPC != "" || len(vs.Subnets) > 0
	count := map[string]int{}
	for _, r := range res {
		count[r.Type]++
	}
	seen := map[string]int{}
	for _, r := range res {
		if r.Type != "rds" {
			return nil, fmt.Errorf("%s: the aws target makes rds resources, not %q", r.Pos, r.Type)
		}
		seen[r.Type]++
		suffix := r.Type
		if count[r.Type] > 1 {
			suffix = fmt.Sprintf("%s-%d", r.Type, seen[r.Type])
		}
		cfg := r.Configuration
		rs := rdsSpec{base: base{set}, Engine: or(cfg["engine"], defaultDBEngine), Version: cfg["version"], Class: or(cfg["flavor"], defaultDBClass),
			Storage: defaultStorage, DBName: or(cfg["dbname"], defaultDBName), Username: or(cfg["username"], defaultDBUser)}
		if _, ok := enginePorts[rs.Engine]; !ok {
			return nil, fmt.Errorf("%s: engine must be mysql or postgres, got %q", r.Pos, rs.Engine)
		}
		if !strings.HasPrefix(rs.Class, "db.") {
			return nil, fmt.Errorf("%s: flavor %q is not an RDS instance class (such as %s)", r.Pos, rs.Class, defaultDBClass)
		}
		if c, ok := retiredClasses[rs.Class]; ok {
			rs.Class = c
		}
		if s := cfg["storage"]; s != "" {
			n, _ := strconv.Atoi(s)
			rs.Storage = int32(max(n, 20))
		}
		switch strings.ToLower(rs.Username) {
		case "admin", "rdsadmin", "root", "postgres", "mysql", "rdsrepladmin":
			if !(rs.Engine == "mysql" && rs.Username == "admin") {
				return nil, fmt.Errorf("%s: username %q is reserved by %s on RDS", r.Pos, rs.Username, rs.Engine)
			}
		}
		port := enginePorts[rs.Engine]
		name := dbIdentifier(p.Base + "-" + suffix)
		sgName := p.Base + "-" + suffix
		rs.SecurityGroup = sgName
		sgKey := suffix + "/sg"
		out = append(out, &provider.Element{
			Key: sgKey, Kind: KindSecurityGroup, Target: Name, Name: sgName, Deps: []string{"vpc"},
			Spec: provider.MustSpec(sgSpec{base: base{set}, Description: fmt.Sprintf("cld %s: %s database %s (admits only what its rules say)", p.Env, rs.Engine, name)}),
		})
		deps := []string{sgKey, "vpc"}
		if clusterSG != "" {
			out = append(out, &provider.Element{
				Key: suffix + "/rule/cluster", Kind: KindSGRule, Target: Name, Name: sgName + "-from-cluster", Deps: []string{sgKey, "sg/cluster"},
				Spec: provider.MustSpec(ruleSpec{base: base{set}, Group: sgName, Rule: ipRule{Proto: "tcp", From: port, To: port, SourceGroup: clusterSG, Description: "cld: the environment's ECS cluster"}}),
			})
		}
		if pol := r.Policy; pol != nil {
			cidr := pol.Access
			if cidr == "open" {
				cidr = "0.0.0.0/0"
				rs.Public = true
			} else if !privateCIDR(cidr) {
				rs.Public = true
			}
			out = append(out, &provider.Element{
				Key: suffix + "/rule/policy", Kind: KindSGRule, Target: Name, Name: sgName + "-policy", Deps: []string{sgKey},
				Spec: provider.MustSpec(ruleSpec{base: base{set}, Group: sgName, Rule: ipRule{Proto: "tcp", From: port, To: port, CIDR: cidr, Description: "cld: policy access " + pol.Access}}),
			})
		}
		if custom {
			rs.SubnetGroup = name
			out = append(out, &provider.Element{
				Key: suffix + "/subnets", Kind: KindDBSubnetGroup, Target: Name, Name: name, Deps: []string{"vpc"},
				Spec: provider.MustSpec(base{set}),
			})
			deps = append(deps, suffix+"/subnets")
		}
		out = append(out, &provider.Element{
			Key: suffix, Kind: KindRDS, Target: Name, Name: name, Deps: deps, BindType: "RDS",
			Spec:   provider.MustSpec(rs),
			Inputs: map[string]string{"password": provider.GeneratePassword(passwordLength)},
		})
	}
	return out, nil
}

// privateCIDR reports whether a CIDR is in private address space (a VPN or
// peered network reaches it without a public endpoint).
func privateCIDR(cidr string) bool {
	ip, _, err := net.ParseCIDR(cidr)
	return err == nil && ip.IsPrivate()
}

// dbIdentifier makes a valid DB instance identifier: letters, digits and
// single hyphens, starting with a letter, at most 63.
func dbIdentifier(s string) string {
	s = strings.ToLower(s)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rdsHandler manages an RDS instance. The master password was generated at
// plan time (Element.Inputs), so a resumed create uses the same one.
type rdsHandler struct{ t *Target }

var _ provider.Waiter = rdsHandler{}

// ReadyTimeout: RDS takes minutes to create (and to delete).
func (rdsHandler) ReadyTimeout(*provider.Element) time.Duration { return rdsReadyTimeout }

func (h rdsHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var rs rdsSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(req.Element.Name)})
	if hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if len(out.DBInstances) == 0 {
		return provider.Observation{}, nil
	}
	db := out.DBInstances[0]
	status := aws.ToString(db.DBInstanceStatus)
	// whose it is: a database of the same name made by someone else is
	// neither adopted nor deleted
	tags := map[string]string{}
	for _, t := range db.TagList {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	obs := provider.Observation{Exists: true, Ref: aws.ToString(db.DBInstanceArn), Labels: knownTags(tags),
		Outputs: map[string]string{
			"MasterUsername":       aws.ToString(db.MasterUsername),
			"DBName":               rs.DBName,
			"DBInstanceIdentifier": aws.ToString(db.DBInstanceIdentifier),
			"Engine":               aws.ToString(db.Engine),
			"EngineVersion":        aws.ToString(db.EngineVersion),
			"DBInstanceClass":      aws.ToString(db.DBInstanceClass),
			"Port":                 fmt.Sprint(enginePorts[rs.Engine]),
			"Region":               rs.AWS.Region,
		},
		Secrets: map[string]string{"MasterUserPassword": req.Element.Inputs["password"]},
	}
	if db.Endpoint != nil {
		obs.Outputs["Address"] = aws.ToString(db.Endpoint.Address)
		obs.Outputs["Port"] = fmt.Sprint(aws.ToInt32(db.Endpoint.Port))
	}
	switch status {
	case "available":
		obs.Ready = obs.Outputs["Address"] != ""
	case "failed", "incompatible-parameters", "incompatible-network", "incompatible-restore", "storage-full", "inaccessible-encryption-credentials":
		obs.Failed = fmt.Sprintf("RDS instance %s is %s", req.Element.Name, status)
	default:
		obs.Progress = status
	}
	return obs, nil
}

func (h rdsHandler) Create(ctx context.Context, req *provider.Request) error {
	var rs rdsSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return err
	}
	pw := req.Element.Inputs["password"]
	if len(pw) < 8 {
		return provider.Permanent(fmt.Errorf("RDS instance %s: no generated master password in its intent", req.Element.Name))
	}
	sg := req.Deps[req.Element.Key+"/sg"]
	if sg == nil || sg.Outputs["GroupId"] == "" {
		found, err := findGroup(ctx, c, rs.SecurityGroup, "")
		if err != nil {
			return err
		}
		if found == nil {
			return fmt.Errorf("security group %s not found", rs.SecurityGroup)
		}
		sg = &provider.Element{Outputs: map[string]string{"GroupId": aws.ToString(found.GroupId)}}
	}
	in := &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(req.Element.Name), DBInstanceClass: aws.String(rs.Class), Engine: aws.String(rs.Engine),
		AllocatedStorage: aws.Int32(rs.Storage), DBName: aws.String(rs.DBName), MasterUsername: aws.String(rs.Username),
		MasterUserPassword: aws.String(pw), VpcSecurityGroupIds: []string{sg.Outputs["GroupId"]}, PubliclyAccessible: aws.Bool(rs.Public),
		StorageType: aws.String("gp3"), Port: aws.Int32(enginePorts[rs.Engine]), CopyTagsToSnapshot: aws.Bool(true), Tags: rdsTags(req.Element),
	}
	if rs.Version != "" {
		in.EngineVersion = aws.String(rs.Version)
	}
	if rs.SubnetGroup != "" {
		in.DBSubnetGroupName = aws.String(rs.SubnetGroup)
	}
	req.Say("creating %s %s (%s, %d GiB) in %s; this takes minutes", rs.Engine, req.Element.Name, rs.Class, rs.Storage, rs.AWS.Region)
	_, err = c.RDS().CreateDBInstance(ctx, in)
	if hasCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault") {
		return nil
	}
	return classify(err)
}

func (h rdsHandler) Delete(ctx context.Context, req *provider.Request) error {
	var rs rdsSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return err
	}
	_, err = c.RDS().DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier: aws.String(req.Element.Name), SkipFinalSnapshot: aws.Bool(true), DeleteAutomatedBackups: aws.Bool(true),
	})
	switch {
	case err == nil:
		req.Say("deleting RDS instance %s; this takes minutes", req.Element.Name)
		return nil
	case hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
		return nil
	case hasCode(err, "InvalidDBInstanceState") && strings.Contains(err.Error(), "already being deleted"):
		return nil
	}
	return classify(err)
}

// dbSubnetGroupHandler manages the DB subnet group of an environment that
// names its VPC or subnets (the default VPC needs none).
type dbSubnetGroupHandler struct{ t *Target }

func (h dbSubnetGroupHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.RDS().DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(req.Element.Name)})
	if hasCode(err, "DBSubnetGroupNotFoundFault") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	if len(out.DBSubnetGroups) == 0 {
		return provider.Observation{}, nil
	}
	g := out.DBSubnetGroups[0]
	return provider.Observation{Exists: true, Ready: true, Ref: or(aws.ToString(g.DBSubnetGroupArn), req.Element.Name),
		Outputs: map[string]string{"DBSubnetGroupName": req.Element.Name, "VpcId": aws.ToString(g.VpcId)}}, nil
}

func (h dbSubnetGroupHandler) Create(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	subnets, err := depSubnets(ctx, c, req)
	if err != nil {
		return err
	}
	_, err = c.RDS().CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
		DBSubnetGroupName: aws.String(req.Element.Name), DBSubnetGroupDescription: aws.String("cld " + req.Element.Labels[provider.LabelEnv]),
		SubnetIds: subnets, Tags: rdsTags(req.Element),
	})
	if hasCode(err, "DBSubnetGroupAlreadyExists", "DBSubnetGroupAlreadyExistsFault") {
		return nil
	}
	return classify(err)
}

func (h dbSubnetGroupHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s base
	c, err := h.t.decode(ctx, req.Element, &s)
	if err != nil {
		return err
	}
	_, err = c.RDS().DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String(req.Element.Name)})
	if hasCode(err, "DBSubnetGroupNotFoundFault") {
		return nil
	}
	return classify(err)
}

func rdsTags(el *provider.Element) []rdstypes.Tag {
	m := tagMap(el)
	var out []rdstypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, rdstypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
