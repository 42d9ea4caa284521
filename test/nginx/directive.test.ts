import * as net from 'net';
import * as fc from 'fast-check';
import { NginxConfigFile, NginxDirective, quoteArgument } from '../../src/nginx/directive';
import {
  checkNginxConfig, describeWithNginx, freePort, RunningNginx, startNginx,
} from '../support/nginx';
import { ParsedDirective, parseNginxConfig } from '../support/nginx-parser';

const raw = String.raw;
const simple = NginxDirective.simple;
const block = NginxDirective.block;

/** Rebuilds the model from parsed text, so that parse and render can be chained. */
function toModel(parsed: ParsedDirective): NginxDirective {
  return parsed.children
    ? block(parsed.name, parsed.args, parsed.children.map(toModel))
    : simple(parsed.name, ...parsed.args);
}

// [title, value, rendered]: the rendered form is written out as it appears in the file
const QUOTING_CASES: Array<[title: string, value: string, rendered: string]> = [
  ['a number', '8080', '8080'],
  ['a path', '/var/cache/nginx', '/var/cache/nginx'],
  ['a URL', 'http://localhost:9093/', 'http://localhost:9093/'],
  ['a variable', '$upstream_cache_status', '$upstream_cache_status'],
  ['a key=value option', 'levels=1:2', 'levels=1:2'],
  ['a match operator', '~*', '~*'],
  ['an if opening parenthesis', '($http_user_agent', '($http_user_agent'],
  ['a lone $', '$', '$'],
  ['the empty string', '', "''"],
  ['a space', 'a b', "'a b'"],
  ['leading and trailing spaces', ' a ', "' a '"],
  ['a tab', 'a\tb', "'a\tb'"],
  ['a no-break space, which nginx would not split on', 'a\u00a0b', "'a\u00a0b'"],
  ['a semicolon', 'a;b', "'a;b'"],
  ['an opening brace', '{', "'{'"],
  ['a closing brace', '}', "'}'"],
  ['a hash', '#', "'#'"],
  ['a hash inside a word', 'a#b', "'a#b'"],
  ['a single quote', "it's", raw`"it's"`],
  ['double quotes', 'say "hi"', raw`'say "hi"'`],
  ['both quotes', raw`it's "x"`, raw`'it\'s "x"'`],
  ['a trailing backslash', 'C:\\dir\\', raw`'C:\dir\\'`],
  ['a lone backslash', '\\', raw`'\\'`],
  ['\\n as two characters', raw`\n`, raw`'\\n'`],
  ['\\t as two characters', raw`\t`, raw`'\\t'`],
  ['\\r as two characters', raw`\r`, raw`'\\r'`],
  ["\\' as two characters", raw`\'`, raw`"\\'"`],
  ['\\" as two characters', raw`\"`, raw`'\\"'`],
  ['two backslashes', raw`\\`, raw`'\\\\'`],
  ['a backslash before other characters', raw`a\b\$`, raw`'a\b\$'`],
  ['a backslash before " with both quotes present', raw`\"'`, raw`'\\"\''`],
  ['a location regex', raw`\.php$`, raw`'\.php$'`],
  ['an if regex', raw`MSIE [1-6]\.`, raw`'MSIE [1-6]\.'`],
  ['a regex ending in $', raw`\.(js|css)$`, raw`'\.(js|css)$'`],
  ['a regex with {n}', raw`^/x/(\d{3})$`, raw`'^/x/(\d{3})$'`],
  ['a map regex key', raw`~*\.(png|svg)$`, raw`'~*\.(png|svg)$'`],
  [
    'a log_format string',
    '$remote_addr - $remote_user [$time_local] "$request"',
    raw`'$remote_addr - $remote_user [$time_local] "$request"'`,
  ],
  ['a log_format string with ${}', '${status} ${bytes_sent}', "'${status} ${bytes_sent}'"],
  ['UTF-8 text', 'grüße', 'grüße'],
  ['UTF-8 text with a space', '日本語 テキスト', "'日本語 テキスト'"],
  ['an emoji outside the BMP', '🚀', '🚀'],
];

