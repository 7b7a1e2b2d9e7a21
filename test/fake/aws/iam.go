package fake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAM is global: one state for all regions.
type iamState struct {
	roles    map[string]*iamRole
	profiles map[string]*instanceProfile
}

type iamRole struct {
	name, path, id, arn, assume, desc string
	created                           time.Time
	maxSession                        int32
	tags                              []iamtypes.Tag
	attached                          []string
	inline                            map[string]string
}

type instanceProfile struct {
	name, path, id, arn string
	created             time.Time
	roles               []string
	tags                []iamtypes.Tag
}

func newIAMState() *iamState {
	return &iamState{roles: map[string]*iamRole{}, profiles: map[string]*instanceProfile{}}
}

func (st *iamState) inventory() []Resource {
	var out []Resource
	for _, r := range st.roles {
		out = append(out, Resource{Service: "iam", Type: "role", ID: r.arn, Name: r.name, Tags: iamTagMap(r.tags)})
	}
	for _, p := range st.profiles {
		out = append(out, Resource{Service: "iam", Type: "instance-profile", ID: p.arn, Name: p.name, Tags: iamTagMap(p.tags)})
	}
	return out
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range tags {
		m[str(t.Key)] = str(t.Value)
	}
	return m
}

// profileUsable reports whether an instance profile (by ARN or name) exists
// and has a role with at least one policy, i.e. whether the ECS agent of an
// instance launched with it could register.
func (st *iamState) profileUsable(ref string) bool {
	if ref == "" {
		return false
	}
	p := st.profiles[lastSegment(ref)]
	if p == nil || len(p.roles) == 0 {
		return false
	}
	r := st.roles[p.roles[0]]
	return r != nil && (len(r.attached) > 0 || len(r.inline) > 0)
}

func (st *iamState) roleByArn(arn string) *iamRole {
	for _, r := range st.roles {
		if r.arn == arn {
			return r
		}
	}
	return nil
}

func init() {
	register("iam", map[string]handlerFunc{
		"CreateRole":                    (*Server).iamCreateRole,
		"GetRole":                       (*Server).iamGetRole,
		"DeleteRole":                    (*Server).iamDeleteRole,
		"ListRoles":                     (*Server).iamListRoles,
		"UpdateAssumeRolePolicy":        (*Server).iamUpdateAssumeRolePolicy,
		"AttachRolePolicy":              (*Server).iamAttachRolePolicy,
		"DetachRolePolicy":              (*Server).iamDetachRolePolicy,
		"ListAttachedRolePolicies":      (*Server).iamListAttachedRolePolicies,
		"PutRolePolicy":                 (*Server).iamPutRolePolicy,
		"GetRolePolicy":                 (*Server).iamGetRolePolicy,
		"DeleteRolePolicy":              (*Server).iamDeleteRolePolicy,
		"ListRolePolicies":              (*Server).iamListRolePolicies,
		"TagRole":                       (*Server).iamTagRole,
		"UntagRole":                     (*Server).iamUntagRole,
		"ListRoleTags":                  (*Server).iamListRoleTags,
		"CreateInstanceProfile":         (*Server).iamCreateInstanceProfile,
		"GetInstanceProfile":            (*Server).iamGetInstanceProfile,
		"DeleteInstanceProfile":         (*Server).iamDeleteInstanceProfile,
		"AddRoleToInstanceProfile":      (*Server).iamAddRoleToInstanceProfile,
		"RemoveRoleFromInstanceProfile": (*Server).iamRemoveRoleFromInstanceProfile,
		"ListInstanceProfilesForRole":   (*Server).iamListInstanceProfilesForRole,
		"TagInstanceProfile":            (*Server).iamTagInstanceProfile,
	})
}

var iamNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func iamID(prefix string) string {
	return prefix + strings.ToUpper(randFrom("abcdefghijklmnopqrstuvwxyz234567", 17))
}

// urlEncodePolicy encodes a policy document the way IAM returns it.
func urlEncodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func (s *Server) roleOut(r *iamRole) *iamtypes.Role {
	out := &iamtypes.Role{RoleName: ptr(r.name), Path: ptr(r.path), RoleId: ptr(r.id), Arn: ptr(r.arn), CreateDate: ptr(r.created),
		AssumeRolePolicyDocument: ptr(urlEncodePolicy(r.assume)), MaxSessionDuration: ptr(r.maxSession), RoleLastUsed: &iamtypes.RoleLastUsed{}}
	if r.desc != "" {
		out.Description = ptr(r.desc)
	}
	if len(r.tags) > 0 {
		out.Tags = append([]iamtypes.Tag{}, r.tags...)
	}
	return out
}

