package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudark/cld/internal/provider"
)

// iamPath is the path of every role and instance profile cld makes, so a
// sweep lists only them.
const iamPath = "/cld/"

// roleSpec is an IAM role: who may assume it and what it may do.
type roleSpec struct {
	base
	Service  string   `json:"service"` // principal: ec2.amazonaws.com, ecs-tasks.amazonaws.com
	Managed  []string `json:"managed,omitempty"`
	Inline   string   `json:"inline,omitempty"` // a policy document
	Describe string   `json:"description,omitempty"`
}

func trustPolicy(service string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": service}, "Action": "sts:AssumeRole",
		}},
	})
	return string(b)
}

// roleHandler manages an IAM role with its managed and inline policies.
type roleHandler struct{ t *Target }

const inlinePolicyName = "cld"

func (h roleHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var rs roleSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(req.Element.Name)})
	if hasCode(err, "NoSuchEntity") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	arn := aws.ToString(out.Role.Arn)
	obs := provider.Observation{Exists: true, Ready: true, Ref: arn, Outputs: map[string]string{"RoleArn": arn, "RoleName": req.Element.Name}}
	att, err := c.IAM().ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(req.Element.Name)})
	if err != nil {
		return obs, classify(err)
	}
	have := map[string]bool{}
	for _, p := range att.AttachedPolicies {
		have[aws.ToString(p.PolicyArn)] = true
	}
	for _, m := range rs.Managed {
		if !have[m] {
			obs.Ready, obs.Incomplete = false, true
		}
	}
	if rs.Inline != "" {
		inl, err := c.IAM().ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(req.Element.Name)})
		if err != nil {
			return obs, classify(err)
		}
		found := false
		for _, n := range inl.PolicyNames {
			found = found || n == inlinePolicyName
		}
		if !found {
			obs.Ready, obs.Incomplete = false, true
		}
	}
	return obs, nil
}

func (h roleHandler) Create(ctx context.Context, req *provider.Request) error {
	var rs roleSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return err
	}
	var tags []iamtypes.Tag
	m := tagMap(req.Element)
	for _, k := range sortedKeys(m) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	_, err = c.IAM().CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(req.Element.Name), Path: aws.String(iamPath), AssumeRolePolicyDocument: aws.String(trustPolicy(rs.Service)),
		Description: optional(rs.Describe), Tags: tags,
	})
	if err != nil && !hasCode(err, "EntityAlreadyExists") {
		return classify(err)
	}
	for _, p := range rs.Managed {
		if _, err := c.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(req.Element.Name), PolicyArn: aws.String(p)}); err != nil {
			return classify(err)
		}
	}
	if rs.Inline != "" {
		if _, err := c.IAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(req.Element.Name), PolicyName: aws.String(inlinePolicyName), PolicyDocument: aws.String(rs.Inline)}); err != nil {
			return classify(err)
		}
	}
	return nil
}

func (h roleHandler) Delete(ctx context.Context, req *provider.Request) error {
	var rs roleSpec
	c, err := h.t.decode(ctx, req.Element, &rs)
	if err != nil {
		return err
	}
	return deleteRole(ctx, c, req.Element.Name)
}

// deleteRole detaches and deletes every policy, leaves every instance
// profile, then deletes the role.
func deleteRole(ctx context.Context, c *clients, name string) error {
	gone := func(err error) bool { return hasCode(err, "NoSuchEntity") }
	att, err := c.IAM().ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if gone(err) {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	for _, p := range att.AttachedPolicies {
		if _, err := c.IAM().DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: p.PolicyArn}); err != nil && !gone(err) {
			return classify(err)
		}
	}
	inl, err := c.IAM().ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil && !gone(err) {
		return classify(err)
	}
	if inl != nil {
		for _, n := range inl.PolicyNames {
			if _, err := c.IAM().DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(n)}); err != nil && !gone(err) {
				return classify(err)
			}
		}
	}
	ips, err := c.IAM().ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
	if err != nil && !gone(err) {
		return classify(err)
	}
	if ips != nil {
		for _, ip := range ips.InstanceProfiles {
			if _, err := c.IAM().RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: ip.InstanceProfileName, RoleName: aws.String(name)}); err != nil && !gone(err) {
				return classify(err)
			}
		}
	}
	_, err = c.IAM().DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	if err != nil && !gone(err) {
		return classify(err)
	}
	return nil
}

