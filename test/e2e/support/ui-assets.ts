import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

/**
 * The files of a generated Alertmanager UI directory, for `--web.ui-path`. Sizes and gzip ratios
 * follow the real 0.25 UI: an Elm bundle of about 110 kB and a Bootstrap 4 stylesheet of about
 * 151 kB. The text is generated from a seeded grammar, never a repeated character, so gzip finds
 * about as much to squeeze as in real minified files. At gzip level 6 the JS shrinks 3.3x (real
 * minified bundles in node_modules shrink 2.8x to 4x) and the CSS 7.2x (the published Bootstrap
 * 4.0.0-alpha.6 min.css shrinks 7.6x: 150,996 bytes to 19,933).
 */
export interface UiFiles {
  /** URL path (`/script.js`) to file content. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** URL path of the stylesheet below `/lib/`. */
  readonly stylesheetPath: string;
  /** URL path of the PNG below `/lib/`. */
  readonly pngPath: string;
}

export const SCRIPT_BYTES = 110_000;
export const STYLESHEET_BYTES = 151_000;
export const STYLESHEET_PATH = '/lib/bootstrap-4.0.0-alpha.6-dist/css/bootstrap.min.css';
export const PNG_PATH = '/lib/elm-datepicker/icons.png';

/** Generates the UI files in memory; the same every call. */
export function generateUi(): UiFiles {
  const files = new Map<string, Buffer>();
  files.set('/', Buffer.from(indexHtml(), 'utf-8'));
  files.set('/script.js', Buffer.from(elmLikeScript(SCRIPT_BYTES), 'utf-8'));
  files.set(STYLESHEET_PATH, Buffer.from(bootstrapLikeCss(STYLESHEET_BYTES), 'utf-8'));
  files.set('/favicon.ico', icoFile());
  files.set(PNG_PATH, pngFile(48, 48));
  return { files, stylesheetPath: STYLESHEET_PATH, pngPath: PNG_PATH };
}

/** Writes the UI below `dir` (`/` becomes index.html) and returns the in-memory copy. */
export function writeUi(dir: string): UiFiles {
  const ui = generateUi();
  for (const [urlPath, content] of ui.files) {
    const file = path.join(dir, urlPath === '/' ? 'index.html' : urlPath.slice(1));
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, content, { mode: 0o644 });
  }
  return ui;
}

/** Bytes of `content` after gzip at `level`, as nginx's gzip filter would roughly produce. */
export function gzipSize(content: Buffer, level = 6): number {
  return zlib.gzipSync(content, { level }).length;
}

/** Park-Miller: small and seeded, so every run generates the same bytes. */
function random(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

function picker(rnd: () => number) {
  return <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
}

function indexHtml(): string {
  // padded with the inline boot code a real Elm page carries, so it passes gzip_min_length
  const lines = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '  <head>',
    '    <meta charset="utf-8">',
    '    <meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">',
    '    <title>Alertmanager</title>',
    `    <link rel="stylesheet" href="${STYLESHEET_PATH.slice(1)}">`,
    '    <link rel="stylesheet" href="lib/font-awesome-4.7.0/css/font-awesome.min.css">',
    '    <link rel="icon" type="image/x-icon" href="favicon.ico">',
    '  </head>',
    '  <body>',
    '    <script src="script.js"></script>',
    '    <script>',
    '      var app = Elm.Main.init({',
    '        flags: {',
    '          production: true,',
    '          firstDayOfWeek: JSON.parse(localStorage.getItem("firstDayOfWeek")),',
    '          defaultCreator: localStorage.getItem("defaultCreator"),',
    '          groupExpandAll: JSON.parse(localStorage.getItem("groupExpandAll"))',
    '        }',
    '      });',
    '      app.ports.persistDefaultCreator.subscribe(function(name) {',
    '        localStorage.setItem("defaultCreator", name);',
    '      });',
    '      app.ports.persistGroupExpandAll.subscribe(function(expanded) {',
    '        localStorage.setItem("groupExpandAll", JSON.stringify(expanded));',
    '      });',
    '      app.ports.persistFirstDayOfWeek.subscribe(function(day) {',
    '        localStorage.setItem("firstDayOfWeek", JSON.stringify(day));',
    '      });',
    '    </script>',
    '  </body>',
    '</html>',
    '',
  ];
  return lines.join('\n');
}

