package fake

import (
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func init() {
	register("sts", map[string]handlerFunc{
		"GetCallerIdentity": func(s *Server, c *reqCtx) (any, error) {
			return &sts.GetCallerIdentityOutput{
				Account: ptr(c.account()),
				Arn:     ptr("arn:aws:iam::" + c.account() + ":user/cld-fake"),
				UserId:  ptr("AIDAFAKEUSERID0000001"),
			}, nil
		},
	})
}
