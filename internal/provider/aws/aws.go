// Package aws is the AWS target: an ECS cluster (EC2 capacity through an
// Auto Scaling group and a capacity provider, or Fargate) with its security
// group, key pair and IAM roles; RDS databases behind their own security
// group; ECR repositories; and apps as ECS services behind an application
// load balancer, with task definitions, CloudWatch Logs groups and Secrets
// Manager secrets.
//
// Every element is small and idempotent: Observe finds it by its
// deterministic name (or by its cld-element tag), Create adopts what already
// exists, Delete of what is gone succeeds. Each element's spec carries the
// region, profile and endpoint overrides resolved when it was planned, so a
// server started from another shell talks to the same account and region.
package aws

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/smithy-go"

	"github.com/cloudark/cld/internal/provider"
)

// Element kinds of this target.
const (
	KindVPC              = "aws-vpc"
	KindSecurityGroup    = "aws-security-group"
	KindSGRule           = "aws-sg-rule"
	KindCluster          = "aws-ecs-cluster"
	KindRole             = "aws-iam-role"
	KindInstanceProfile  = "aws-instance-profile"
	KindKeyPair          = "aws-key-pair"
	KindLaunchTemplate   = "aws-launch-template"
	KindASG              = "aws-autoscaling-group"
	KindCapacityProvider = "aws-capacity-provider"
	KindDBSubnetGroup    = "aws-db-subnet-group"
	KindRDS              = "aws-rds-instance"
	KindRepository       = "aws-ecr-repository"
	KindImage            = "aws-ecr-image"
	KindLogGroup         = "aws-log-group"
	KindSecret           = "aws-secret"
	KindTaskDef          = "aws-ecs-task-definition"
	KindTargetGroup      = "aws-target-group"
	KindLoadBalancer     = "aws-load-balancer"
	KindListener         = "aws-listener"
	KindService          = "aws-ecs-service"
)

// Name is the registry key of this target.
const Name = "aws"

// Target is the AWS target.
type Target struct {
	mu      sync.Mutex
	configs map[string]*clients // by settings key
	// seen remembers the settings of every element handled, by owner label
	// value, so Sweep and Inventory know where to look without a state store.
	seen map[string]map[string]Settings
}

var (
	_ provider.Target          = (*Target)(nil)
	_ provider.ClusterPlanner  = (*Target)(nil)
	_ provider.DatabasePlanner = (*Target)(nil)
	_ provider.RegistryPlanner = (*Target)(nil)
	_ provider.RuntimePlanner  = (*Target)(nil)
	_ provider.Logger          = (*Target)(nil)
	_ provider.Sweeper         = (*Target)(nil)
	_ provider.Inventory       = (*Target)(nil)
)

// New returns the AWS target. Nothing connects until an element is handled.
func New() *Target {
	return &Target{configs: map[string]*clients{}, seen: map[string]map[string]Settings{}}
}

// Name is "aws".
func (t *Target) Name() string { return Name }

// Handler returns the handler of a kind.
func (t *Target) Handler(kind string) (provider.Handler, bool) {
	switch kind {
	case KindVPC:
		return vpcHandler{t}, true
	case KindSecurityGroup:
		return sgHandler{t}, true
	case KindSGRule:
		return ruleHandler{t}, true
	case KindCluster:
		return clusterHandler{t}, true
	case KindRole:
		return roleHandler{t}, true
	case KindInstanceProfile:
		return profileHandler{t}, true
	case KindKeyPair:
		return keyPairHandler{t}, true
	case KindLaunchTemplate:
		return launchTemplateHandler{t}, true
	case KindASG:
		return asgHandler{t}, true
	case KindCapacityProvider:
		return capacityProviderHandler{t}, true
	case KindDBSubnetGroup:
		return dbSubnetGroupHandler{t}, true
	case KindRDS:
		return rdsHandler{t}, true
	case KindRepository:
		return repositoryHandler{t}, true
	case KindImage:
		return imageHandler{t}, true
	case KindLogGroup:
		return logGroupHandler{t}, true
	case KindSecret:
		return secretHandler{t}, true
	case KindTaskDef:
		return taskDefHandler{t}, true
	case KindTargetGroup:
		return targetGroupHandler{t}, true
	case KindLoadBalancer:
		return loadBalancerHandler{t}, true
	case KindListener:
		return listenerHandler{t}, true
	case KindService:
		return serviceHandler{t}, true
	}
	return nil, false
}

