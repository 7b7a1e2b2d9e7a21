package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cloudark/cld/internal/provider"
)

// Settings say which account, region and endpoints an element lives in. They
// are resolved at plan time from the environment definition and the user's
// shell (ClientEnv) and stored in every element's spec. Credentials are not
// stored: the server finds them through the standard chain (environment,
// shared files, SSO, IMDS).
type Settings struct {
	Region          string `json:"region"`
	Profile         string `json:"profile,omitempty"`
	ConfigFile      string `json:"config_file,omitempty"`
	CredentialsFile string `json:"credentials_file,omitempty"`
	// Endpoints are AWS_ENDPOINT_URL ("" key) and AWS_ENDPOINT_URL_<SERVICE>
	// (key <SERVICE>, e.g. ECS, ELASTIC_LOAD_BALANCING_V2) as the user set them.
	Endpoints map[string]string `json:"endpoints,omitempty"`
}

func (s Settings) key() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// endpoint returns the endpoint override for an SDK service id (upper case,
// spaces as underscores), following the SDK's precedence: the service's own
// variable, then AWS_ENDPOINT_URL.
func (s Settings) endpoint(service string) string {
	if u := s.Endpoints[service]; u != "" {
		return u
	}
	return s.Endpoints[""]
}

// ResolveSettings turns a region setting (app_deployment.region, may be
// empty) and the user's environment into Settings. The region comes from the
// setting, then AWS_REGION, AWS_DEFAULT_REGION, then the profile's shared
// config; without one it is an error that says how to set it.
func ResolveSettings(region string, env map[string]string) (Settings, error) {
	get := func(k string) string {
		if env != nil {
			return env[k]
		}
		return os.Getenv(k)
	}
	s := Settings{
		Region:          region,
		Profile:         get("AWS_PROFILE"),
		ConfigFile:      get("AWS_CONFIG_FILE"),
		CredentialsFile: get("AWS_SHARED_CREDENTIALS_FILE"),
	}
	if s.Profile == "" {
		s.Profile = get("AWS_DEFAULT_PROFILE")
	}
	vars := env
	if vars == nil {
		vars = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
	}
	for k, v := range vars {
		if v == "" || !strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			continue
		}
		svc := strings.TrimPrefix(strings.TrimPrefix(k, "AWS_ENDPOINT_URL"), "_")
		if s.Endpoints == nil {
			s.Endpoints = map[string]string{}
		}
		s.Endpoints[svc] = v
	}
	if s.Region == "" {
		s.Region = get("AWS_REGION")
	}
	if s.Region == "" {
		s.Region = get("AWS_DEFAULT_REGION")
	}
	if s.Region == "" {
		profile := s.Profile
		if profile == "" {
			profile = "default"
		}
		sc, err := config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
			if s.ConfigFile != "" {
				o.ConfigFiles = []string{s.ConfigFile}
			}
			if s.CredentialsFile != "" {
				o.CredentialsFiles = []string{s.CredentialsFile}
			}
		})
		if err == nil {
			s.Region = sc.Region
		}
	}
	if s.Region == "" {
		return s, fmt.Errorf("no AWS region: set app_deployment.region, AWS_REGION, or a region in your AWS profile (`cld setup aws --region ...`)")
	}
	return s, nil
}

// clients holds one aws.Config and the service clients made from it.
type clients struct {
	set    Settings
	cfg    aws.Config
	loaded time.Time

	once  sync.Once
	ec2c  *ec2.Client
	ecsc  *ecs.Client
	rdsc  *rds.Client
	ecrc  *ecr.Client
	logsc *cloudwatchlogs.Client
	elbc  *elb.Client
	asgc  *autoscaling.Client
	iamc  *iam.Client
	stsc  *sts.Client
	ssmc  *ssm.Client
	smc   *secretsmanager.Client
}

// configTTL bounds how long a loaded config is reused, so credentials written
// by `cld setup aws` are picked up without restarting the server.
const configTTL = time.Minute

// api returns the clients for settings, loading the config through the
// standard chain (cached for a minute).
func (t *Target) api(ctx context.Context, el *provider.Element, s Settings) (*clients, error) {
	if s.Region == "" {
		return nil, provider.Permanent(fmt.Errorf("element %s has no AWS region in its spec", el.Key))
	}
	t.remember(el, s)
	return t.apiFor(ctx, s)
}

