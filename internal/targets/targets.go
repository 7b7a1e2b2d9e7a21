// Package targets assembles the registry of every target this binary knows,
// explicitly and in one place.
package targets

import (
	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/aws"
	"github.com/cloudark/cld/internal/provider/gcloud"
	"github.com/cloudark/cld/internal/provider/kube"
	"github.com/cloudark/cld/internal/provider/local"
)

// All returns the registry of built-in targets.
func All() *provider.Registry {
	return provider.NewRegistry(
		local.New(),
		kube.New(),
		aws.New(),
		gcloud.New(),
	)
}