// remember records where an element lives, under each of its owner labels.
func (t *Target) remember(el *provider.Element, s Settings) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{provider.LabelEnv, provider.LabelApp, provider.LabelContainer} {
		v := el.Labels[k]
		if v == "" {
			continue
		}
		m := t.seen[k+"="+v]
		if m == nil {
			m = map[string]Settings{}
			t.seen[k+"="+v] = m
		}
		m[s.key()] = s
	}
	m := t.seen["*"]
	if m == nil {
		m = map[string]Settings{}
		t.seen["*"] = m
	}
	m[s.key()] = s
}

// settingsFor returns the settings remembered for owner labels ("*" = all).
func (t *Target) settingsFor(labels map[string]string) []Settings {
	t.mu.Lock()
	defer t.mu.Unlock()
	found := map[string]Settings{}
	if labels == nil {
		for k, s := range t.seen["*"] {
			found[k] = s
		}
	}
	for _, k := range []string{provider.LabelEnv, provider.LabelApp, provider.LabelContainer} {
		if v, ok := labels[k]; ok {
			for key, s := range t.seen[k+"="+v] {
				found[key] = s
			}
		}
	}
	out := make([]Settings, 0, len(found))
	for _, s := range found {
		out = append(out, s)
	}
	return out
}

// apiCode returns the AWS error code of err ("" if it is not an API error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// hasCode reports whether err is an API error with one of the codes.
func hasCode(err error, codes ...string) bool {
	c := apiCode(err)
	if c == "" {
		return false
	}
	for _, x := range codes {
		if c == x {
			return true
		}
	}
	return false
}

// transientCodes are API errors worth retrying even though their names look
// like validation errors.
var transientCodes = map[string]bool{
	"DependencyViolation": true, "ResourceInUse": true, "ResourceInUseException": true, "InvalidDBInstanceState": true,
	"InvalidDBSubnetGroupStateFault": true, "ScalingActivityInProgress": true, "DeleteConflict": true,
	"ClusterContainsContainerInstancesException": true, "ClusterContainsServicesException": true, "ClusterContainsTasksException": true,
	"RequestLimitExceeded": true, "Throttling": true, "ThrottlingException": true, "TooManyRequestsException": true,
	"InvalidRequestException": true, // Secrets Manager: a secret of that name is still being deleted
	"IncorrectState":          true, "ConcurrentModification": true, "ConcurrentModificationException": true,
	"ServiceUnavailable": true, "InternalFailure": true, "InternalError": true, "ServerException": true,
	"Unavailable": true, "RequestTimeout": true,
}

// classify marks errors that retrying will not fix (validation, auth,
// quotas) as provider.Permanent, and names the operation that failed.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		msg := err.Error()
		if strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
			strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "Missing Region") {
			return provider.Permanent(fmt.Errorf("AWS credentials: %w (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run `cld setup aws`)", err))
		}
		return err
	}
	code := ae.ErrorCode()
	if transientCodes[code] {
		return err
	}
	lc := strings.ToLower(code)
	for _, w := range []string{"invalid", "validation", "notfound", "not_found", "accessdenied", "unauthorized", "authfailure",
		"unrecognizedclient", "signaturedoesnotmatch", "expiredtoken", "limitexceeded", "quota", "insufficient", "malformed",
		"missingparameter", "clientexception", "unsupported", "optinrequired", "blocked", "alreadyexists", "duplicate",
		"nosuchentity", "entityalreadyexists", "notempty", "servicelinkedrole", "platformtaskdefinitionincompatibility"} {
		if strings.Contains(lc, w) {
			return provider.Permanent(err)
		}
	}
	return err
}
