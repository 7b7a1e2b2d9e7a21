package fake

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSTS(t *testing.T) {
	_, cfg := startFake(t, fastOpts())
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "123456789012" || !strings.HasPrefix(aws.ToString(out.Arn), "arn:aws:iam::123456789012:") {
		t.Fatalf("unexpected identity %+v", out)
	}
}

func TestEC2Lifecycle(t *testing.T) {
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := ec2.NewFromConfig(cfg)

	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 1 || !aws.ToBool(vpcs.Vpcs[0].IsDefault) || !strings.HasPrefix(aws.ToString(vpcs.Vpcs[0].VpcId), "vpc-") {
		t.Fatalf("default vpc: %+v", vpcs.Vpcs)
	}
	vpcID := aws.ToString(vpcs.Vpcs[0].VpcId)
	subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	azs := map[string]bool{}
	for _, s := range subs.Subnets {
		azs[aws.ToString(s.AvailabilityZone)] = true
	}
	if len(subs.Subnets) != 3 || len(azs) != 3 {
		t.Fatalf("default subnets: %+v", subs.Subnets)
	}

	web, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: aws.String(vpcID),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("db"), Description: aws.String("db"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("db"), Description: aws.String("db")}); apiCode(err) != "InvalidGroup.Duplicate" {
		t.Fatalf("want InvalidGroup.Duplicate, got %v", err)
	}
	perm := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	ar, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: web.GroupId, IpPermissions: []ec2types.IpPermission{perm}})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(ar.Return) || len(ar.SecurityGroupRules) != 1 || !strings.HasPrefix(aws.ToString(ar.SecurityGroupRules[0].SecurityGroupRuleId), "sgr-") {
		t.Fatalf("authorize: %+v", ar)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: web.GroupId, IpPermissions: []ec2types.IpPermission{perm}})
	if apiCode(err) != "InvalidPermission.Duplicate" {
		t.Fatalf("want InvalidPermission.Duplicate, got %v", err)
	}
	// db allows 5432 from web
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: db.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: web.GroupId}}}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:cld:app"), Values: []string{"demo"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SecurityGroups) != 2 {
		t.Fatalf("tag filter: %+v", d.SecurityGroups)
	}
	for _, g := range d.SecurityGroups {
		if aws.ToString(g.GroupId) == aws.ToString(db.GroupId) {
			if len(g.IpPermissions) != 1 || len(g.IpPermissions[0].UserIdGroupPairs) != 1 || aws.ToString(g.IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(web.GroupId) {
				t.Fatalf("db perms: %+v", g.IpPermissions)
			}
			if len(g.Tags) != 1 || aws.ToString(g.Tags[0].Key) != "cld:app" {
				t.Fatalf("tags: %+v", g.Tags)
			}
		}
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0000000000000000"}})
	if apiCode(err) != "InvalidGroup.NotFound" {
		t.Fatalf("want InvalidGroup.NotFound, got %v", err)
	}
	// web is referenced by db's rule
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: web.GroupId})
	if apiCode(err) != "DependencyViolation" {
		t.Fatalf("want DependencyViolation, got %v", err)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: db.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: web.GroupId}}}}}); err != nil {
		t.Fatal(err)
	}

	// key pair
	kp, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("cld-demo"), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeKeyPair, Tags: []ec2types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(aws.ToString(kp.KeyMaterial)))
	if blk == nil {
		t.Fatalf("key material is not PEM: %q", aws.ToString(kp.KeyMaterial))
	}
	if _, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("cld-demo")}); apiCode(err) != "InvalidKeyPair.Duplicate" {
		t.Fatalf("want InvalidKeyPair.Duplicate, got %v", err)
	}
	kps, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"cld-demo"}})
	if err != nil || len(kps.KeyPairs) != 1 || aws.ToString(kps.KeyPairs[0].KeyFingerprint) != aws.ToString(kp.KeyFingerprint) {
		t.Fatalf("describe key pairs: %v %+v", err, kps)
	}
	if len(srv.Inventory()) != 3 {
		t.Fatalf("inventory: %+v", srv.Inventory())
	}
	for _, id := range []*string{web.GroupId, db.GroupId} {
		if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("cld-demo")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"cld-demo"}})
	if apiCode(err) != "InvalidKeyPair.NotFound" {
		t.Fatalf("want InvalidKeyPair.NotFound, got %v", err)
	}
	assertEmptyInventory(t, srv)
}

