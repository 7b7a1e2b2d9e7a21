package cli

import (
	"context"
	"sync"

	"github.com/cloudark/cld/internal/client"
	"github.com/cloudark/cld/internal/state"
)

// Factory builds dependencies lazily: nothing connects during flag parsing.
type Factory struct {
	IO     *IOStreams
	Layout state.Layout
	// Quiet, Verbose and Debug are the global flags.
	Quiet, Verbose, Debug bool
	LogFile               string

	once   sync.Once
	client *client.Client
}

// Client returns an API client, starting the server if none answers.
func (f *Factory) Client(ctx context.Context) (*client.Client, error) {
	f.once.Do(func() { f.client = client.New(f.Layout) })
	if err := f.client.Ensure(ctx); err != nil {
		return nil, err
	}
	return f.client, nil
}
