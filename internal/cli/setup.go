package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	awstarget "github.com/cloudark/cld/internal/provider/aws"
)

func newSetupCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "setup", Short: "Store cloud credentials where the cloud's own tools look for them"}
	cmd.AddCommand(newSetupAWS(f), newSetupGCloud(f))
	return cmd
}

// newSetupAWS writes the standard AWS shared config and credentials files
// for a profile (flags, or prompts for what they leave out), keeping every
// other profile, then asks STS whose credentials they are.
func newSetupAWS(f *Factory) *cobra.Command {
	var profile, region, keyID, secret string
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Write ~/.aws/config and ~/.aws/credentials for a profile and check them with STS",
		Long: `Writes the region to the shared config file and the access key to the shared
credentials file (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are
honoured; both are created with mode 0600; other profiles are kept), then calls
STS GetCallerIdentity with them and prints the account. Values not given as
flags are asked for; pressing Enter keeps the current one.

cld finds credentials through the standard chain (environment, shared files,
SSO, instance metadata): SSO users run ` + "`aws configure sso`" + ` instead and set AWS_PROFILE.`,
		Example: `  cld setup aws --region eu-west-1 --access-key-id AKIA... --secret-access-key ...
  cld setup aws --profile work          # asks for the key, secret and region`,
		Args: exactArgs(0, "no arguments (values are flags or prompts)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if profile == "" {
				profile = os.Getenv("AWS_PROFILE")
			}
			if profile == "" {
				profile = "default"
			}
			cfgFile, credFile, err := awsFiles()
			if err != nil {
				return err
			}
			cfgSection, credSection := "profile "+profile, profile
			if profile == "default" {
				cfgSection = "default"
			}
			curRegion := iniGet(cfgFile, cfgSection, "region")
			curKey := iniGet(credFile, credSection, "aws_access_key_id")
			curSecret := iniGet(credFile, credSection, "aws_secret_access_key")
			in := bufio.NewReader(f.IO.In)
			ask := func(flag *string, label, current string, mask bool) error {
				if *flag != "" {
					return nil
				}
				shown := current
				if mask && len(current) > 4 {
					shown = strings.Repeat("*", 16) + current[len(current)-4:]
				}
				if shown != "" {
					fmt.Fprintf(f.IO.ErrOut, "%s [%s]: ", label, shown)
				} else {
					fmt.Fprintf(f.IO.ErrOut, "%s: ", label)
				}
				line, err := in.ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				if line = strings.TrimSpace(line); line != "" {
					*flag = line
				} else {
					*flag = current
				}
				if *flag == "" {
					return usageError(fmt.Errorf("%s is required (or pass it as a flag)", strings.ToLower(label)))
				}
				return nil
			}
			if err := ask(&keyID, "AWS Access Key ID", curKey, true); err != nil {
				return err
			}
			if err := ask(&secret, "AWS Secret Access Key", curSecret, true); err != nil {
				return err
			}
			if err := ask(&region, "Default region name", curRegion, false); err != nil {
				return err
			}
			if err := iniSet(cfgFile, cfgSection, [][2]string{{"region", region}}); err != nil {
				return err
			}
			if err := iniSet(credFile, credSection, [][2]string{{"aws_access_key_id", keyID}, {"aws_secret_access_key", secret}}); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "wrote profile %q to %s and %s\n", profile, cfgFile, credFile)
			if noVerify {
				return nil
			}
			set, err := awstarget.ResolveSettings(region, nil)
			if err != nil {
				return err
			}
			set.Profile, set.ConfigFile, set.CredentialsFile = profile, cfgFile, credFile
			account, arn, err := awstarget.CallerIdentity(cmd.Context(), set)
			if err != nil {
				return fmt.Errorf("the credentials were saved, but STS does not accept them: %w", err)
			}
			fmt.Fprintf(f.IO.Out, "AWS account %s (%s), region %s, profile %s\n", account, arn, region, profile)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&profile, "profile", "", "profile to write (default $AWS_PROFILE or \"default\")")
	fl.StringVar(&region, "region", "", "default region of the profile, e.g. us-east-1")
	fl.StringVar(&keyID, "access-key-id", "", "access key id")
	fl.StringVar(&secret, "secret-access-key", "", "secret access key (prefer the prompt: flags stay in shell history)")
	fl.BoolVar(&noVerify, "no-verify", false, "do not call STS to check the credentials")
	return cmd
}

// awsFiles returns the shared config and credentials paths the SDKs use.
func awsFiles() (cfg, cred string, err error) {
	cfg, cred = os.Getenv("AWS_CONFIG_FILE"), os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if cfg == "" || cred == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", err
		}
		if cfg == "" {
			cfg = filepath.Join(home, ".aws", "config")
		}
		if cred == "" {
			cred = filepath.Join(home, ".aws", "credentials")
		}
	}
	return cfg, cred, nil
}

// iniGet reads key in [section] of an INI file ("" if absent).
func iniGet(path, section, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			cur = strings.TrimSpace(t[1 : len(t)-1])
			continue
		}
		if k, v, ok := strings.Cut(t, "="); ok && cur == section && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// iniSet sets keys in [section] of an INI file, keeping every other line,
// and leaves the file with mode 0600.
func iniSet(path, section string, kv [][2]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := strings.TrimRight(string(b), "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	start, end := -1, len(lines) // [start, end): the section's lines after its header
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			if start >= 0 {
				end = i
				break
			}
			if strings.TrimSpace(t[1:len(t)-1]) == section {
				start = i + 1
			}
		}
	}
	if start < 0 {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, "["+section+"]")
		start, end = len(lines), len(lines)
	}
	body := append([]string{}, lines[start:end]...)
	for _, p := range kv {
		done := false
		for i, line := range body {
			if k, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.TrimSpace(k) == p[0] {
				body[i] = p[0] + " = " + p[1]
				done = true
			}
		}
		if !done {
			// after the section's last setting, before blank lines
			at := len(body)
			for at > 0 && strings.TrimSpace(body[at-1]) == "" {
				at--
			}
			body = append(body[:at], append([]string{p[0] + " = " + p[1]}, body[at:]...)...)
		}
	}
	out := append(append(append([]string{}, lines[:start]...), body...), lines[end:]...)
	tmp := path + ".cld-tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
