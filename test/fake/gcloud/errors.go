package gcloud

import (
	"encoding/json"
	"fmt"
)

// apiError is an error answered in Google's JSON error shape.
type apiError struct {
	Code    int    // HTTP status
	Status  string // canonical code, e.g. NOT_FOUND (derived from Code when empty)
	Reason  string // e.g. notFound (derived from Code when empty)
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message)
}

// errf builds an apiError; reason "" takes the default for the code.
func errf(code int, reason, format string, args ...any) *apiError {
	return &apiError{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// withStatus sets the canonical status (e.g. FAILED_PRECONDITION for a 400).
func (e *apiError) withStatus(st string) *apiError { e.Status = st; return e }

func (e *apiError) fill() *apiError {
	if e.Code == 0 {
		e.Code = 500
	}
	if e.Status == "" {
		e.Status = statusForCode(e.Code)
	}
	if e.Reason == "" {
		e.Reason = reasonForCode(e.Code)
	}
	return e
}

func statusForCode(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "UNIMPLEMENTED"
	case 409:
		return "ALREADY_EXISTS"
	case 412:
		return "FAILED_PRECONDITION"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if code >= 500 {
		return "INTERNAL"
	}
	return "UNKNOWN"
}

func reasonForCode(code int) string {
	switch code {
	case 400:
		return "badRequest"
	case 401:
		return "authError"
	case 403:
		return "forbidden"
	case 404:
		return "notFound"
	case 405:
		return "httpMethodNotAllowed"
	case 409:
		return "alreadyExists"
	case 412:
		return "conditionNotMet"
	case 429:
		return "rateLimitExceeded"
	}
	if code >= 500 {
		return "backendError"
	}
	return "unknown"
}

// grpcCode is the google.rpc.Code number of a canonical status.
func grpcCode(status string) int64 {
	codes := map[string]int64{"OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3,
		"DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7,
		"RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11,
		"UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16}
	if c, ok := codes[status]; ok {
		return c
	}
	return 2
}

var errorDomains = map[string]string{
	Compute:          "compute.googleapis.com",
	Container:        "container.googleapis.com",
	SQLAdmin:         "sqladmin.googleapis.com",
	ArtifactRegistry: "artifactregistry.googleapis.com",
}

// render produces the error body. Compute and Cloud SQL (the older
// "v1-style" APIs) answer with an "errors" array carrying the reason;
// GKE and Artifact Registry answer like every One Platform API, with
// "status" and "details" (a google.rpc.ErrorInfo carrying the reason), so
// that apierror.APIError.Reason() works there (an "errors" array would make
// apierror's strict protojson parse drop the details).
func (e *apiError) render(api string) []byte {
	body := map[string]any{
		"code":    e.Code,
		"message": e.Message,
		"status":  e.Status,
	}
	switch api {
	case Container, ArtifactRegistry:
		body["details"] = []any{map[string]any{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": e.Reason,
			"domain": errorDomains[api],
		}}
	default:
		body["errors"] = []any{map[string]any{
			"message": e.Message,
			"domain":  "global",
			"reason":  e.Reason,
		}}
	}
	b, _ := json.Marshal(map[string]any{"error": body})
	return b
}

func notFound(format string, args ...any) *apiError {
	return errf(404, "notFound", format, args...)
}

func alreadyExists(format string, args ...any) *apiError {
	return errf(409, "alreadyExists", format, args...)
}

func invalid(format string, args ...any) *apiError {
	return errf(400, "invalid", format, args...)
}