const JS_WORDS = [
  'alert', 'alerts', 'silence', 'silences', 'receiver', 'matcher', 'matchers', 'label', 'labels',
  'status', 'startsAt', 'endsAt', 'createdBy', 'comment', 'filter', 'group', 'groups', 'expand',
  'collapse', 'inhibited', 'silenced', 'active', 'unprocessed', 'expired', 'pending', 'cluster',
  'peers', 'uptime', 'version', 'config', 'original', 'fingerprint', 'generatorURL', 'annotations',
  'duration', 'creator', 'isRegex', 'isEqual', 'value', 'name', 'id', 'state', 'updatedAt',
];
const JS_STRINGS = [
  'btn btn-outline-secondary', 'btn btn-primary', 'form-control', 'input-group', 'list-group-item',
  'text-muted', 'badge badge-info', 'card-header', 'row no-gutters', 'col-sm-10', 'ml-auto',
  'navbar navbar-expand-md navbar-light bg-faded', 'dropdown-menu', 'Preview Alerts', 'Create',
  'New Silence', 'Expire', 'Edit', 'Affected alerts', 'Start', 'End', 'Duration', 'Creator',
  'Comment', 'Matchers', 'Alerts affected by this silence', 'Custom matcher, e.g. env="production"',
  '/api/v2/alerts/groups', '/api/v2/silences', '/api/v2/status', '/api/v2/receivers', 'Invalid date',
  'Silence ID', 'Receiver', 'Silenced', 'Inhibited', 'Expand all groups', 'Collapse all groups',
  'is required', 'Cannot be empty', 'yyyy-MM-ddTHH:mm:ss', 'application/json', 'Content-Type',
  'click', 'input', 'change', 'keydown', 'focus', 'blur', 'href', 'className', 'style', 'value',
];

/**
 * JavaScript in the shape of a minified Elm 0.19 bundle: short identifiers, curried helper calls
 * (`A2`, `F3`), tagged object literals and the UI's own strings.
 */
function elmLikeScript(size: number): string {
  const rnd = random(0x5eed0001);
  const pick = picker(rnd);
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const ident = () => {
    const n = rnd() < 0.35 ? 1 : rnd() < 0.85 ? 2 : 3;
    let s = pick([...letters, '$', '_']);
    for (let i = 1; i < n; i++) s += pick([...letters, ...'0123456789']);
    return s;
  };
  const declared: string[] = [];
  const ref = () => (declared.length > 20 && rnd() < 0.7 ? pick(declared) : ident());
  const literal = (): string => {
    const r = rnd();
    if (r < 0.3) return JSON.stringify(pick(JS_STRINGS));
    if (r < 0.5) return JSON.stringify(pick(JS_WORDS));
    if (r < 0.7) return String(Math.floor(rnd() * (rnd() < 0.7 ? 10 : 100000)));
    if (r < 0.8) return pick(['!0', '!1', 'null', 'void 0', '_List_Nil', '_Utils_Tuple0']);
    return ref();
  };
  const expr = (depth: number): string => {
    const r = rnd();
    if (depth > 3 || r < 0.25) return literal();
    if (r < 0.45) {
      const arity = 2 + Math.floor(rnd() * 4);
      const args = Array.from({ length: arity }, () => expr(depth + 1));
      return `A${arity}(${ref()},${args.join(',')})`;
    }
    if (r < 0.6) {
      const fields = Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, i) => `${'abcdef'[i]}:${expr(depth + 1)}`);
      return `{$:${Math.floor(rnd() * 12)},${fields.join(',')}}`;
    }
    if (r < 0.7) return `${ref()}.${pick(JS_WORDS)}`;
    if (r < 0.8) return `_List_fromArray([${Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => expr(depth + 1)).join(',')}])`;
    if (r < 0.9) return `${ref()}(${expr(depth + 1)})`;
    return `${expr(depth + 1)}${pick(['+', '===', '<', '-', '&&', '||'])}${expr(depth + 1)}`;
  };
  const body = (params: string[]): string => {
    const r = rnd();
    if (r < 0.35) {
      const cases = Array.from({ length: 2 + Math.floor(rnd() * 4) }, (_, i) => `case ${i}:return ${expr(1)};`);
      return `switch(${params[0]}.$){${cases.join('')}default:return ${expr(1)}}`;
    }
    if (r < 0.55) {
      return `var ${ident()}=${expr(1)};return ${expr(1)}`;
    }
    return `return ${expr(0)}`;
  };
  const head = '(function(scope){\'use strict\';';
  const tail = 'var Mn=_Browser_application({init:Ln,onUrlChange:Qr,onUrlRequest:Yr,subscriptions:Zt,update:ot,view:ec});'
    + '_Platform_export({Main:{init:Mn(Jn)(0)}});}(this));\n';
  const parts = [head];
  let length = head.length + tail.length;
  for (;;) {
    const name = ident();
    const arity = Math.floor(rnd() * 4);
    const params = 'nrteuaoicf'.split('').sort(() => rnd() - 0.5).slice(0, Math.max(arity, 1));
    let statement: string;
    if (arity === 0) {
      statement = `var ${name}=${expr(0)};`;
    } else if (arity === 1) {
      statement = `var ${name}=function(${params[0]}){${body(params)}};`;
    } else {
      statement = `var ${name}=F${arity}(function(${params.join(',')}){${body(params)}});`;
    }
    if (length + statement.length > size - 16) {
      break;
    }
    declared.push(name);
    parts.push(statement);
    length += statement.length;
  }
  // one last string constant brings the file to the exact size
  const room = size - length - 'var zz="";'.length;
  const words = [];
  for (let taken = 0; taken < room;) {
    const word = pick(JS_WORDS);
    words.push(word);
    taken += word.length + 1;
  }
  parts.push(`var zz="${words.join(' ').slice(0, room)}";`);
  return parts.join('') + tail;
}

