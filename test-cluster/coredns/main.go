// Command coredns is upstream CoreDNS, unchanged, built with only the plugins a test cluster's DNS needs:
// it answers for cluster.local from the Kubernetes API (the kubernetes plugin), and has no upstream
// resolver to forward to. The full upstream plugin set (core/plugin) is deliberately not imported: it
// pulls in the AWS, Azure and GCP SDKs for plugins a test cluster never uses.
// Built by scripts/build-coredns.sh.
package main

import (
	"fmt"
	"os"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// directives are the imported plugins in upstream's execution order (plugin.cfg); a Corefile may use
// them in any order, CoreDNS chains them in this one.
var directives = []string{
	"reload",
	"bind",
	"ready",
	"health",
	"errors",
	"log",
	"cache",
	"hosts",
	"kubernetes",
}

func main() {
	if err := dnsserver.SetDirectives(directives); err != nil {
		fmt.Fprintln(os.Stderr, "coredns:", err)
		os.Exit(1)
	}
	coremain.Run()
}
