package fake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type ssmState struct {
	params map[string]*ssmParam
}

type ssmParam struct {
	name, value, desc, keyID, dataType string
	typ                                ssmtypes.ParameterType
	tier                               ssmtypes.ParameterTier
	version                            int64
	modified                           time.Time
	tags                               map[string]string
}

func (st *ssmState) inventory() []Resource {
	var out []Resource
	for _, p := range st.params {
		out = append(out, Resource{Service: "ssm", Type: "parameter", ID: p.name, Name: p.name, Tags: copyTags(p.tags)})
	}
	return out
}

// publicParam resolves the AWS public parameters the fake knows about (the
// ECS-optimized AMI ids).
func (s *Server) publicParam(rs *regionState, name string) *ssmParam {
	const base = "/aws/service/ecs/optimized-ami/"
	if !strings.HasPrefix(name, base) {
		return nil
	}
	rest := strings.TrimPrefix(name, base)
	var prefix string
	switch {
	case strings.HasPrefix(rest, "amazon-linux-2023/arm64/recommended"):
		prefix, rest = "al2023-ami-ecs-hvm-2023.0.20260101-kernel-6.1-arm64", strings.TrimPrefix(rest, "amazon-linux-2023/arm64/recommended")
	case strings.HasPrefix(rest, "amazon-linux-2023/recommended"):
		prefix, rest = "al2023-ami-ecs-hvm-2023.0.20260101-kernel-6.1-x86_64", strings.TrimPrefix(rest, "amazon-linux-2023/recommended")
	case strings.HasPrefix(rest, "amazon-linux-2/recommended"):
		prefix, rest = "amzn2-ami-ecs-hvm-2.0.20260101-x86_64-ebs", strings.TrimPrefix(rest, "amazon-linux-2/recommended")
	default:
		return nil
	}
	im := rs.ec2.amiByName(prefix)
	if im == nil {
		return nil
	}
	p := &ssmParam{name: name, typ: ssmtypes.ParameterTypeString, tier: ssmtypes.ParameterTierStandard, version: 1, modified: im.created, dataType: "text"}
	switch rest {
	case "/image_id":
		p.value, p.dataType = im.id, "aws:ec2:image"
	case "/image_name":
		p.value = im.name
	case "":
		b, _ := json.Marshal(map[string]any{"ecs_agent_version": "1.90.0", "ecs_runtime_version": "Docker version 25.0.8", "image_id": im.id,
			"image_name": im.name, "os": "Amazon Linux", "schema_version": 1, "source_image_name": strings.Replace(im.name, "-ecs-", "-", 1)})
		p.value = string(b)
	default:
		return nil
	}
	return p
}

func (s *Server) paramArn(region, name string, public bool) string {
	acct := s.opts.AccountID
	if public {
		acct = ""
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, acct, strings.TrimPrefix(name, "/"))
}