// each must come back from the parser as exactly one argument of exactly one directive
const HOSTILE_VALUES: string[] = [
  'x; evil on',
  'x } server { listen 1',
  "'; include /etc/passwd; '",
  '"; include /etc/passwd; "',
  "'\"; include /etc/passwd; '\"",
  '}',
  '{',
  ';',
  '};{',
  ') { return 200 x; } location / {',
  '\\',
  'a\\',
  '\\\\',
  '\\\\\\',
  "\\'",
  '\\"',
  "'",
  '"',
  "'\\",
  '"\\',
  '\\;',
  '\\{',
  '\\}',
  '\\#',
  '\\ ',
  '#comment',
  'x #comment',
  '#',
  '$',
  '$$',
  '$;',
  '${host}',
  'a${b}c',
  '${x}{',
  '}${x}{',
  '$ {',
  '{$',
  '\t',
  '   ',
  'é\\',
  '\\é',
  '\u2028',
];

/** Hand-written words (not rendered) whose reading the parser and nginx must agree on. */
const RAW_WORDS: string[] = [
  raw`"x\"y"`,
  raw`'x\'y'`,
  raw`'a\\b'`,
  raw`a\\`,
  raw`"a\tb"`,
  raw`x\ty`,
  raw`\"x"`,
  raw`a\;b`,
  raw`a\ b`,
  raw`'\é'`,
  raw`'\.\d\$'`,
  'a}b',
  raw`a'b"c`,
  'x${b}',
  'x${b}}',
  "'#'",
  'a#b',
  '""',
  "'a b'",
  raw`"it's"`,
  raw`"'"`,
  raw`'"'`,
  '$',
  'a$',
  'grüße',
];

// [title, config] that nginx must refuse while reading it; the parser must give nginx's reason
const BROKEN_CONFIGS: Array<[title: string, config: string]> = [
  ['a stray }', 'events {}\n}\n'],
  ['an unclosed block', 'events {\n'],
  ['a missing ;', 'events {}\nworker_processes 1'],
  ['a word glued to a quote', 'worker_processes "1"x;\nevents {}\n'],
  ['a lone ;', 'events {}\n;\n'],
  ['a lone {', '{}\n'],
  ['a } ending a directive', 'events { worker_connections 10 }\n'],
  ['an unclosed quote', "worker_processes '1;\nevents {}\n\n"],
  ['a word longer than the read buffer', `worker_processes ${'1'.repeat(4095)} ;\nevents {}\n`],
  ['a comment longer than the read buffer', `#${'x'.repeat(5000)}\nevents {}\n`],
  ['an unclosed quote longer than the read buffer', `worker_processes '${'1'.repeat(5000)};\n`],
];

describe('quoteArgument', () => {
  test.each(QUOTING_CASES)('%s', (_title, value, rendered) => {
    expect(quoteArgument(value)).toBe(rendered);
  });

  test.each(QUOTING_CASES)('the parser reads back %s exactly', (_title, value) => {
    const text = simple('return', '200', value).render();

    expect(parseNginxConfig(text)).toStrictEqual([{ name: 'return', args: ['200', value] }]);
  });
});

