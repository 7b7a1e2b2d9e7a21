package fake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestEnvEndpoint configures the SDK the way the cld binary will be run in
// end-to-end tests: only environment variables, AWS_ENDPOINT_URL included.
func TestEnvEndpoint(t *testing.T) {
	defer catch(t)
	srv, _ := startFake(t, fastOpts())
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	ctx := testCtx(t)
	cfg := must(config.LoadDefaultConfig(context.Background()))
	id := must(sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(id.Account) != DefaultAccountID {
		t.Fatalf("identity %+v", id)
	}
	cl := must(ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("env")}))
	if aws.ToString(cl.Cluster.ClusterArn) != "arn:aws:ecs:eu-west-1:123456789012:cluster/env" {
		t.Fatalf("arn %q", aws.ToString(cl.Cluster.ClusterArn))
	}
	subs := must(ec2.NewFromConfig(cfg).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}))
	if len(subs.Subnets) != 3 || aws.ToString(subs.Subnets[0].AvailabilityZone) != "eu-west-1a" {
		t.Fatalf("subnets %+v", subs.Subnets)
	}
	must(rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}))
	inv := srv.Inventory()
	if len(inv) != 1 || inv[0].Region != "eu-west-1" {
		t.Fatalf("inventory %+v", inv)
	}
}