// profileSpec is an instance profile holding one role.
type profileSpec struct {
	base
	Role string `json:"role"`
}

// profileHandler manages the instance profile of the cluster's instances.
type profileHandler struct{ t *Target }

var _ provider.Waiter = profileHandler{}

func (profileHandler) ReadyTimeout(*provider.Element) time.Duration { return 2 * time.Minute }

func (h profileHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ps profileSpec
	c, err := h.t.decode(ctx, req.Element, &ps)
	if err != nil {
		return provider.Observation{}, err
	}
	out, err := c.IAM().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(req.Element.Name)})
	if hasCode(err, "NoSuchEntity") {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err)
	}
	ip := out.InstanceProfile
	arn := aws.ToString(ip.Arn)
	obs := provider.Observation{Exists: true, Ref: arn, Outputs: map[string]string{"Arn": arn, "Name": req.Element.Name}}
	for _, r := range ip.Roles {
		if aws.ToString(r.RoleName) == ps.Role {
			obs.Ready = true
		}
	}
	if !obs.Ready {
		obs.Incomplete = true
	}
	return obs, nil
}

func (h profileHandler) Create(ctx context.Context, req *provider.Request) error {
	var ps profileSpec
	c, err := h.t.decode(ctx, req.Element, &ps)
	if err != nil {
		return err
	}
	var tags []iamtypes.Tag
	m := tagMap(req.Element)
	for _, k := range sortedKeys(m) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	_, err = c.IAM().CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(req.Element.Name), Path: aws.String(iamPath), Tags: tags})
	if err != nil && !hasCode(err, "EntityAlreadyExists") {
		return classify(err)
	}
	out, err := c.IAM().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(req.Element.Name)})
	if err != nil {
		return classify(err)
	}
	for _, r := range out.InstanceProfile.Roles {
		if aws.ToString(r.RoleName) == ps.Role {
			return nil
		}
	}
	_, err = c.IAM().AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(req.Element.Name), RoleName: aws.String(ps.Role)})
	return classify(err)
}

func (h profileHandler) Delete(ctx context.Context, req *provider.Request) error {
	var ps profileSpec
	c, err := h.t.decode(ctx, req.Element, &ps)
	if err != nil {
		return err
	}
	return deleteProfile(ctx, c, req.Element.Name)
}

func deleteProfile(ctx context.Context, c *clients, name string) error {
	out, err := c.IAM().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if hasCode(err, "NoSuchEntity") {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	for _, r := range out.InstanceProfile.Roles {
		if _, err := c.IAM().RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: r.RoleName}); err != nil && !hasCode(err, "NoSuchEntity") {
			return classify(err)
		}
	}
	_, err = c.IAM().DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil && !hasCode(err, "NoSuchEntity") {
		return classify(err)
	}
	return nil
}

// execPolicy lets an environment's tasks read the app secrets cld stores
// for that environment, and nothing else.
func execPolicy(s Settings, env string) string {
	part := partition(s.Region)
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Effect": "Allow", "Action": []string{"secretsmanager:GetSecretValue"},
				"Resource": fmt.Sprintf("arn:%s:secretsmanager:%s:*:secret:cld/%s/*", part, s.Region, env)},
			map[string]any{"Effect": "Allow", "Action": []string{"ssm:GetParameters"},
				"Resource": fmt.Sprintf("arn:%s:ssm:%s:*:parameter/cld/%s/*", part, s.Region, env)},
		},
	})
	return string(b)
}