describe('NginxDirective', () => {
  describe('render', () => {
    test('a simple directive is its words and a semicolon on one line', () => {
      expect(simple('listen', '8080').render()).toBe('listen 8080;\n');
    });

    test('a directive without arguments', () => {
      expect(simple('gzip_vary').render()).toBe('gzip_vary;\n');
    });

    test('depth indents by four spaces per level', () => {
      expect(simple('expires', '90d').render(2)).toBe('        expires 90d;\n');
    });

    test('a block indents its children and closes at its own depth', () => {
      const location = block('location', ['=', '/script.js'], [
        simple('root', '/usr/share/nginx/html'),
        block('if', ['($request_method', '=', 'POST', ')'], [simple('return', '405')]),
      ]);

      expect(location.render(1)).toBe([
        '    location = /script.js {',
        '        root /usr/share/nginx/html;',
        '        if ($request_method = POST ) {',
        '            return 405;',
        '        }',
        '    }',
        '',
      ].join('\n'));
    });

    test('an empty block still opens and closes', () => {
      expect(block('events', [], []).render()).toBe('events {\n}\n');
    });

    test('a name that is not a plain word is quoted like an argument', () => {
      const map = block('map', ['$http_upgrade', '$connection_upgrade'], [
        simple('default', 'upgrade'),
        simple('', 'close'),
        simple(raw`~*\.js$`, 'js'),
      ]);

      expect(map.render()).toBe([
        'map $http_upgrade $connection_upgrade {',
        '    default upgrade;',
        "    '' close;",
        raw`    '~*\.js$' js;`,
        '}',
        '',
      ].join('\n'));
    });

    test('later changes to the caller\'s arrays do not reach the directive', () => {
      const args = ['a'];
      const children = [simple('b')];
      const directive = block('c', args, children);

      args.push('x');
      children.push(simple('y'));

      expect(directive.render()).toBe('c a {\n    b;\n}\n');
    });
  });

  describe('hostile values', () => {
    test.each(HOSTILE_VALUES)('argument %j stays one argument of one directive', (value) => {
      const text = new NginxConfigFile([
        block('server', [], [simple('add_header', 'X-Test', value)]),
      ]).render();

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'server', args: [], children: [{ name: 'add_header', args: ['X-Test', value] }] },
      ]);
    });

    test.each(HOSTILE_VALUES)('name %j stays the name of one directive', (value) => {
      const text = block('map', ['$a', '$b'], [simple(value, 'x')]).render();

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'map', args: ['$a', '$b'], children: [{ name: value, args: ['x'] }] },
      ]);
    });

    test('any accepted string survives render and parse unchanged', () => {
      // mostly characters that mean something to nginx, with arbitrary Unicode in between
      const tricky = fc.constantFrom(...'\\\'"; {}#$()tnr\t'.split(''));
      const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
      const values = fc.string({ unit: fc.oneof(tricky, tricky, anyCodePoint), maxLength: 24 });

      fc.assert(fc.property(fc.array(values, { maxLength: 4 }), (args) => {
        let directive: NginxDirective;
        try {
          directive = simple('add_header', ...args);
        } catch {
          // refused values (line breaks, NUL, unclosed `${`) are covered by their own tests
          fc.pre(false);
          return;
        }
        expect(parseNginxConfig(directive.render())).toStrictEqual([
          { name: 'add_header', args },
        ]);
      }), { numRuns: 2000 });
    });
  });

  describe('refused values', () => {
    test.each([
      ['a line feed', 'a\nb', raw`"a\nb"`],
      ['a carriage return', 'a\rb', raw`"a\rb"`],
      ['a NUL', 'a\0b', raw`"a\u0000b"`],
    ])('fails when an argument holds %s', (_title, value, shown) => {
      expect(() => simple('return', '200', value))
        .toThrow(`nginx argument of 'return' must not contain a line break or NUL, got ${shown}`);
    });

    test('fails when a block argument holds a line break', () => {
      expect(() => block('location', ['=', '/a\n'], []))
        .toThrow(raw`nginx argument of 'location' must not contain a line break or NUL`
          + raw`, got "/a\n"`);
    });

    test('fails when a name holds a line break', () => {
      expect(() => simple('default\n', 'x'))
        .toThrow(raw`nginx directive name must not contain a line break or NUL, got "default\n"`);
    });

    test('fails when an argument holds a lone surrogate', () => {
      expect(() => simple('return', '200', 'a\ud800'))
        .toThrow(raw`nginx argument of 'return' must be well-formed Unicode, got "a\ud800"`);
    });

    const unclosed = ['${', 'a${b', '${1}', '${a-b}'];
    test.each(unclosed)('fails when an argument opens %j but never closes it', (value) => {
      expect(() => simple('return', '200', value))
        .toThrow(`nginx argument of 'return' has an unclosed '\${', got ${JSON.stringify(value)}`);
    });

    test('an argument that renders to 4094 bytes is accepted', () => {
      expect(simple('a', 'x'.repeat(4094)).render()).toBe(`a ${'x'.repeat(4094)};\n`);
      expect(simple('a', ' '.repeat(4092)).render()).toBe(`a '${' '.repeat(4092)}';\n`);
    });

    test.each([
      ['an unquoted argument', 'x'.repeat(4095), 4095],
      ['a quoted argument', ' '.repeat(4093), 4095],
      ['a multi-byte argument', 'é'.repeat(2048), 4096],
    ])('fails when %s renders to more than 4094 bytes', (_title, value, bytes) => {
      expect(() => simple('add_header', 'X', value))
        .toThrow(`nginx argument of 'add_header' must render to at most 4094 bytes, got ${bytes}`);
    });
  });
});

