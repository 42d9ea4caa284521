// placeholder until the constructs land: renders one nginx.conf through the library's model,
// so the example pipeline (cdk8s synth, Python twin, YAML comparison) has real output to check.
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { NginxConfigFile, NginxDirective } from '../../src';

const app = new App();
const chart = new Chart(app, 'alertmanager');

const config = new NginxConfigFile([
  NginxDirective.simple('pid', '/var/cache/nginx/nginx.pid'),
  NginxDirective.block('events', [], []),
]);
new kplus.ConfigMap(chart, 'nginx-config', { data: { 'nginx.conf': config.render() } });

app.synth();