// lookupParam finds a parameter by name, ARN or name:version.
func (s *Server) lookupParam(rs *regionState, ref string) (*ssmParam, bool) {
	candidates := []string{ref}
	if strings.HasPrefix(ref, "arn:") {
		if i := strings.Index(ref, ":parameter/"); i >= 0 {
			suffix := ref[i+len(":parameter/"):]
			candidates = []string{"/" + suffix, suffix}
		}
	}
	for _, name := range candidates {
		if i := strings.LastIndex(name, ":"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if p := rs.ssm.params[name]; p != nil {
			return p, false
		}
		if p := s.publicParam(rs, name); p != nil {
			return p, true
		}
	}
	return nil, false
}

func ciphertext(v string) string {
	sum := sha256sum([]byte(v))
	return "AQICAHh" + base64.StdEncoding.EncodeToString(append([]byte("fake-kms:"), sum[:]...))
}

func (s *Server) paramOut(c *reqCtx, p *ssmParam, public, decrypt bool) ssmtypes.Parameter {
	v := p.value
	if p.typ == ssmtypes.ParameterTypeSecureString && !decrypt {
		v = ciphertext(v)
	}
	return ssmtypes.Parameter{Name: ptr(p.name), Type: p.typ, Value: ptr(v), Version: p.version, LastModifiedDate: ptr(p.modified),
		ARN: ptr(s.paramArn(c.region, p.name, public)), DataType: ptr(p.dataType)}
}

func init() {
	register("ssm", map[string]handlerFunc{
		"GetParameter":           (*Server).ssmGetParameter,
		"GetParameters":          (*Server).ssmGetParameters,
		"GetParametersByPath":    (*Server).ssmGetParametersByPath,
		"PutParameter":           (*Server).ssmPutParameter,
		"DeleteParameter":        (*Server).ssmDeleteParameter,
		"DeleteParameters":       (*Server).ssmDeleteParameters,
		"DescribeParameters":     (*Server).ssmDescribeParameters,
		"AddTagsToResource":      (*Server).ssmAddTags,
		"RemoveTagsFromResource": (*Server).ssmRemoveTags,
		"ListTagsForResource":    (*Server).ssmListTags,
	})
}

func paramNotFound(name string) error {
	return errorf("ParameterNotFound", "Parameter %s not found.", name)
}

func (s *Server) ssmGetParameter(c *reqCtx) (any, error) {
	var in ssm.GetParameterInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, public := s.lookupParam(c.rs, str(in.Name))
	if p == nil {
		return nil, paramNotFound(str(in.Name))
	}
	out := s.paramOut(c, p, public, boolv(in.WithDecryption))
	return &ssm.GetParameterOutput{Parameter: &out}, nil
}

func (s *Server) ssmGetParameters(c *reqCtx) (any, error) {
	var in ssm.GetParametersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ssm.GetParametersOutput{Parameters: []ssmtypes.Parameter{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		p, public := s.lookupParam(c.rs, n)
		if p == nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		out.Parameters = append(out.Parameters, s.paramOut(c, p, public, boolv(in.WithDecryption)))
	}
	return out, nil
}

func (s *Server) ssmGetParametersByPath(c *reqCtx) (any, error) {
	var in ssm.GetParametersByPathInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(str(in.Path), "/") + "/"
	out := &ssm.GetParametersByPathOutput{Parameters: []ssmtypes.Parameter{}}
	for _, n := range sortedKeys(c.rs.ssm.params) {
		if !strings.HasPrefix(n, path) {
			continue
		}
		if !boolv(in.Recursive) && strings.Contains(strings.TrimPrefix(n, path), "/") {
			continue
		}
		out.Parameters = append(out.Parameters, s.paramOut(c, c.rs.ssm.params[n], false, boolv(in.WithDecryption)))
	}
	return out, nil
}

func validParamName(n string) bool {
	if n == "" || len(n) > 2048 {
		return false
	}
	low := strings.ToLower(strings.TrimPrefix(n, "/"))
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ssm") {
		return false
	}
	if strings.Contains(n, "/") && !strings.HasPrefix(n, "/") {
		return false
	}
	for _, ch := range n {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune("_.-/", ch)) {
			return false
		}
	}
	return true
}