func (t *Target) apiFor(ctx context.Context, s Settings) (*clients, error) {
	k := s.key()
	t.mu.Lock()
	c, ok := t.configs[k]
	t.mu.Unlock()
	if ok && time.Since(c.loaded) < configTTL {
		return c, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.Region), config.WithAppID("cld")}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if s.ConfigFile != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{s.ConfigFile}))
	}
	if s.CredentialsFile != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{s.CredentialsFile}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, provider.Permanent(fmt.Errorf("AWS configuration (profile %q): %w", s.Profile, err))
	}
	c = &clients{set: s, cfg: cfg, loaded: time.Now()}
	t.mu.Lock()
	t.configs[k] = c
	t.mu.Unlock()
	return c, nil
}

func (c *clients) init() {
	c.once.Do(func() {
		base := func(svc string) *string {
			if u := c.set.endpoint(svc); u != "" {
				return aws.String(u)
			}
			return nil
		}
		c.ec2c = ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
			if u := base("EC2"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.ecsc = ecs.NewFromConfig(c.cfg, func(o *ecs.Options) {
			if u := base("ECS"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.rdsc = rds.NewFromConfig(c.cfg, func(o *rds.Options) {
			if u := base("RDS"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.ecrc = ecr.NewFromConfig(c.cfg, func(o *ecr.Options) {
			if u := base("ECR"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.logsc = cloudwatchlogs.NewFromConfig(c.cfg, func(o *cloudwatchlogs.Options) {
			if u := base("CLOUDWATCH_LOGS"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.elbc = elb.NewFromConfig(c.cfg, func(o *elb.Options) {
			if u := base("ELASTIC_LOAD_BALANCING_V2"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.asgc = autoscaling.NewFromConfig(c.cfg, func(o *autoscaling.Options) {
			if u := base("AUTO_SCALING"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.iamc = iam.NewFromConfig(c.cfg, func(o *iam.Options) {
			if u := base("IAM"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.stsc = sts.NewFromConfig(c.cfg, func(o *sts.Options) {
			if u := base("STS"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.ssmc = ssm.NewFromConfig(c.cfg, func(o *ssm.Options) {
			if u := base("SSM"); u != nil {
				o.BaseEndpoint = u
			}
		})
		c.smc = secretsmanager.NewFromConfig(c.cfg, func(o *secretsmanager.Options) {
			if u := base("SECRETS_MANAGER"); u != nil {
				o.BaseEndpoint = u
			}
		})
	})
}

func (c *clients) EC2() *ec2.Client                       { c.init(); return c.ec2c }
func (c *clients) ECS() *ecs.Client                       { c.init(); return c.ecsc }
func (c *clients) RDS() *rds.Client                       { c.init(); return c.rdsc }
func (c *clients) ECR() *ecr.Client                       { c.init(); return c.ecrc }
func (c *clients) Logs() *cloudwatchlogs.Client           { c.init(); return c.logsc }
func (c *clients) ELB() *elb.Client                       { c.init(); return c.elbc }
func (c *clients) ASG() *autoscaling.Client               { c.init(); return c.asgc }
func (c *clients) IAM() *iam.Client                       { c.init(); return c.iamc }
func (c *clients) STS() *sts.Client                       { c.init(); return c.stsc }
func (c *clients) SSM() *ssm.Client                       { c.init(); return c.ssmc }
func (c *clients) SecretsManager() *secretsmanager.Client { c.init(); return c.smc }

// CallerIdentity asks STS who the credentials belong to (used by `cld setup aws`).
func CallerIdentity(ctx context.Context, s Settings) (account, arn string, err error) {
	c, err := New().apiFor(ctx, s)
	if err != nil {
		return "", "", err
	}
	out, err := c.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", classify(err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), nil
}

// base is what every element spec of this target embeds.
type base struct {
	AWS Settings `json:"aws"`
}

// decode decodes an element's spec and returns the clients it names.
func (t *Target) decode(ctx context.Context, el *provider.Element, v interface{ settings() Settings }) (*clients, error) {
	if err := el.DecodeSpec(v); err != nil {
		return nil, err
	}
	return t.api(ctx, el, v.settings())
}

func (s *base) settings() Settings { return s.AWS }

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// tagMap is the set of tags an element carries: its labels plus Name.
func tagMap(el *provider.Element) map[string]string {
	out := map[string]string{}
	for k, v := range el.Labels {
		out[k] = v
	}
	if _, ok := out[provider.LabelManagedBy]; !ok {
		out[provider.LabelManagedBy] = provider.ManagedByValue
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// matches reports whether tags carry every label.
func matches(tags, labels map[string]string) bool {
	for k, v := range labels {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// knownTags are an object's tags as provider.Observation.Labels: none at all
// tells nothing (an object tagged after its creation, by a separate call
// that did not happen), so it is nil then.
func knownTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	return tags
}