describe('NginxConfigFile', () => {
  test('no directives render to nothing', () => {
    expect(new NginxConfigFile([]).render()).toBe('');
  });

  test('a realistic config renders as written', () => {
    expect(realisticConfig('/var/cache/nginx').render()).toBe(raw`worker_processes 1;
pid /var/cache/nginx/nginx.pid;
events {
    worker_connections 1024;
}
http {
    types {
        text/html html htm;
        application/javascript js;
        image/svg+xml svg;
    }
    default_type application/octet-stream;
    log_format main '$remote_addr - "$request" $status $request_time';
    access_log off;
    client_body_temp_path /var/cache/nginx/client_body_temp;
    proxy_temp_path /var/cache/nginx/proxy_temp;
    fastcgi_temp_path /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path /var/cache/nginx/uwsgi_temp;
    scgi_temp_path /var/cache/nginx/scgi_temp;
    proxy_cache_path /var/cache/nginx/cache levels=1:2 keys_zone=am:10m;
    map $uri $static_expires {
        default off;
        '~*\.(js|css|png)$' 90d;
        '' off;
    }
    server {
        listen 8080;
        add_header X-Proxy-Cache $upstream_cache_status;
        location = /script.js {
            root /usr/share/nginx/html;
            expires 90d;
        }
        location ~* '\.(js|css|png)$' {
            expires $static_expires;
        }
        location / {
            if ($http_user_agent ~ 'MSIE [1-6]\.' ) {
                return 403 'it\'s "old"';
            }
            rewrite '^/a/(\d{2})$' /b/$1 last;
            proxy_pass http://localhost:9093/;
        }
    }
}
`);
  });

  test('a realistic config survives parse and render byte for byte', () => {
    const text = realisticConfig('/var/cache/nginx').render();
    const reparsed = new NginxConfigFile(parseNginxConfig(text).map(toModel)).render();

    expect(reparsed).toBe(text);
  });
});

