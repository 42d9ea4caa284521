import { cdk8s, javascript } from 'projen';

// one place for the environment every task shares: no upgrade checks against the registry
// (CI is offline apart from package registries) and no Node 20 end-of-life banner from jsii.
const quietEnv = {
  CDK8S_CHECK_UPGRADE: 'false',
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20',
};

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-nginx-sidecar',
  description:
    'An nginx reverse proxy and web server as a sidecar beside any cdk8s workload, '
    + 'with a complete Alertmanager behind it as the first use.',
  keywords: ['cdk8s', 'kubernetes', 'nginx', 'sidecar', 'reverse-proxy', 'alertmanager'],
  author: 'cdk8s-nginx-sidecar maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk8s-nginx-sidecar.git',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,

  // toolchain pins: TypeScript 7 breaks ts-jest 29, jsii 6 follows TypeScript 6.0
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.3',
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.5.1',
  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // yaml renders alertmanager.yml; it is not a jsii module, so it ships inside our tarball
  bundledDeps: ['yaml@^2.6.0'],
  devDeps: [
    'cdk8s-plus-27@^2.9.5',
    'cdk8s-cli@^2.200.0',
    // 5.x is ESM-only and wants Node 22
    'kubernetes-models@~4.5.0',
    'fast-check@^3.23.0',
    'ts-jest@^29',
    // ts-jest 29.4 loads jest-util but lists it only as an optional peer, so npm skips it
    'jest-util@^29',
    '@types/jest@^29',
    'ts-node@^10',
    '@types/node@^20',
  ],
  jestOptions: {
    jestVersion: '^29',
    // added below with reportTestSuiteErrors, so CI's count includes suites that fail to load
    junitReporting: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // end-to-end tests start real nginx and Alertmanager processes and wait on them
      testTimeout: 120_000,
      coverageReporters: ['text-summary', 'lcov'],
      reporters: [
        new javascript.JestReporter('jest-junit', {
          outputDirectory: 'test-reports',
          reportTestSuiteErrors: 'true',
        }),
      ],
    },
  },

  publishToPypi: {
    distName: 'cdk8s-nginx-sidecar',
    module: 'cdk8s_nginx_sidecar',
  },

  // CI here is .ci/run, not GitHub Actions
  github: false,
  release: false,
  docgen: true,
  gitignore: [
    '/examples/*/dist/',
    '/examples/*/imports/',
    '/.venv*/',
    '/.jsii.tabl.json',
    '__pycache__/',
    '/test/e2e/.work/',
    '/test-reports/',
  ],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/bench/', '/.ci/', '/docs/'] },
});

// a suite that runs nothing must fail, not pass
project.testTask.reset();
// ts-jest only transpiles (isolatedModules), so the tests are type-checked here
project.testTask.exec('tsc --noEmit -p test/tsconfig.json');
project.testTask.exec('jest --updateSnapshot', { receiveArgs: true });
project.testTask.spawn(project.tasks.tryFind('eslint')!);

// the library's own code stays narrow (STYLE.md): 100 columns, strings and all
project.eslint?.addOverride({
  files: ['src/**/*.ts'],
  rules: { '@stylistic/max-len': ['error', { code: 100, ignoreUrls: true, ignoreComments: false }] },
});

// without the silence flag jsii warns about names that are reserved words in Python or Java
project.compileTask.reset('jsii --fail-on-warnings');

for (const [name, value] of Object.entries(quietEnv)) {
  project.tasks.addEnvironment(name, value);
}

// npm 11 blocks dependency install scripts until they are decided; none of ours needs one
project.package.addField('allowScripts', { 'backport': false, '@parcel/watcher': false });

project.addDevDeps('jest-junit@^17');

const synthExample = project.addTask('synth:example', {
  description: 'Synthesizes the Alertmanager example app into examples/alertmanager/dist',
  cwd: 'examples/alertmanager',
  exec: 'cdk8s synth --no-check-upgrade',
});
// projen's task shell has no loops: name the folder, cdk8s synth has listed the files
synthExample.exec('echo "YAML written to examples/alertmanager/dist/"');

project.addTask('synth:example:python', {
  description: 'Builds the wheel, installs it in .venv-example/, synthesizes examples/python',
  exec: 'bash scripts/python-example.sh',
});

project.addTask('check:examples', {
  description: 'Fails when the TypeScript and Python examples synthesized different YAML',
  exec: 'bash scripts/compare-examples.sh examples/alertmanager/dist examples/python/dist',
});

project.addTask('test:fuzz', {
  description: 'Security fuzzing at full size: 10,000 cases per property, nginx -t on new configs',
  env: { FUZZ_RUNS: '10000' },
  exec: 'jest --coverage=false test/security/sidecar-fuzz test/security/alertmanager-fuzz',
});

project.addTask('docs:check', {
  description: 'Compiles every README snippet with jsii-rosetta, as the Python docs translate them',
  exec: 'jsii-rosetta extract --strict --compile .jsii',
});

project.addTask('bench', {
  description: 'Benchmarks against real nginx and Alertmanager; rewrites docs/benchmarks.md',
  exec: 'ts-node --project bench/tsconfig.json bench/run.ts',
});

project.synth();
