"""Python twin of ../alertmanager/main.ts: both must synthesize byte-identical YAML.

Alertmanager behind the nginx sidecar with a patched script.js, plus the sidecar on an ordinary
Deployment.
"""
from cdk8s import App, Chart, Duration
import cdk8s_plus_27 as kplus
from cdk8s_nginx_sidecar import (
    AlertmanagerConfig,
    AlertmanagerIngressOptions,
    AlertmanagerWithProxy,
    NginxSidecar,
    NginxSidecarOptions,
    Route,
    SecurityHeaders,
    SidecarTarget,
    StaticFile,
)

app = App()

alerting = Chart(app, "alertmanager")
AlertmanagerWithProxy(
    alerting,
    "alertmanager",
    replicas=3,
    version="0.27.0",
    config=AlertmanagerConfig.from_object({
        "route": {"receiver": "on-call", "group_by": ["alertname", "cluster"]},
        "receivers": [{"name": "on-call", "webhook_configs": [{"url": "http://pager.monitoring.svc:8080/hook"}]}],
    }),
    api_micro_cache=Duration.seconds(1),
    overrides=[StaticFile.from_file("/script.js", "../alertmanager/patches/script.js")],
    ingress=AlertmanagerIngressOptions(host="alertmanager.example.com"),
    proxy=NginxSidecarOptions(response_headers=SecurityHeaders.recommended()),
)

# the sidecar is not Alertmanager-only: here it fronts any app in a plain Deployment
dashboards = Chart(app, "any-workload")
grafana = kplus.Deployment(
    dashboards,
    "grafana",
    containers=[kplus.ContainerProps(
        name="grafana", image="grafana/grafana:11.3.0", ports=[kplus.ContainerPort(number=3000, name="http")],
    )],
)
grafana_service = grafana.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=3000)])
grafana_proxy = NginxSidecar(
    dashboards,
    "proxy",
    target=SidecarTarget.from_workload(grafana),
    upstream_port=3000,
    routes=[
        Route.cached("/public/", valid_for=Duration.days(1), browser_cache_for=Duration.hours(1)),
        # Grafana Live pushes dashboard updates over a WebSocket
        Route.web_socket("/api/live/"),
        Route.uncached("/api/"),
    ],
)
grafana_proxy.expose_via(grafana_service)

app.synth()