func (st *iamState) role(name string) (*iamRole, error) {
	r := st.roles[name]
	if r == nil {
		return nil, errorf("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return r, nil
}

func normPath(p *string) (string, error) {
	path := orDefault(str(p), "/")
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
		return "", errorf("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

func validPolicyJSON(doc string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(doc), &m) == nil
}

func (s *Server) iamCreateRole(c *reqCtx) (any, error) {
	var in iam.CreateRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := s.iam
	name := str(in.RoleName)
	if !iamNameRe.MatchString(name) {
		return nil, errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	for n := range st.roles {
		if strings.EqualFold(n, name) {
			return nil, errorf("EntityAlreadyExists", "Role with name %s already exists.", name)
		}
	}
	if !validPolicyJSON(str(in.AssumeRolePolicyDocument)) {
		return nil, errorf("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	path, err := normPath(in.Path)
	if err != nil {
		return nil, err
	}
	r := &iamRole{name: name, path: path, id: iamID("AROA"), arn: fmt.Sprintf("arn:aws:iam::%s:role%s%s", c.account(), path, name),
		assume: str(in.AssumeRolePolicyDocument), desc: str(in.Description), created: c.now, maxSession: 3600, tags: in.Tags, inline: map[string]string{}}
	if in.MaxSessionDuration != nil {
		r.maxSession = *in.MaxSessionDuration
	}
	st.roles[name] = r
	return &iam.CreateRoleOutput{Role: s.roleOut(r)}, nil
}

func (s *Server) iamGetRole(c *reqCtx) (any, error) {
	var in iam.GetRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	return &iam.GetRoleOutput{Role: s.roleOut(r)}, nil
}

func (s *Server) iamListRoles(c *reqCtx) (any, error) {
	var in iam.ListRolesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &iam.ListRolesOutput{Roles: []iamtypes.Role{}}
	for _, n := range sortedKeys(s.iam.roles) {
		r := s.iam.roles[n]
		if p := str(in.PathPrefix); p != "" && !strings.HasPrefix(r.path, p) {
			continue
		}
		out.Roles = append(out.Roles, *s.roleOut(r))
	}
	return out, nil
}

func (s *Server) iamDeleteRole(c *reqCtx) (any, error) {
	var in iam.DeleteRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	for _, p := range s.iam.profiles {
		if contains(p.roles, r.name) {
			return nil, errorf("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
		}
	}
	if len(r.attached) > 0 {
		return nil, errorf("DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	if len(r.inline) > 0 {
		return nil, errorf("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(s.iam.roles, r.name)
	return &iam.DeleteRoleOutput{}, nil
}

func (s *Server) iamUpdateAssumeRolePolicy(c *reqCtx) (any, error) {
	var in iam.UpdateAssumeRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	if !validPolicyJSON(str(in.PolicyDocument)) {
		return nil, errorf("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	r.assume = str(in.PolicyDocument)
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (s *Server) iamAttachRolePolicy(c *reqCtx) (any, error) {
	var in iam.AttachRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	arn := str(in.PolicyArn)
	if !strings.HasPrefix(arn, "arn:aws:iam::") || !strings.Contains(arn, ":policy/") {
		return nil, errorf("InvalidInput", "ARN %s is not valid.", arn)
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") {
		return nil, errorf("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	if !contains(r.attached, arn) {
		r.attached = append(r.attached, arn)
	}
	return &iam.AttachRolePolicyOutput{}, nil
}

func (s *Server) iamDetachRolePolicy(c *reqCtx) (any, error) {
	var in iam.DetachRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	arn := str(in.PolicyArn)
	if !contains(r.attached, arn) {
		return nil, errorf("NoSuchEntity", "Policy %s was not found.", arn)
	}
	r.attached = removeString(r.attached, arn)
	return &iam.DetachRolePolicyOutput{}, nil
}

func (s *Server) iamListAttachedRolePolicies(c *reqCtx) (any, error) {
	var in iam.ListAttachedRolePoliciesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	out := &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: []iamtypes.AttachedPolicy{}}
	for _, arn := range r.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: ptr(arn), PolicyName: ptr(lastSegment(arn))})
	}
	return out, nil
}

func (s *Server) iamPutRolePolicy(c *reqCtx) (any, error) {
	var in iam.PutRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	if !validPolicyJSON(str(in.PolicyDocument)) {
		return nil, errorf("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	r.inline[str(in.PolicyName)] = str(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (s *Server) iamGetRolePolicy(c *reqCtx) (any, error) {
	var in iam.GetRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	doc, ok := r.inline[str(in.PolicyName)]
	if !ok {
		return nil, errorf("NoSuchEntity", "The role policy with name %s cannot be found.", str(in.PolicyName))
	}
	return &iam.GetRolePolicyOutput{RoleName: ptr(r.name), PolicyName: in.PolicyName, PolicyDocument: ptr(urlEncodePolicy(doc))}, nil
}

func (s *Server) iamDeleteRolePolicy(c *reqCtx) (any, error) {
	var in iam.DeleteRolePolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	if _, ok := r.inline[str(in.PolicyName)]; !ok {
		return nil, errorf("NoSuchEntity", "The role policy with name %s cannot be found.", str(in.PolicyName))
	}
	delete(r.inline, str(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (s *Server) iamListRolePolicies(c *reqCtx) (any, error) {
	var in iam.ListRolePoliciesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: sortedKeys(r.inline)}, nil
}

func mergeIAMTags(tags []iamtypes.Tag, add []iamtypes.Tag) []iamtypes.Tag {
	for _, t := range add {
		replaced := false
		for i := range tags {
			if str(tags[i].Key) == str(t.Key) {
				tags[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			tags = append(tags, t)
		}
	}
	return tags
}

func (s *Server) iamTagRole(c *reqCtx) (any, error) {
	var in iam.TagRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	r.tags = mergeIAMTags(r.tags, in.Tags)
	return &iam.TagRoleOutput{}, nil
}

func (s *Server) iamUntagRole(c *reqCtx) (any, error) {
	var in iam.UntagRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	var keep []iamtypes.Tag
	for _, t := range r.tags {
		if !contains(in.TagKeys, str(t.Key)) {
			keep = append(keep, t)
		}
	}
	r.tags = keep
	return &iam.UntagRoleOutput{}, nil
}

func (s *Server) iamListRoleTags(c *reqCtx) (any, error) {
	var in iam.ListRoleTagsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	return &iam.ListRoleTagsOutput{Tags: append([]iamtypes.Tag{}, r.tags...)}, nil
}

func (s *Server) profileOut(p *instanceProfile) *iamtypes.InstanceProfile {
	out := &iamtypes.InstanceProfile{InstanceProfileName: ptr(p.name), InstanceProfileId: ptr(p.id), Arn: ptr(p.arn), Path: ptr(p.path),
		CreateDate: ptr(p.created), Roles: []iamtypes.Role{}}
	for _, n := range p.roles {
		if r := s.iam.roles[n]; r != nil {
			out.Roles = append(out.Roles, *s.roleOut(r))
		}
	}
	if len(p.tags) > 0 {
		out.Tags = append([]iamtypes.Tag{}, p.tags...)
	}
	return out
}

func (st *iamState) profile(name string) (*instanceProfile, error) {
	p := st.profiles[name]
	if p == nil {
		return nil, errorf("NoSuchEntity", "Instance Profile %s cannot be found.", name)
	}
	return p, nil
}

func (s *Server) iamCreateInstanceProfile(c *reqCtx) (any, error) {
	var in iam.CreateInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := str(in.InstanceProfileName)
	if !iamNameRe.MatchString(name) {
		return nil, errorf("ValidationError", "1 validation error detected: Value '%s' at 'instanceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if s.iam.profiles[name] != nil {
		return nil, errorf("EntityAlreadyExists", "Instance Profile %s already exists.", name)
	}
	path, err := normPath(in.Path)
	if err != nil {
		return nil, err
	}
	p := &instanceProfile{name: name, path: path, id: iamID("AIPA"), arn: fmt.Sprintf("arn:aws:iam::%s:instance-profile%s%s", c.account(), path, name),
		created: c.now, tags: in.Tags}
	s.iam.profiles[name] = p
	return &iam.CreateInstanceProfileOutput{InstanceProfile: s.profileOut(p)}, nil
}

func (s *Server) iamGetInstanceProfile(c *reqCtx) (any, error) {
	var in iam.GetInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.iam.profile(str(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	return &iam.GetInstanceProfileOutput{InstanceProfile: s.profileOut(p)}, nil
}

func (s *Server) iamDeleteInstanceProfile(c *reqCtx) (any, error) {
	var in iam.DeleteInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.iam.profile(str(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	if len(p.roles) > 0 {
		return nil, errorf("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.iam.profiles, p.name)
	return &iam.DeleteInstanceProfileOutput{}, nil
}

func (s *Server) iamAddRoleToInstanceProfile(c *reqCtx) (any, error) {
	var in iam.AddRoleToInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.iam.profile(str(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	if len(p.roles) > 0 {
		return nil, errorf("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	p.roles = []string{r.name}
	return &iam.AddRoleToInstanceProfileOutput{}, nil
}

func (s *Server) iamRemoveRoleFromInstanceProfile(c *reqCtx) (any, error) {
	var in iam.RemoveRoleFromInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.iam.profile(str(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	if !contains(p.roles, str(in.RoleName)) {
		return nil, errorf("NoSuchEntity", "The role with name %s cannot be found.", str(in.RoleName))
	}
	p.roles = removeString(p.roles, str(in.RoleName))
	return &iam.RemoveRoleFromInstanceProfileOutput{}, nil
}

func (s *Server) iamListInstanceProfilesForRole(c *reqCtx) (any, error) {
	var in iam.ListInstanceProfilesForRoleInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iam.role(str(in.RoleName))
	if err != nil {
		return nil, err
	}
	out := &iam.ListInstanceProfilesForRoleOutput{InstanceProfiles: []iamtypes.InstanceProfile{}}
	for _, n := range sortedKeys(s.iam.profiles) {
		if p := s.iam.profiles[n]; contains(p.roles, r.name) {
			out.InstanceProfiles = append(out.InstanceProfiles, *s.profileOut(p))
		}
	}
	return out, nil
}

func (s *Server) iamTagInstanceProfile(c *reqCtx) (any, error) {
	var in iam.TagInstanceProfileInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.iam.profile(str(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	p.tags = mergeIAMTags(p.tags, in.Tags)
	return &iam.TagInstanceProfileOutput{}, nil
}
