package fake

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestSSMLifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := ssm.NewFromConfig(cfg)
	pub := must(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended",
		"/aws/service/nope"}}))
	if len(pub.Parameters) != 2 || len(pub.InvalidParameters) != 1 || !strings.Contains(aws.ToString(pub.Parameters[1].Value), `"image_id":"ami-`) {
		t.Fatalf("public params %+v", pub)
	}
	must(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/cld/demo/db-password"), Value: aws.String("s3cret-value"), Type: ssmtypes.ParameterTypeSecureString,
		Tags: []ssmtypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}))
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/cld/demo/db-password"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeSecureString})
	var ae *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &ae) {
		t.Fatalf("want ParameterAlreadyExists, got %v", err)
	}
	enc := must(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cld/demo/db-password")}))
	if strings.Contains(aws.ToString(enc.Parameter.Value), "s3cret") {
		t.Fatal("SecureString returned in clear without WithDecryption")
	}
	dec := must(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cld/demo/db-password"), WithDecryption: aws.Bool(true)}))
	if aws.ToString(dec.Parameter.Value) != "s3cret-value" || dec.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Fatalf("decrypted %+v", dec.Parameter)
	}
	byArn := must(c.GetParameter(ctx, &ssm.GetParameterInput{Name: dec.Parameter.ARN, WithDecryption: aws.Bool(true)}))
	if aws.ToString(byArn.Parameter.Value) != "s3cret-value" {
		t.Fatalf("by arn %+v", byArn.Parameter)
	}
	if len(srv.Inventory()) != 1 {
		t.Fatalf("inventory %+v", srv.Inventory())
	}
	must(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/cld/demo/db-password")}))
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cld/demo/db-password")})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("want ParameterNotFound, got %v", err)
	}
	assertEmptyInventory(t, srv)
}

func TestSecretsManagerLifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := sm.NewFromConfig(cfg)
	cr := must(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cld/demo/db"), SecretString: aws.String(`{"password":"p"}`),
		Tags: []smtypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}))
	if !strings.HasPrefix(aws.ToString(cr.ARN), "arn:aws:secretsmanager:us-east-1:123456789012:secret:cld/demo/db-") {
		t.Fatalf("arn %q", aws.ToString(cr.ARN))
	}
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cld/demo/db"), SecretString: aws.String("x")})
	var re *smtypes.ResourceExistsException
	if !errors.As(err, &re) {
		t.Fatalf("want ResourceExistsException, got %v", err)
	}
	v := must(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: cr.ARN}))
	if aws.ToString(v.SecretString) != `{"password":"p"}` || v.VersionStages[0] != "AWSCURRENT" {
		t.Fatalf("value %+v", v)
	}
	must(c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("cld/demo/db"), Tags: []smtypes.Tag{{Key: aws.String("b"), Value: aws.String("2")}}}))
	d := must(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("cld/demo/db")}))
	if len(d.Tags) != 2 {
		t.Fatalf("tags %+v", d.Tags)
	}
	must(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: cr.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)}))
	_, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: cr.ARN})
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
	// recoverable deletion keeps the secret (and the name) until the window ends
	must(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("other"), SecretString: aws.String("x")}))
	must(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("other"), RecoveryWindowInDays: aws.Int64(7)}))
	if inv := srv.Inventory(); len(inv) != 1 || inv[0].Status != "PendingDeletion" {
		t.Fatalf("inventory %+v", inv)
	}
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("other"), SecretString: aws.String("x")})
	var ir *smtypes.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Fatalf("want InvalidRequestException, got %v", err)
	}
	must(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("other"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
	assertEmptyInventory(t, srv)
}

func TestLogsLifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := logs.NewFromConfig(cfg)
	must(c.CreateLogGroup(ctx, &logs.CreateLogGroupInput{LogGroupName: aws.String("/cld/app"), Tags: map[string]string{"cld:app": "demo"}}))
	_, err := c.CreateLogGroup(ctx, &logs.CreateLogGroupInput{LogGroupName: aws.String("/cld/app")})
	var ae *logstypes.ResourceAlreadyExistsException
	if !errors.As(err, &ae) {
		t.Fatalf("want ResourceAlreadyExistsException, got %v", err)
	}
	if _, err := c.PutRetentionPolicy(ctx, &logs.PutRetentionPolicyInput{LogGroupName: aws.String("/cld/app"), RetentionInDays: aws.Int32(8)}); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("want InvalidParameterException, got %v", err)
	}
	must(c.PutRetentionPolicy(ctx, &logs.PutRetentionPolicyInput{LogGroupName: aws.String("/cld/app"), RetentionInDays: aws.Int32(14)}))
	g := must(c.DescribeLogGroups(ctx, &logs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/cld/")}))
	if len(g.LogGroups) != 1 || aws.ToInt32(g.LogGroups[0].RetentionInDays) != 14 || !strings.HasSuffix(aws.ToString(g.LogGroups[0].Arn), ":*") {
		t.Fatalf("groups %+v", g.LogGroups)
	}
	must(c.TagResource(ctx, &logs.TagResourceInput{ResourceArn: g.LogGroups[0].LogGroupArn, Tags: map[string]string{"x": "y"}}))
	tags := must(c.ListTagsForResource(ctx, &logs.ListTagsForResourceInput{ResourceArn: g.LogGroups[0].LogGroupArn}))
	if len(tags.Tags) != 2 {
		t.Fatalf("tags %+v", tags.Tags)
	}
	must(c.CreateLogStream(ctx, &logs.CreateLogStreamInput{LogGroupName: aws.String("/cld/app"), LogStreamName: aws.String("s1")}))
	now := time.Now().UnixMilli()
	must(c.PutLogEvents(ctx, &logs.PutLogEventsInput{LogGroupName: aws.String("/cld/app"), LogStreamName: aws.String("s1"), LogEvents: []logstypes.InputLogEvent{
		{Timestamp: aws.Int64(now), Message: aws.String("hello world")}, {Timestamp: aws.Int64(now + 1), Message: aws.String("second line")}}}))
	if err := srv.PutLogEvents("us-east-1", "/cld/app", "s2", "from the hook", "ERROR oops"); err != nil {
		t.Fatal(err)
	}
	// paginate GetLogEvents one event at a time until the token repeats
	p := logs.NewGetLogEventsPaginator(c, &logs.GetLogEventsInput{LogGroupName: aws.String("/cld/app"), LogStreamName: aws.String("s1"), StartFromHead: aws.Bool(true), Limit: aws.Int32(1)},
		func(o *logs.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	var got []string
	for i := 0; p.HasMorePages() && i < 10; i++ {
		page := must(p.NextPage(ctx))
		for _, e := range page.Events {
			got = append(got, aws.ToString(e.Message))
		}
	}
	if strings.Join(got, "|") != "hello world|second line" {
		t.Fatalf("paged events %q", got)
	}
	f := must(c.FilterLogEvents(ctx, &logs.FilterLogEventsInput{LogGroupName: aws.String("/cld/app"), FilterPattern: aws.String("?ERROR ?hello")}))
	if len(f.Events) != 2 {
		t.Fatalf("filtered %+v", f.Events)
	}
	if _, err := c.PutLogEvents(ctx, &logs.PutLogEventsInput{LogGroupName: aws.String("/cld/app"), LogStreamName: aws.String("nope"),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("x")}}}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
	must(c.DeleteLogGroup(ctx, &logs.DeleteLogGroupInput{LogGroupName: aws.String("/cld/app")}))
	var nf *logstypes.ResourceNotFoundException
	if _, err := c.DeleteLogGroup(ctx, &logs.DeleteLogGroupInput{LogGroupName: aws.String("/cld/app")}); !errors.As(err, &nf) {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
	assertEmptyInventory(t, srv)
}

func TestIAMLifecycle(t *testing.T) {
	defer catch(t)
	srv, cfg := startFake(t, fastOpts())
	ctx := testCtx(t)
	c := iam.NewFromConfig(cfg)
	r := must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cld-role"), AssumeRolePolicyDocument: aws.String(ec2AssumeRole),
		Tags: []iamtypes.Tag{{Key: aws.String("cld:app"), Value: aws.String("demo")}}}))
	if aws.ToString(r.Role.Arn) != "arn:aws:iam::123456789012:role/cld-role" || !strings.HasPrefix(aws.ToString(r.Role.RoleId), "AROA") {
		t.Fatalf("role %+v", r.Role)
	}
	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("cld-role")}))
	if doc, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); doc != ec2AssumeRole {
		t.Fatalf("assume role policy %q", aws.ToString(got.Role.AssumeRolePolicyDocument))
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cld-role"), AssumeRolePolicyDocument: aws.String(ec2AssumeRole)})
	var ee *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &ee) {
		t.Fatalf("want EntityAlreadyExistsException, got %v", err)
	}
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("cld-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")}))
	ap := must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("cld-role")}))
	if len(ap.AttachedPolicies) != 1 || aws.ToString(ap.AttachedPolicies[0].PolicyName) != "AmazonSSMReadOnlyAccess" {
		t.Fatalf("attached %+v", ap.AttachedPolicies)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("cld-role")})
	var dc *iamtypes.DeleteConflictException
	if !errors.As(err, &dc) {
		t.Fatalf("want DeleteConflictException, got %v", err)
	}
	must(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("cld-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")}))
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("cld-role")}))
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("cld-role")})
	var ns *iamtypes.NoSuchEntityException
	if !errors.As(err, &ns) {
		t.Fatalf("want NoSuchEntityException, got %v", err)
	}
	assertEmptyInventory(t, srv)
}