const CSS_COMPONENTS = [
  'btn', 'alert', 'badge', 'card', 'nav', 'navbar', 'dropdown', 'form-control', 'input-group',
  'list-group-item', 'modal', 'table', 'page-link', 'progress-bar', 'custom-select', 'breadcrumb',
  'jumbotron', 'tooltip', 'popover', 'carousel', 'close', 'form-check', 'media', 'embed',
];
const CSS_VARIANTS = ['primary', 'secondary', 'success', 'info', 'warning', 'danger', 'light', 'dark'];
const CSS_STATES = ['', ':hover', ':focus', '.active', ':disabled', '.disabled', ':not(:disabled)', '.focus', '::before', '::after'];
const CSS_PROPERTIES: Array<[string, string[]]> = [
  ['color', ['#fff', '#292b2c', '#636c72', '#0275d8', '#5cb85c', '#f0ad4e', '#d9534f', '#5bc0de', 'inherit', 'rgba(0,0,0,.5)']],
  ['background-color', ['#fff', '#0275d8', '#025aa5', '#5cb85c', '#449d44', '#f7f7f9', 'transparent', '#eceeef', 'rgba(0,0,0,.075)']],
  ['border-color', ['#0275d8', '#01549b', '#5cb85c', '#419641', '#ccc', 'transparent', '#ddd', 'rgba(0,0,0,.15)']],
  ['padding', ['.5rem 1rem', '.25rem .5rem', '.75rem 1.25rem', '0', '1rem', '.375rem .75rem']],
  ['margin', ['0', '0 auto', '.5rem 0', '-1px', '0 0 1rem']],
  ['margin-bottom', ['0', '.5rem', '1rem', '-1px', '.75rem']],
  ['border', ['1px solid transparent', '0', '1px solid rgba(0,0,0,.125)', '1px solid #ddd']],
  ['border-radius', ['.25rem', '.3rem', '.2rem', '0', '10rem', '50%']],
  ['display', ['block', 'inline-block', 'none', '-webkit-box;display:-webkit-flex;display:-ms-flexbox;display:flex', 'table']],
  ['font-size', ['1rem', '.875rem', '1.25rem', '75%', '90%']],
  ['font-weight', ['400', '700', 'bold', 'normal']],
  ['line-height', ['1.5', '1.25', '1', '1.1']],
  ['position', ['relative', 'absolute', 'fixed', 'static']],
  ['text-decoration', ['none', 'underline']],
  ['-webkit-box-shadow', ['0 0 0 2px rgba(2,117,216,.5);box-shadow:0 0 0 2px rgba(2,117,216,.5)', 'none;box-shadow:none', 'inset 0 3px 5px rgba(0,0,0,.125);box-shadow:inset 0 3px 5px rgba(0,0,0,.125)']],
  ['-webkit-transition', ['all .2s ease-in-out;-o-transition:all .2s ease-in-out;transition:all .2s ease-in-out', 'opacity .15s linear;-o-transition:opacity .15s linear;transition:opacity .15s linear']],
  ['opacity', ['.65', '.5', '0', '1', '.9']],
  ['z-index', ['1', '2', '1000', '1030', '1050', '1070']],
  ['width', ['100%', 'auto', '8.333333%', '16.666667%', '25%', '33.333333%', '50%', '66.666667%', '75%']],
  ['cursor', ['pointer', 'not-allowed', 'default']],
  ['vertical-align', ['middle', 'top', 'baseline', '-.125em']],
  ['white-space', ['nowrap', 'normal', 'pre']],
];
const CSS_BREAKPOINTS = [['sm', '576px'], ['md', '768px'], ['lg', '992px'], ['xl', '1200px']];

/**
 * Minified CSS in the shape of Bootstrap 4: component rules with colour variants and states,
 * grid and spacing utilities per breakpoint, vendor-prefixed declarations.
 */
