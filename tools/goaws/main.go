// Command goaws is goaws's SQS server (github.com/Admiral-Piett/goaws,
// pinned in tools/go.mod) listening on its configuration's Host and Port
// only: goaws's own command listens on every interface. Same flags:
//
//	goaws -config goaws.yaml [-loglevel warn] [environment]
package main

import (
	"flag"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/Admiral-Piett/goaws/app/conf"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/models"
	"github.com/Admiral-Piett/goaws/app/router"
	log "github.com/sirupsen/logrus"
)

func main() {
	config := flag.String("config", "", "configuration file (YAML)")
	level := flag.String("loglevel", "info", "log level")
	flag.Parse()
	log.SetFormatter(&log.JSONFormatter{})
	log.SetOutput(os.Stdout)
	if l, err := log.ParseLevel(*level); err == nil {
		log.SetLevel(l)
	}
	env := "Local"
	if flag.NArg() > 0 {
		env = flag.Arg(0)
	}
	ports := conf.LoadYamlConfig(*config, env)
	if len(ports) != 1 {
		log.Fatalf("goaws: the configuration names %d ports, want one (Port)", len(ports))
	}
	go gosqs.PeriodicTasks(time.Second, make(chan bool))
	addr := net.JoinHostPort(models.CurrentEnvironment.Host, ports[0])
	log.Warnf("GoAws listening on: %s", addr)
	log.Fatal(http.ListenAndServe(addr, router.New()))
}