func (s *Server) ssmPutParameter(c *reqCtx) (any, error) {
	var in ssm.PutParameterInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := str(in.Name)
	if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "aws") {
		return nil, errorf("AccessDeniedException", "No access to reserved parameter name: %s.", name)
	}
	if !validParamName(name) {
		return nil, errorf("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	}
	if str(in.Value) == "" {
		return nil, errorf("ValidationException", "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	p := c.rs.ssm.params[name]
	if p != nil {
		if !boolv(in.Overwrite) {
			return nil, errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		if len(in.Tags) > 0 {
			return nil, errorf("ValidationException", "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
		}
		if in.Type != "" && in.Type != p.typ {
			p.typ = in.Type
		}
		p.value = str(in.Value)
		p.version++
		p.modified = c.now
		if in.Description != nil {
			p.desc = *in.Description
		}
		return &ssm.PutParameterOutput{Version: p.version, Tier: p.tier}, nil
	}
	if in.Type == "" {
		return nil, errorf("ValidationException", "A parameter type is required when you create a parameter.")
	}
	p = &ssmParam{name: name, value: str(in.Value), desc: str(in.Description), keyID: str(in.KeyId), typ: in.Type, tier: ssmtypes.ParameterTierStandard,
		version: 1, modified: c.now, tags: map[string]string{}, dataType: orDefault(str(in.DataType), "text")}
	if p.typ == ssmtypes.ParameterTypeSecureString && p.keyID == "" {
		p.keyID = "alias/aws/ssm"
	}
	if in.Tier == ssmtypes.ParameterTierAdvanced {
		p.tier = in.Tier
	}
	for _, t := range in.Tags {
		p.tags[str(t.Key)] = str(t.Value)
	}
	c.rs.ssm.params[name] = p
	return &ssm.PutParameterOutput{Version: 1, Tier: p.tier}, nil
}

func (s *Server) ssmDeleteParameter(c *reqCtx) (any, error) {
	var in ssm.DeleteParameterInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if c.rs.ssm.params[str(in.Name)] == nil {
		return nil, paramNotFound(str(in.Name))
	}
	delete(c.rs.ssm.params, str(in.Name))
	return &ssm.DeleteParameterOutput{}, nil
}

func (s *Server) ssmDeleteParameters(c *reqCtx) (any, error) {
	var in ssm.DeleteParametersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ssm.DeleteParametersOutput{DeletedParameters: []string{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		if c.rs.ssm.params[n] == nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		delete(c.rs.ssm.params, n)
		out.DeletedParameters = append(out.DeletedParameters, n)
	}
	return out, nil
}

func (s *Server) ssmDescribeParameters(c *reqCtx) (any, error) {
	var in ssm.DescribeParametersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ssm.DescribeParametersOutput{Parameters: []ssmtypes.ParameterMetadata{}}
	for _, n := range sortedKeys(c.rs.ssm.params) {
		p := c.rs.ssm.params[n]
		ok := true
		for _, f := range in.ParameterFilters {
			key := str(f.Key)
			opt := orDefault(str(f.Option), "Equals")
			switch {
			case key == "Name":
				match := false
				for _, v := range f.Values {
					match = match || opt == "Equals" && n == v || opt == "BeginsWith" && strings.HasPrefix(n, v) || opt == "Contains" && strings.Contains(n, v)
				}
				ok = ok && match
			case key == "Path":
				match := false
				for _, v := range f.Values {
					rest := strings.TrimPrefix(n, strings.TrimSuffix(v, "/")+"/")
					match = match || rest != n && (opt == "Recursive" || !strings.Contains(rest, "/"))
				}
				ok = ok && match
			case key == "Type":
				ok = ok && contains(f.Values, string(p.typ))
			case strings.HasPrefix(key, "tag:"):
				v, has := p.tags[strings.TrimPrefix(key, "tag:")]
				ok = ok && has && (len(f.Values) == 0 || contains(f.Values, v))
			}
		}
		if !ok {
			continue
		}
		md := ssmtypes.ParameterMetadata{Name: ptr(p.name), ARN: ptr(s.paramArn(c.region, p.name, false)), Type: p.typ, Version: p.version,
			LastModifiedDate: ptr(p.modified), LastModifiedUser: ptr(fmt.Sprintf("arn:aws:iam::%s:user/cld-fake", c.account())), Tier: p.tier,
			DataType: ptr(p.dataType), Policies: []ssmtypes.ParameterInlinePolicy{}}
		if p.desc != "" {
			md.Description = ptr(p.desc)
		}
		if p.keyID != "" {
			md.KeyId = ptr(p.keyID)
		}
		out.Parameters = append(out.Parameters, md)
	}
	return out, nil
}

func (s *Server) ssmTagTarget(c *reqCtx, typ ssmtypes.ResourceTypeForTagging, id string) (*ssmParam, error) {
	if typ != ssmtypes.ResourceTypeForTaggingParameter {
		return nil, errorf("InvalidResourceType", "The resource type is not valid.")
	}
	p := c.rs.ssm.params[id]
	if p == nil {
		return nil, errorf("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify the ID and try again.", id)
	}
	return p, nil
}

func (s *Server) ssmAddTags(c *reqCtx) (any, error) {
	var in ssm.AddTagsToResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.ssmTagTarget(c, in.ResourceType, str(in.ResourceId))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		p.tags[str(t.Key)] = str(t.Value)
	}
	return &ssm.AddTagsToResourceOutput{}, nil
}

func (s *Server) ssmRemoveTags(c *reqCtx) (any, error) {
	var in ssm.RemoveTagsFromResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.ssmTagTarget(c, in.ResourceType, str(in.ResourceId))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(p.tags, k)
	}
	return &ssm.RemoveTagsFromResourceOutput{}, nil
}

func (s *Server) ssmListTags(c *reqCtx) (any, error) {
	var in ssm.ListTagsForResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.ssmTagTarget(c, in.ResourceType, str(in.ResourceId))
	if err != nil {
		return nil, err
	}
	out := &ssm.ListTagsForResourceOutput{TagList: []ssmtypes.Tag{}}
	for _, k := range sortedKeys(p.tags) {
		out.TagList = append(out.TagList, ssmtypes.Tag{Key: ptr(k), Value: ptr(p.tags[k])})
	}
	return out, nil
}