func TestRDSLifecycle(t *testing.T) {
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := rds.NewFromConfig(cfg)
	e := ec2.NewFromConfig(cfg)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("db"), Description: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	in := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("cld-db"), DBInstanceClass: aws.String("db.t4g.micro"), Engine: aws.String("postgres"),
		MasterUsername: aws.String("cld"), MasterUserPassword: aws.String("s3cretpassw0rd"), AllocatedStorage: aws.Int32(20),
		VpcSecurityGroupIds: []string{aws.ToString(sg.GroupId)}, Tags: []rdstypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}
	out, err := c.CreateDBInstance(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DBInstance.DBInstanceStatus) != "creating" || out.DBInstance.Endpoint != nil {
		t.Fatalf("create: %+v", out.DBInstance)
	}
	_, err = c.CreateDBInstance(ctx, in)
	var exists *rdstypes.DBInstanceAlreadyExistsFault
	if !errors.As(err, &exists) {
		t.Fatalf("want DBInstanceAlreadyExistsFault, got %T %v", err, err)
	}
	// SG in use by the DB
	if _, err := e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId}); apiCode(err) != "DependencyViolation" {
		t.Fatalf("want DependencyViolation, got %v", err)
	}
	w := rds.NewDBInstanceAvailableWaiter(c, func(o *rds.DBInstanceAvailableWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 50 * time.Millisecond
	})
	if err := w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("cld-db")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("cld-db")})
	if err != nil {
		t.Fatal(err)
	}
	db := d.DBInstances[0]
	if db.Endpoint == nil || aws.ToInt32(db.Endpoint.Port) != 5432 || !strings.HasPrefix(aws.ToString(db.Endpoint.Address), "cld-db.") || !strings.HasSuffix(aws.ToString(db.Endpoint.Address), ".us-east-1.rds.amazonaws.com") {
		t.Fatalf("endpoint: %+v", db.Endpoint)
	}
	if len(db.VpcSecurityGroups) != 1 || aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId) != aws.ToString(sg.GroupId) {
		t.Fatalf("sgs: %+v", db.VpcSecurityGroups)
	}
	if len(db.TagList) != 1 || aws.ToString(db.TagList[0].Value) != "demo" {
		t.Fatalf("tags: %+v", db.TagList)
	}
	if pw, _ := srv.DBPassword("us-east-1", "cld-db"); pw != "s3cretpassw0rd" {
		t.Fatalf("password %q", pw)
	}
	if _, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("cld-db")}); apiCode(err) != "InvalidParameterCombination" {
		t.Fatalf("want InvalidParameterCombination, got %v", err)
	}
	del, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("cld-db"), SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.DBInstance.DBInstanceStatus) != "deleting" {
		t.Fatalf("delete status %v", aws.ToString(del.DBInstance.DBInstanceStatus))
	}
	if len(srv.Inventory()) != 2 { // sg + deleting db
		t.Fatalf("inventory: %+v", srv.Inventory())
	}
	dw := rds.NewDBInstanceDeletedWaiter(c, func(o *rds.DBInstanceDeletedWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 50 * time.Millisecond
	})
	if err := dw.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("cld-db")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("cld-db")})
	var nf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("want DBInstanceNotFoundFault, got %T %v", err, err)
	}
	if _, err := e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId}); err != nil {
		t.Fatal(err)
	}
	assertEmptyInventory(t, srv)
}
