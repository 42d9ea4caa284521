import * as fc from 'fast-check';
import { NginxConfigFile, NginxDirective, quoteArgument } from '../../src/nginx/directive';
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

// [value, what quoteArgument must print], the printed form written out as it appears in the file
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

describe('quoteArgument', () => {
  test.each(QUOTING_CASES)('%s', (_title, value, rendered) => {
    expect(quoteArgument(value)).toBe(rendered);
  });

  test.each(QUOTING_CASES)('nginx reads back %s exactly', (_title, value) => {
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

  test('a realistic config renders as written and survives parse and render byte for byte', () => {
    const config = new NginxConfigFile([
      simple('worker_processes', '1'),
      simple('pid', '/var/cache/nginx/nginx.pid'),
      block('events', [], [simple('worker_connections', '1024')]),
      block('http', [], [
        block('types', [], [
          simple('text/html', 'html', 'htm'),
          simple('application/javascript', 'js'),
          simple('image/svg+xml', 'svg'),
        ]),
        simple('default_type', 'application/octet-stream'),
        simple('log_format', 'main', '$remote_addr - "$request" $status $request_time'),
        simple('proxy_cache_path', '/var/cache/nginx/cache', 'levels=1:2', 'keys_zone=am:100m'),
        block('map', ['$uri', '$static_expires'], [
          simple('default', 'off'),
          simple(raw`~*\.(js|css|png)$`, '90d'),
          simple('', 'off'),
        ]),
        block('server', [], [
          simple('listen', '8080'),
          simple('add_header', 'X-Proxy-Cache', '$upstream_cache_status'),
          block('location', ['=', '/script.js'], [
            simple('root', '/usr/share/nginx/html'),
            simple('expires', '90d'),
          ]),
          block('location', ['~*', raw`\.(js|css|png)$`], [simple('expires', '$static_expires')]),
          block('location', ['/'], [
            block('if', ['($http_user_agent', '~', raw`MSIE [1-6]\.`, ')'], [
              simple('return', '403', "it's \"old\""),
            ]),
            simple('rewrite', raw`^/a/(\d{2})$`, '/b/$1', 'last'),
            simple('proxy_pass', 'http://localhost:9093/'),
          ]),
        ]),
      ]),
    ]);

    const text = config.render();
    const reparsed = new NginxConfigFile(parseNginxConfig(text).map(toModel)).render();

    expect(text).toBe(raw`worker_processes 1;
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
    proxy_cache_path /var/cache/nginx/cache levels=1:2 keys_zone=am:100m;
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
    expect(reparsed).toBe(text);
  });
});
