package cli

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"

	gcloudtarget "github.com/cloudark/cld/internal/provider/gcloud"
)

// newSetupGCloud shows where each Google Cloud setting comes from, explains
// how to fix what is missing, and proves the result with one API call.
// Google's own tools keep credentials (gcloud auth application-default
// login), so cld reads them rather than writing its own.
func newSetupGCloud(f *Factory) *cobra.Command {
	var project string
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "gcloud",
		Short: "Check Google application default credentials and the project, and explain what is missing",
		Long: `Resolves what env create on target gcloud would use, and where each value
comes from:

  credentials  GOOGLE_APPLICATION_CREDENTIALS, else the file written by
               ` + "`gcloud auth application-default login`" + ` (in CLOUDSDK_CONFIG or
               ~/.config/gcloud), else the metadata server (cld running on Google Cloud)
  project      app_deployment.project, CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT,
               the credentials file, gcloud's core/project
  region/zone  app_deployment.zone/region, CLOUDSDK_COMPUTE_REGION/ZONE, gcloud's
               compute/region and compute/zone, else us-central1(-a)
  endpoints    CLOUDSDK_API_ENDPOINT_OVERRIDES_<API> for COMPUTE, CONTAINER,
               SQLADMIN and ARTIFACTREGISTRY, or gcloud's [api_endpoint_overrides]

then gets an access token and lists the project's GKE clusters to prove that
they work. Exit code 0 only when they do.`,
		Example: `  cld setup gcloud
  cld setup gcloud --project my-project`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := gcloudtarget.Resolve(gcloudtarget.Overrides{Project: project}, nil)
			w := f.IO.Out
			show := func(label string, s gcloudtarget.Source, missing string) {
				if s.Value == "" {
					fmt.Fprintf(w, "%-12s %s\n", label, missing)
					return
				}
				fmt.Fprintf(w, "%-12s %s  (from %s)\n", label, s.Value, s.From)
			}
			cred := r.Credentials
			if cred.Value == "" {
				fmt.Fprintf(w, "%-12s the metadata server (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application default credentials)\n", "credentials")
			} else {
				show("credentials", cred, "")
				if r.CredentialsType != "" {
					fmt.Fprintf(w, "%-12s %s\n", "type", r.CredentialsType)
				}
			}
			if r.Account != "" {
				fmt.Fprintf(w, "%-12s %s\n", "account", r.Account)
			}
			show("project", r.Project, "none")
			show("region", r.Region, "none")
			show("zone", r.Zone, "none (regional clusters)")
			apis := make([]string, 0, len(r.Endpoints))
			for api := range r.Endpoints {
				apis = append(apis, api)
			}
			sort.Strings(apis)
			for _, api := range apis {
				show("endpoint", gcloudtarget.Source{Value: api + " " + r.Endpoints[api].Value, From: r.Endpoints[api].From}, "")
			}
			if r.CACertsFile.Value != "" {
				show("CA file", r.CACertsFile, "")
			}
			s, err := r.Settings()
			if err != nil {
				explainGCloud(f.IO.ErrOut, r)
				return err
			}
			if noVerify {
				return nil
			}
			res, err := gcloudtarget.Check(cmd.Context(), s)
			if err != nil {
				explainGCloud(f.IO.ErrOut, r)
				return fmt.Errorf("the settings do not work yet: %w", err)
			}
			fmt.Fprintf(w, "ok: project %s answers (%d GKE clusters)\n", s.Project, res.Clusters)
			return nil
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "project to check (default: resolved as env create would)")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "only show the settings; make no API call")
	return cmd
}

// explainGCloud says how to get what is missing, with Google's own tools.
func explainGCloud(w io.Writer, r gcloudtarget.Resolved) {
	fmt.Fprintln(w, "\nTo set up Google Cloud for cld:")
	if r.Credentials.Value == "" {
		fmt.Fprintln(w, "  gcloud auth application-default login        # your user, on a laptop")
		fmt.Fprintln(w, "  export GOOGLE_APPLICATION_CREDENTIALS=key.json # or a service account key (roles: container.admin, cloudsql.admin, compute.networkAdmin, artifactregistry.admin)")
	} else if _, err := os.Stat(r.Credentials.Value); err != nil {
		fmt.Fprintf(w, "  %s (%s) cannot be read: %v\n", r.Credentials.Value, r.Credentials.From, err)
	}
	if r.Project.Value == "" {
		fmt.Fprintln(w, "  gcloud config set project <id>                # or CLOUDSDK_CORE_PROJECT, or app_deployment.project")
	}
	fmt.Fprintln(w, "  then enable the APIs: compute, container, sqladmin, artifactregistry")
}
