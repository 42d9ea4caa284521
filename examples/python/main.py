"""Python twin of ../alertmanager/main.ts: both must synthesize byte-identical YAML."""
from cdk8s import App, Chart
from cdk8s_nginx_sidecar import AlertmanagerWithProxy

app = App()
chart = Chart(app, "alertmanager")

AlertmanagerWithProxy(chart, "alertmanager")

app.synth()
