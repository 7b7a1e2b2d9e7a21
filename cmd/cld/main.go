// Command cld is platform-as-code for containerized applications.
package main

import (
	"os"

	"github.com/cloudark/cld/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], cli.System())) }
