// placeholder until the real example lands: Alertmanager behind the nginx sidecar, all
// defaults, so the example pipeline (cdk8s synth, Python twin, YAML comparison) has real output.
import { App, Chart } from 'cdk8s';
import { AlertmanagerWithProxy } from '../../src';

const app = new App();
const chart = new Chart(app, 'alertmanager');

new AlertmanagerWithProxy(chart, 'alertmanager');

app.synth();