describeWithNginx('the real nginx binary', () => {
  // every value the renderer accepts above, served back by one nginx
  const quotingValues = QUOTING_CASES.map(([, value]) => value);
  const renderedValues = [...new Set([...quotingValues, ...HOSTILE_VALUES])];
  const nameValues = ['', ...HOSTILE_VALUES];
  const responses = new Map<string, RawResponse>();
  let nginx: RunningNginx | undefined;

  beforeAll(async () => {
    const port = await freePort();
    const config = echoConfig(port, renderedValues, nameValues).render();
    const files = { 'raw-words.conf': rawWordLocations() };
    nginx = await startNginx({ config, files }, { port });
    const paths = [
      ...renderedValues.map((_value, i) => `/value/${i}`),
      ...nameValues.map((_value, i) => `/name/${i}.t`),
      ...RAW_WORDS.map((_word, i) => `/raw/${i}`),
    ];
    for (const path of paths) {
      responses.set(path, await httpGet(port, path));
    }
  });

  afterAll(async () => {
    await nginx?.stop();
  });

  // `return` expands $variables, so values holding `$` are read back through default_type only
  const literalBodies = renderedValues.filter((value) => !value.includes('$'));

  test.each(literalBodies)('return 200 %j answers exactly that body', (value) => {
    const response = responses.get(`/value/${renderedValues.indexOf(value)}`)!;

    expect(response.status).toBe(200);
    expect(response.body.toString('utf8')).toBe(value);
  });

  test.each(renderedValues)('default_type %j comes back as the Content-Type', (value) => {
    const response = responses.get(`/value/${renderedValues.indexOf(value)}`)!;

    // nginx leaves out an empty Content-Type
    expect(response.header('Content-Type')).toBe(value === '' ? undefined : value);
  });

  test.each(nameValues)('the types name %j comes back as the Content-Type', (value) => {
    const response = responses.get(`/name/${nameValues.indexOf(value)}.t`)!;

    expect(response.header('Content-Type')).toBe(value === '' ? undefined : value);
  });

  test.each(RAW_WORDS)('nginx reads the word %s as the test parser does', (word) => {
    const [{ args: [parsed] }] = parseNginxConfig(`default_type ${word};`);
    const response = responses.get(`/raw/${RAW_WORDS.indexOf(word)}`)!;

    expect(response.header('Content-Type')).toBe(parsed === '' ? undefined : parsed);
  });

  test.each(BROKEN_CONFIGS)('nginx -t and the test parser reject %s alike', (_title, config) => {
    const result = checkNginxConfig({ config });
    const nginxError = /\[emerg\] (?:\d+#\d+: )?(.+) in \S+:(\d+)/.exec(result.output);

    expect(result.ok).toBe(false);
    expect(nginxError).not.toBeNull();
    expect(() => parseNginxConfig(config)).toThrow(`${nginxError![1]} on line ${nginxError![2]}`);
  });

  test('nginx -t refuses a rewrite regex whose {n} is not quoted', () => {
    const config = 'events {}\nhttp {\n    server {\n        rewrite ^/(\\d{2})$ /x;\n    }\n}\n';
    const result = checkNginxConfig({ config });

    expect(result.output).toMatch(/directive "rewrite" is not terminated by ";" in \S+:4/);
    expect(result.ok).toBe(false);
  });

  test('nginx -t accepts arguments that render to the 4094-byte limit', () => {
    // each long word is followed by a space, the tightest spot for nginx's read buffer
    const config = new NginxConfigFile([
      simple('pid', 'tmp/nginx.pid'),
      block('events', [], []),
      block('http', [], [
        ...writablePaths('tmp'),
        simple('log_format', 'unquoted', 'x'.repeat(4094), 'end'),
        simple('log_format', 'quoted', ' '.repeat(4092), 'end'),
      ]),
    ]).render();
    const result = checkNginxConfig({ config });

    expect(result.output).toMatch(/test is successful/);
  });

  test('nginx -t accepts the realistic config', () => {
    const result = checkNginxConfig({ config: realisticConfig('tmp').render() });

    expect(result.output).toMatch(/test is successful/);
    expect(result.ok).toBe(true);
  });
});

/** The config of the round-trip tests; `stateDir` must be writable when nginx runs it. */
function realisticConfig(stateDir: string): NginxConfigFile {
  const staticFiles = raw`\.(js|css|png)$`;
  return new NginxConfigFile([
    simple('worker_processes', '1'),
    simple('pid', `${stateDir}/nginx.pid`),
    block('events', [], [simple('worker_connections', '1024')]),
    block('http', [], [
      block('types', [], [
        simple('text/html', 'html', 'htm'),
        simple('application/javascript', 'js'),
        simple('image/svg+xml', 'svg'),
      ]),
      simple('default_type', 'application/octet-stream'),
      simple('log_format', 'main', '$remote_addr - "$request" $status $request_time'),
      simple('access_log', 'off'),
      ...writablePaths(stateDir),
      simple('proxy_cache_path', `${stateDir}/cache`, 'levels=1:2', 'keys_zone=am:10m'),
      block('map', ['$uri', '$static_expires'], [
        simple('default', 'off'),
        simple(`~*${staticFiles}`, '90d'),
        simple('', 'off'),
      ]),
      block('server', [], [
        simple('listen', '8080'),
        simple('add_header', 'X-Proxy-Cache', '$upstream_cache_status'),
        block('location', ['=', '/script.js'], [
          simple('root', '/usr/share/nginx/html'),
          simple('expires', '90d'),
        ]),
        block('location', ['~*', staticFiles], [simple('expires', '$static_expires')]),
        block('location', ['/'], [
          block('if', ['($http_user_agent', '~', raw`MSIE [1-6]\.`, ')'], [
            simple('return', '403', raw`it's "old"`),
          ]),
          simple('rewrite', raw`^/a/(\d{2})$`, '/b/$1', 'last'),
          simple('proxy_pass', 'http://localhost:9093/'),
        ]),
      ]),
    ]),
  ]);
}

/** Temp paths a non-root nginx must be able to write. */
function writablePaths(stateDir: string): NginxDirective[] {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => simple(`${kind}_temp_path`, `${stateDir}/${kind}_temp`));
}