function bootstrapLikeCss(size: number): string {
  const rnd = random(0x5eed0002);
  const pick = picker(rnd);
  const declarations = (count: number) => {
    const used = new Set<string>();
    const out: string[] = [];
    while (out.length < count) {
      const [property, values] = pick(CSS_PROPERTIES);
      if (used.has(property)) continue;
      used.add(property);
      // now and then a value nobody else uses, as hand-written overrides have
      const isLength = /^(padding|margin|margin-bottom|font-size|border-radius)$/.test(property);
      const value = isLength && rnd() < 0.1 ? `${(rnd() * 3).toFixed(3).replace(/0+$/, '')}rem` : pick(values);
      out.push(`${property}:${value}`);
    }
    return out.join(';');
  };
  const selector = () => {
    const component = pick(CSS_COMPONENTS);
    const r = rnd();
    if (r < 0.4) {
      const variant = pick(CSS_VARIANTS);
      const outline = rnd() < 0.3 ? 'outline-' : '';
      const state = pick(CSS_STATES);
      return `.${component}-${outline}${variant}${state}`;
    }
    if (r < 0.6) {
      return `.${component}${pick(CSS_STATES)},.${component}-${pick(['sm', 'lg', 'block', 'group', 'item', 'link', 'toggle', 'header', 'body', 'footer'])}${pick(CSS_STATES)}`;
    }
    if (r < 0.8) {
      return `.${component}>.${pick(CSS_COMPONENTS)}${pick(CSS_STATES)},.${component} .${pick(CSS_COMPONENTS)}-${pick(CSS_VARIANTS)}`;
    }
    return `.${component}-${pick(['title', 'text', 'subtitle', 'link', 'divider', 'menu', 'content', 'dialog'])}${pick(CSS_STATES)}`;
  };
  const utilities = (bp: string) => {
    const rules: string[] = [];
    for (let i = 1; i <= 12; i++) {
      rules.push(`.col-${bp}-${i}{-webkit-box-flex:0;-webkit-flex:0 0 ${(i / 12 * 100).toFixed(6).replace(/\.?0+$/, '')}%;-ms-flex:0 0 ${(i / 12 * 100).toFixed(6).replace(/\.?0+$/, '')}%;flex:0 0 ${(i / 12 * 100).toFixed(6).replace(/\.?0+$/, '')}%;max-width:${(i / 12 * 100).toFixed(6).replace(/\.?0+$/, '')}%}`);
    }
    for (const [abbr, prop] of [['m', 'margin'], ['p', 'padding']]) {
      for (const [side, sides] of [['', ['']], ['t', ['-top']], ['r', ['-right']], ['b', ['-bottom']], ['l', ['-left']], ['x', ['-right', '-left']], ['y', ['-top', '-bottom']]] as Array<[string, string[]]>) {
        ['0', '.25rem', '.5rem', '1rem', '1.5rem', '3rem'].forEach((value, n) => {
          rules.push(`.${abbr}${side}-${bp}-${n}{${sides.map((s) => `${prop}${s}:${value}!important`).join(';')}}`);
        });
      }
    }
    return rules.join('');
  };
  const parts: string[] = ['/*!\n * Bootstrap-like stylesheet generated for tests\n */html{font-family:sans-serif;line-height:1.15;-ms-text-size-adjust:100%;-webkit-text-size-adjust:100%}body{margin:0}'];
  let length = parts[0].length;
  let rulesSinceMedia = 0;
  while (length < size) {
    let rule: string;
    if (rulesSinceMedia > 120 && rnd() < 0.05) {
      const [bp, width] = pick(CSS_BREAKPOINTS);
      rule = `@media (min-width:${width}){${utilities(bp)}}`;
      rulesSinceMedia = 0;
    } else {
      rule = `${selector()}{${declarations(1 + Math.floor(rnd() * 5))}}`;
      rulesSinceMedia++;
    }
    parts.push(rule);
    length += rule.length;
  }
  return parts.join('').slice(0, size - 1) + '}';
}

/** A 16x16 32-bit icon: an ICO header and directory entry around a PNG image. */
function icoFile(): Buffer {
  const png = pngFile(16, 16);
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(1, 4);
  header.writeUInt8(16, 6);
  header.writeUInt8(16, 7);
  header.writeUInt16LE(1, 10);
  header.writeUInt16LE(32, 12);
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(22, 18);
  return Buffer.concat([header, png]);
}

/** A valid RGBA PNG with a noisy gradient, so its deflated pixels do not compress further. */
function pngFile(width: number, height: number): Buffer {
  const rnd = random(0x5eed0000 + width);
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 4;
      raw[i] = Math.floor(x * 5 + rnd() * 60) % 256;
      raw[i + 1] = Math.floor(y * 5 + rnd() * 60) % 256;
      raw[i + 2] = Math.floor(128 + rnd() * 120) % 256;
      raw[i + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8);
  ihdr.writeUInt8(6, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typeAndData), 0);
  return Buffer.concat([length, typeAndData, crc]);
}
