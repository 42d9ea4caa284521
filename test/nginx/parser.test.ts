import { NginxSyntaxError, parseNginxConfig } from '../support/nginx-parser';

// the test helper must read config the way nginx does, or every renderer test built on it is moot

describe('parseNginxConfig', () => {
  describe('known nginx snippets', () => {
    test('log_format keeps a single-quoted string with spaces, $vars and double quotes', () => {
      const text = 'log_format main \'$remote_addr - "$request"\';\n';

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'log_format', args: ['main', '$remote_addr - "$request"'] },
      ]);
    });

    test('a case-insensitive regex location keeps its backslash and parentheses', () => {
      expect(parseNginxConfig('location ~* \\.(js|css)$ { }')).toStrictEqual([
        { name: 'location', args: ['~*', '\\.(js|css)$'], children: [] },
      ]);
    });

    test('if splits off the parentheses and keeps the quoted regex intact', () => {
      const text = 'if ($http_user_agent ~ "MSIE [1-6]\\.") { }';

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'if', args: ['($http_user_agent', '~', 'MSIE [1-6]\\.', ')'], children: [] },
      ]);
    });

    test('a rewrite regex with {n} is one word when quoted', () => {
      const text = "rewrite '^/a/(\\d{2})$' /b/$1;";

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'rewrite', args: ['^/a/(\\d{2})$', '/b/$1'] },
      ]);
    });

    test('fails when a rewrite regex with {n} is left unquoted: its { opens a block', () => {
      expect(() => parseNginxConfig('rewrite ^/a/(\\d{2})$ /b/$1;'))
        .toThrow('unexpected end of file, expecting "}" on line 1');
    });

    test('nested http, server and location blocks', () => {
      const text = [
        'http {',
        '    server {',
        '        listen 8080;',
        '        location / {',
        '            proxy_pass http://localhost:9093/;',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n');

      expect(parseNginxConfig(text)).toStrictEqual([
        {
          name: 'http',
          args: [],
          children: [
            {
              name: 'server',
              args: [],
              children: [
                { name: 'listen', args: ['8080'] },
                {
                  name: 'location',
                  args: ['/'],
                  children: [{ name: 'proxy_pass', args: ['http://localhost:9093/'] }],
                },
              ],
            },
          ],
        },
      ]);
    });
  });

  describe('comments', () => {
    test('a # at the start of a word comments out the rest of the line', () => {
      const text = '# top\nworker_processes 1; # trailing { ; }\n  #indented\nuser nginx;';

      expect(parseNginxConfig(text)).toStrictEqual([
        { name: 'worker_processes', args: ['1'] },
        { name: 'user', args: ['nginx'] },
      ]);
    });

    test('a # inside a word or inside quotes is an ordinary character', () => {
      expect(parseNginxConfig('add_header a#b \'#c\' "#d";')).toStrictEqual([
        { name: 'add_header', args: ['a#b', '#c', '#d'] },
      ]);
    });

    test('a comment may end the file without a line break', () => {
      expect(parseNginxConfig('a;#x')).toStrictEqual([{ name: 'a', args: [] }]);
    });
  });

  describe('words', () => {
    test.each([
      ['tabs and line breaks separate words', 'a\tb\r\nc;', ['a', 'b', 'c']],
      ['} inside a word is ordinary', 'a b}c;', ['a', 'b}c']],
      ['quotes inside an unquoted word are ordinary', 'a b\'c"d;', ['a', 'b\'c"d']],
      ['an empty quoted word stays', "a '' \"\";", ['a', '', '']],
      ['a quoted word keeps ; { } and line breaks', "a '; { }\n';", ['a', '; { }\n']],
      ['${name} keeps its { in an unquoted word', 'set $a ${b}x;', ['set', '$a', '${b}x']],
      ['a lone $ is ordinary', 'a $ b$;', ['a', '$', 'b$']],
      ['non-ASCII text passes through', 'a grüße 日本;', ['a', 'grüße', '日本']],
    ])('%s', (_title, text, words) => {
      const [directive] = parseNginxConfig(text);

      expect([directive.name, ...directive.args]).toStrictEqual(words);
    });

    test('a { after ${name} ends the word and opens a block', () => {
      expect(parseNginxConfig('a x${b}{ }')).toStrictEqual([
        { name: 'a', args: ['x${b}'], children: [] },
      ]);
    });

    test('a { right after a closing quote opens the block', () => {
      expect(parseNginxConfig("location '/a'{ }")).toStrictEqual([
        { name: 'location', args: ['/a'], children: [] },
      ]);
    });

    test('a ) right after a closing quote starts a word of its own', () => {
      expect(parseNginxConfig('if ($a = "b") { }')).toStrictEqual([
        { name: 'if', args: ['($a', '=', 'b', ')'], children: [] },
      ]);
    });
  });

  describe('escapes', () => {
    // nginx applies these in quoted and unquoted words alike
    test.each([
      ['\\" in double quotes', 'a "x\\"y";', 'x"y'],
      ["\\' in single quotes", "a 'x\\'y';", "x'y"],
      ['\\\\ becomes one backslash', "a 'x\\\\y';", 'x\\y'],
      ['\\t becomes a tab', "a 'x\\ty';", 'x\ty'],
      ['\\r becomes CR', "a 'x\\ry';", 'x\ry'],
      ['\\n becomes LF', "a 'x\\ny';", 'x\ny'],
      ['\\n also in an unquoted word', 'a x\\ny;', 'x\ny'],
      ['other escapes keep their backslash', "a '\\.\\d\\$';", '\\.\\d\\$'],
      ['an escaped ; stays in an unquoted word, backslash and all', 'a x\\;y;', 'x\\;y'],
      ['an escaped space stays in an unquoted word', 'a x\\ y;', 'x\\ y'],
      ['a leading \\" is a plain quote, not an opening one', 'a \\"x";', '"x"'],
      ['a backslash before a multi-byte character stays', "a '\\é';", '\\é'],
    ])('%s', (_title, text, arg) => {
      expect(parseNginxConfig(text)).toStrictEqual([{ name: 'a', args: [arg] }]);
    });
  });

  describe('errors', () => {
    test.each([
      ['a word glued to a closing quote', 'a "b"c;', 'unexpected "c" on line 1'],
      ['a comment glued to a closing quote', "a 'b'#c\n;", 'unexpected "#" on line 1'],
      ['a ; without a directive', 'a;\n;', 'unexpected ";" on line 2'],
      ['a { without a directive', '{ }', 'unexpected "{" on line 1'],
      ['a } ending a directive', 'http {\n a }', 'unexpected "}" on line 2'],
      ['a } at the top level', 'a;\n}', 'unexpected "}" on line 2'],
      ['an unclosed block', 'http {\n a;\n', 'unexpected end of file, expecting "}" on line 3'],
      ['a directive without ;', 'a b', 'unexpected end of file, expecting ";" or "}" on line 1'],
      ['an unclosed quote', "a 'b;\n", 'unexpected end of file, expecting ";" or "}" on line 2'],
    ])('fails on %s', (_title, text, message) => {
      expect(() => parseNginxConfig(text)).toThrow(NginxSyntaxError);
      expect(() => parseNginxConfig(text)).toThrow(message);
    });
  });

  describe('the 4 KB read buffer', () => {
    // limits measured with nginx 1.22 `nginx -t`: a word must fit in one 4096-byte read
    test.each([
      ['a quoted word of 4093 bytes', "'", 4093, true],
      ['a quoted word of 4094 bytes', "'", 4094, false],
      ['an unquoted word of 4094 bytes', '', 4094, true],
      ['an unquoted word of 4095 bytes', '', 4095, false],
    ])('%s followed by a space', (_title, quote, length, accepted) => {
      const text = `a ${quote}${'x'.repeat(length)}${quote} ;`;
      const parse = () => parseNginxConfig(text);

      if (accepted) {
        expect(parse()).toStrictEqual([{ name: 'a', args: ['x'.repeat(length)] }]);
      } else {
        expect(parse).toThrow('too long parameter "xxxxxxxxxx..." started on line 1');
      }
    });

    test('fails on a comment longer than the buffer', () => {
      expect(() => parseNginxConfig(`a;\n#${'x'.repeat(5000)}\nb;`))
        .toThrow('too long parameter "#xxxxxxxxx..." started on line 2');
    });

    test('fails on an unclosed quote that runs past the buffer', () => {
      expect(() => parseNginxConfig(`a '${'x'.repeat(5000)};`))
        .toThrow('too long parameter, probably missing terminating "\'" character on line 1');
    });

    test('a long file of short words reads across many buffers', () => {
      const text = 'a 0123456789;\n'.repeat(2000);

      expect(parseNginxConfig(text)).toHaveLength(2000);
    });
  });
});
