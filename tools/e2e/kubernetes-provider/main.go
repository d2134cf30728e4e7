// The Kubernetes provider, served from its Go module (see scripts/e2e-tools.ts). Upstream's main embeds two
// generated files; this one reads the same files from the module directory, whose path the build stamps in, so
// nothing of the module is copied.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

// Stamped with -ldflags "-X main.moduleDir=…": the provider module's directory in the Go module cache.
var moduleDir string

func main() {
	read := func(name string) []byte {
		b, err := os.ReadFile(moduleDir + "/cmd/pulumi-resource-kubernetes/" + name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v (rebuild with npm run e2e:tools)\n", err)
			os.Exit(1)
		}
		return b
	}
	provider.Serve("kubernetes", version.Version, read("schema.json"), read("terraform-mapping.json"))
}
