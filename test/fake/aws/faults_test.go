package fake

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
)

func TestInjectedFailures(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	r := rds.NewFromConfig(cfg)
	in := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.t4g.micro"), Engine: aws.String("mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"), AllocatedStorage: aws.Int32(20)}

	// typed query-protocol error, once
	srv.InjectFailure("rds", "CreateDBInstance", "InsufficientDBInstanceCapacity", "no capacity", 1)
	_, err := r.CreateDBInstance(ctx, in)
	var capErr *rdstypes.InsufficientDBInstanceCapacityFault
	if !errors.As(err, &capErr) || capErr.ErrorMessage() != "no capacity" {
		t.Fatalf("want InsufficientDBInstanceCapacityFault, got %T %v", err, err)
	}
	must(r.CreateDBInstance(ctx, in))

	// always failing, unknown code -> generic API error with that code
	srv.InjectFailure("ecs", "CreateCluster", "AccessDeniedException", "not allowed", -1)
	c := ecs.NewFromConfig(cfg)
	for i := 0; i < 2; i++ {
		_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("x")})
		var ad *ecstypes.AccessDeniedException
		if !errors.As(err, &ad) {
			t.Fatalf("want AccessDeniedException, got %T %v", err, err)
		}
	}
	srv.InjectFailure("ecs", "CreateCluster", "", "", 0)

	// a throttling error is retried by the SDK itself
	srv.InjectFailure("ecs", "*", "ThrottlingException", "Rate exceeded", 1)
	must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("x")}))
	calls := srv.CallsTo("ecs", "CreateCluster")
	last := calls[len(calls)-2:]
	if last[0].ErrorCode != "ThrottlingException" || last[1].ErrorCode != "" {
		t.Fatalf("calls: %+v", calls)
	}

	// a 5xx server error
	srv.InjectFailure("ecs", "DescribeClusters", "ServerException", "boom", -1)
	_, err = c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"x"}}, func(o *ecs.Options) { o.RetryMaxAttempts = 1 })
	var se *ecstypes.ServerException
	var re *smithy.GenericAPIError
	if !errors.As(err, &se) || errors.As(err, &re) {
		t.Fatalf("want ServerException, got %T %v", err, err)
	}
	srv.ClearFaults()
	must(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"x"}}))

	// unknown operations are reported, not crashed on
	if _, err := c.CreateExpressGatewayService(ctx, &ecs.CreateExpressGatewayServiceInput{ExecutionRoleArn: aws.String("a"), InfrastructureRoleArn: aws.String("b"),
		PrimaryContainer: &ecstypes.ExpressGatewayContainer{Image: aws.String("x")}}); apiCode(err) != "UnknownOperationException" {
		t.Fatalf("want UnknownOperationException, got %v", err)
	}
}

// TestInjectedLatencyConcurrency proves independent creations overlap: a
// cluster that takes 400ms and a database that takes 600ms, started
// together, are both done in about 600ms.
func TestInjectedLatencyConcurrency(t *testing.T) {
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	srv.InjectLatency("ecs", "CreateCluster", 400*time.Millisecond)
	srv.InjectLatency("rds", "CreateDBInstance", 600*time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, errs[0] = ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	}()
	go func() {
		defer wg.Done()
		_, errs[1] = rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("d"), DBInstanceClass: aws.String("db.t4g.micro"),
			Engine: aws.String("postgres"), MasterUsername: aws.String("u"), MasterUserPassword: aws.String("password123"), AllocatedStorage: aws.Int32(20)})
	}()
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if took < 600*time.Millisecond || took > 950*time.Millisecond {
		t.Fatalf("took %s; want ~600ms (concurrent), not 1s (sequential)", took)
	}
	cc := srv.CallsTo("ecs", "CreateCluster")[0]
	dc := srv.CallsTo("rds", "CreateDBInstance")[0]
	if cc.Duration < 400*time.Millisecond || dc.Duration < 600*time.Millisecond || absDur(cc.Time.Sub(dc.Time)) > 200*time.Millisecond {
		t.Fatalf("calls: %+v %+v", cc, dc)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestInventoryHTTPAndControl(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	must(ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("inv"), Tags: []ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	resp := must(http.Get(srv.URL() + "/_fake/inventory"))
	var inv []Resource
	if err := json.NewDecoder(resp.Body).Decode(&inv); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if len(inv) != 1 || inv[0].Type != "cluster" || inv[0].Name != "inv" || inv[0].Tags["k"] != "v" || inv[0].Region != "us-east-1" {
		t.Fatalf("inventory: %+v", inv)
	}
	body := `{"service":"ecs","action":"DeleteCluster","code":"ClusterContainsServicesException","message":"nope","times":1}`
	resp = must(http.Post(srv.URL()+"/_fake/fault", "application/json", strings.NewReader(body)))
	_ = resp.Body.Close()
	_, err := ecs.NewFromConfig(cfg).DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("inv")})
	var cs *ecstypes.ClusterContainsServicesException
	if !errors.As(err, &cs) {
		t.Fatalf("want injected ClusterContainsServicesException, got %v", err)
	}
	must(ecs.NewFromConfig(cfg).DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("inv")}))
	resp = must(http.Get(srv.URL() + "/_fake/calls"))
	var calls []Call
	_ = json.NewDecoder(resp.Body).Decode(&calls)
	_ = resp.Body.Close()
	if len(calls) != 3 || calls[1].ErrorCode != "ClusterContainsServicesException" {
		t.Fatalf("calls: %+v", calls)
	}
	assertEmptyInventory(t, srv)
}
