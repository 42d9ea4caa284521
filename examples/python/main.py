"""Python twin of ../alertmanager/main.ts: both must synthesize byte-identical YAML."""
from cdk8s import App, Chart
import cdk8s_plus_27 as kplus
from cdk8s_nginx_sidecar import NginxConfigFile, NginxDirective

app = App()
chart = Chart(app, "alertmanager")

config = NginxConfigFile([
    NginxDirective.simple("pid", "/var/cache/nginx/nginx.pid"),
    NginxDirective.block("events", [], []),
])
kplus.ConfigMap(chart, "nginx-config", data={"nginx.conf": config.render()})

app.synth()