/**
 * A server that answers `/value/<i>` with value i as body and Content-Type, and `/name/<i>.t`
 * with name i (a `types` entry) as Content-Type; `raw-words.conf` adds `/raw/<i>`.
 */
function echoConfig(port: number, values: string[], names: string[]): NginxConfigFile {
  const valueLocations = values.map((value, i) => block('location', ['=', `/value/${i}`], [
    simple('default_type', value),
    simple('return', '200', value.includes('$') ? '' : value),
  ]));
  const nameLocations = names.map((name, i) => block('location', ['=', `/name/${i}.t`], [
    block('types', [], [simple(name, 't')]),
    simple('return', '200', 'ok'),
  ]));
  return new NginxConfigFile([
    simple('worker_processes', '1'),
    simple('pid', 'tmp/nginx.pid'),
    block('events', [], [simple('worker_connections', '64')]),
    block('http', [], [
      simple('access_log', 'off'),
      ...writablePaths('tmp'),
      block('server', [], [
        simple('listen', `127.0.0.1:${port}`),
        ...valueLocations,
        ...nameLocations,
        simple('include', 'raw-words.conf'),
      ]),
    ]),
  ]);
}

function rawWordLocations(): string {
  // written by hand on purpose: the renderer would quote these differently
  return RAW_WORDS.map((word, i) =>
    `location = /raw/${i} { default_type ${word}; return 200 ok; }\n`).join('');
}

interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
  /** A header's value decoded as UTF-8, as nginx wrote its bytes; undefined when absent. */
  header(name: string): string | undefined;
}

/**
 * One HTTP/1.0 GET over a bare socket, so that header bytes arrive exactly as nginx sent them
 * (node's HTTP client would reject or re-decode some of the values under test).
 */
async function httpGet(port: number, path: string): Promise<RawResponse> {
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`GET ${path} timed out`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const headEnd = bytes.indexOf('\r\n\r\n');
  const lines = splitLines(bytes.subarray(0, headEnd));
  const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(lines[0].toString('latin1'))?.[1]);
  return {
    status,
    body: bytes.subarray(headEnd + 4),
    header: (name) => {
      const prefix = Buffer.from(`${name}: `, 'latin1');
      const line = lines.find((candidate) => candidate.subarray(0, prefix.length).equals(prefix));
      return line?.subarray(prefix.length).toString('utf8');
    },
  };
}

function splitLines(head: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = head.indexOf('\r\n'); end >= 0; end = head.indexOf('\r\n', start)) {
    lines.push(head.subarray(start, end));
    start = end + 2;
  }
  lines.push(head.subarray(start));
  return lines;
}
