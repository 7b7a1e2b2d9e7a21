package fake

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRawProtocols checks the wire shapes directly (unsigned requests are
// routed by X-Amz-Target prefix or API Version).
func TestRawProtocols(t *testing.T) {
	srv, _ := startFake(t, fastOpts())
	do := func(target, ctype, body string, auth string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", srv.URL()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp, string(b)
	}
	// JSON 1.1 error
	resp, body := do("AmazonEC2ContainerServiceV20141113.DeleteCluster", "application/x-amz-json-1.1", `{"cluster":"nope"}`, "")
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "ClusterNotFoundException" || !strings.Contains(body, `"__type":"ClusterNotFoundException"`) {
		t.Fatalf("json error: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// awsQuery error with the modeled status code
	resp, body = do("", "application/x-www-form-urlencoded", "Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=nope", "")
	if resp.StatusCode != 404 || !strings.Contains(body, "<Code>DBInstanceNotFound</Code>") || !strings.Contains(body, "<ErrorResponse") {
		t.Fatalf("query error: %d %s", resp.StatusCode, body)
	}
	// ec2Query error shape
	resp, body = do("", "application/x-www-form-urlencoded", "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-nope",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-central-1/ec2/aws4_request, SignedHeaders=host, Signature=x")
	if resp.StatusCode != 400 || !strings.Contains(body, "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>") || !strings.Contains(body, "<RequestID>") {
		t.Fatalf("ec2 error: %d %s", resp.StatusCode, body)
	}
	// ec2Query success shape: no Result wrapper, requestId first
	_, body = do("", "application/x-www-form-urlencoded", "Action=DescribeVpcs&Version=2016-11-15",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-central-1/ec2/aws4_request, SignedHeaders=host, Signature=x")
	if !strings.Contains(body, `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>`) || !strings.Contains(body, "<vpcSet><item><vpcId>vpc-") {
		t.Fatalf("ec2 body: %s", body)
	}
	// a query service spoken to in JSON 1.0 (awsQueryCompatible style)
	resp, body = do("AmazonRDSv19.DescribeDBInstances", "application/x-amz-json-1.0", `{"DBInstanceIdentifier":"nope"}`,
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=x")
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Query-Error") != "DBInstanceNotFound;Sender" || !strings.Contains(body, `"__type":"DBInstanceNotFoundFault"`) {
		t.Fatalf("query-compatible json error: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	_, body = do("AmazonRDSv19.DescribeDBInstances", "application/x-amz-json-1.0", `{}`,
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=x")
	if body != `{"DBInstances":[]}` {
		t.Fatalf("query-compatible json body: %s", body)
	}
	// unknown service
	resp, _ = do("", "application/x-www-form-urlencoded", "Action=ListQueues&Version=2012-11-05",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x")
	if resp.StatusCode != 400 {
		t.Fatalf("unknown service: %d", resp.StatusCode)
	}
}
