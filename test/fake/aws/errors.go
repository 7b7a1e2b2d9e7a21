package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
)

// apiError is an AWS error response.
type apiError struct {
	Code    string
	Message string
	Status  int // 0: derived from the SDK model
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errInfo is what the SDK models say about an error code.
type errInfo struct {
	status     int
	messageKey string // JSON member name of the message ("message" or "Message")
	shape      string // error shape name (differs from the code for awsQuery errors)
}

// errModel maps service -> wire error code -> info, built from the SDK type
// registries (awsQueryError / httpError / error traits).
var errModel = map[string]map[string]errInfo{}

func init() {
	regs := map[string]*smithy.TypeRegistry{
		"ecs":                  ecs.TypeRegistry,
		"ecr":                  ecr.TypeRegistry,
		"ssm":                  ssm.TypeRegistry,
		"secretsmanager":       secretsmanager.TypeRegistry,
		"logs":                 cloudwatchlogs.TypeRegistry,
		"rds":                  rds.TypeRegistry,
		"elasticloadbalancing": elasticloadbalancingv2.TypeRegistry,
		"autoscaling":          autoscaling.TypeRegistry,
		"iam":                  iam.TypeRegistry,
		"sts":                  sts.TypeRegistry,
	}
	for svc, reg := range regs {
		m := map[string]errInfo{}
		for _, e := range reg.Entries {
			sch := e.Schema
			if sch == nil {
				continue
			}
			et, isErr := smithy.SchemaTrait[*traits.Error](sch)
			if !isErr {
				continue
			}
			inf := errInfo{status: 400, messageKey: "message"}
			if et.Type == "server" {
				inf.status = 500
			}
			if h, ok := smithy.SchemaTrait[*traits.HTTPError](sch); ok && h.Code != 0 {
				inf.status = h.Code
			}
			if sch.Member("Message") != nil {
				inf.messageKey = "Message"
			}
			code := sch.ID().Name
			inf.shape = code
			if q, ok := smithy.SchemaTrait[*traits.AWSQueryError](sch); ok {
				if q.StatusCode != 0 {
					inf.status = q.StatusCode
				}
				code = q.ErrorCode
			}
			m[code] = inf
		}
		errModel[svc] = m
	}
}

func errStatus(service string, e *apiError) int {
	if e.Status != 0 {
		return e.Status
	}
	if inf, ok := errModel[service][e.Code]; ok {
		return inf.status
	}
	switch e.Code {
	case "InternalFailure", "InternalError", "InternalServerError", "InternalServiceError", "ServerException", "InternalServerException", "ServiceFailure":
		return 500
	case "ServiceUnavailable", "ServiceUnavailableException", "Unavailable":
		return 503
	case "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException":
		return 400
	}
	return 400
}

func (s *Server) writeError(w http.ResponseWriter, c *reqCtx, e *apiError) {
	status := errStatus(c.service, e)
	h := w.Header()
	h.Set("X-Amzn-Requestid", c.requestID)
	switch c.proto {
	case protoJSON:
		key, typ := "message", e.Code
		if inf, ok := errModel[c.service][e.Code]; ok {
			key = inf.messageKey
			if c.queryCompat {
				typ = inf.shape
			}
		}
		if c.queryCompat {
			fault := "Sender"
			if status >= 500 {
				fault = "Receiver"
			}
			h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		h.Set("Content-Type", c.jsonCT)
		h.Set("X-Amzn-Errortype", typ)
		b, _ := json.Marshal(map[string]string{"__type": typ, key: e.Message})
		w.WriteHeader(status)
		_, _ = w.Write(b)
	case protoQuery:
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		b.WriteString(`<ErrorResponse xmlns="` + c.info.xmlns + `"><Error><Type>` + typ + `</Type><Code>` + xmlEscape(e.Code) + `</Code><Message>` + xmlEscape(e.Message) + `</Message></Error><RequestId>` + c.requestID + `</RequestId></ErrorResponse>`)
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write(b.Bytes())
	case protoEC2:
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		b.WriteString(`<Response><Errors><Error><Code>` + xmlEscape(e.Code) + `</Code><Message>` + xmlEscape(e.Message) + `</Message></Error></Errors><RequestID>` + c.requestID + `</RequestID></Response>`)
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write(b.Bytes())
	}
}
