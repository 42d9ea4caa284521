/**
 * One nginx directive: a name, its arguments and, for a block, the directives inside it.
 *
 * Names and arguments are data, never syntax: rendering quotes and escapes them so that no value
 * can end, add or split a directive. The name is simply the first word, so inside `map` and
 * `types` blocks it can be a key such as `''`, `~*gzip` or `text/html`.
 */
export class NginxDirective {
  /**
   * A simple directive, rendered as `name args;`.
   */
  public static simple(name: string, ...args: string[]): NginxDirective {
    return new NginxDirective(name, args, undefined);
  }

  /**
   * A block directive, rendered as `name args { ... }`.
   */
  public static block(name: string, args: string[], children: NginxDirective[]): NginxDirective {
    return new NginxDirective(name, args, children);
  }

  /** Directive name, for example `proxy_pass`. */
  public readonly name: string;

  /** Arguments, unquoted: rendering adds the quoting. */
  public readonly args: string[];

  /** Directives inside the block; undefined for a simple directive. */
  public readonly children?: NginxDirective[];

  /** The name and arguments as rendered, quoted once when the directive is made. */
  private readonly words: string;

  private readonly renderedAt = new Map<number, string>();

  private constructor(name: string, args: string[], children: NginxDirective[] | undefined) {
    const words = [renderWord('nginx directive name', name)];
    for (const arg of args) {
      words.push(renderWord(`nginx argument of '${name}'`, arg));
    }
    this.name = name;
    this.args = [...args];
    this.children = children ? [...children] : undefined;
    this.words = words.join(' ');
  }

  /**
   * Renders this directive (and its children) at the given depth, 4 spaces per level.
   */
  public render(depth: number = 0): string {
    // a directive never changes, and shared ones (the types map) render at the same depth
    const cached = this.renderedAt.get(depth);
    if (cached !== undefined) {
      return cached;
    }
    const indent = '    '.repeat(depth);
    const body = this.children?.map((child) => child.render(depth + 1)).join('');
    const text = body !== undefined
      ? `${indent}${this.words} {\n${body}${indent}}\n`
      : `${indent}${this.words};\n`;
    this.renderedAt.set(depth, text);
    return text;
  }
}

/**
 * A whole nginx configuration file: top-level directives rendered in order.
 */
export class NginxConfigFile {
  public readonly directives: NginxDirective[];

  public constructor(directives: NginxDirective[]) {
    this.directives = [...directives];
  }

  /** Deterministic text: same directives, byte-identical output, ending in a newline. */
  public render(): string {
    return this.directives.map((d) => d.render(0)).join('');
  }
}

/**
 * Characters that end or open something in nginx's tokenizer: an argument holding one is quoted.
 */
const NEEDS_QUOTES = /[\s;{}#'"\\]/;

/**
 * Renders one argument so that nginx reads back exactly `value`.
 *
 * nginx turns `\\`, `\"`, `\'`, `\t`, `\r` and `\n` inside any token into one character, so a
 * backslash before one of those (or at the very end, where it would escape the closing quote) is
 * doubled. Every other backslash passes through, so regexes such as `\.php$` keep their meaning.
 * Single quotes are used unless the value holds `'` and no `"`; the chosen quote is escaped.
 */
export function quoteArgument(value: string): string {
  if (value !== '' && !NEEDS_QUOTES.test(value)) {
    return value;
  }
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let body = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const next = value[i + 1];
    if (ch === '\\' && (next === undefined || '\\\'"trn'.includes(next))) {
      body += '\\\\';
    } else if (ch === quote) {
      body += `\\${quote}`;
    } else {
      body += ch;
    }
  }
  return `${quote}${body}${quote}`;
}

/**
 * nginx reads its file through a 4096-byte buffer and refuses a word that does not fit; a quoted
 * word followed by a space needs two bytes more than its own length (measured with nginx 1.22).
 */
const MAX_RENDERED_WORD_BYTES = 4094;

/** Words made only of these need no quoting and no other check: most of any config. */
const PLAIN_WORD = /^[A-Za-z0-9_./:=*~^+,@%$-]{1,256}$/;

/** Checks that `value` can be one nginx word and returns it quoted as needed. */
function renderWord(what: string, value: string): string {
  if (PLAIN_WORD.test(value)) {
    return value;
  }
  if (/[\r\n\0]/.test(value)) {
    throw new Error(`${what} must not contain a line break or NUL, got ${JSON.stringify(value)}`);
  }
  // a lone surrogate has no UTF-8 form: the file would hold U+FFFD instead of the value
  if (/\p{Cs}/u.test(value)) {
    throw new Error(`${what} must be well-formed Unicode, got ${JSON.stringify(value)}`);
  }
  // `${` opens a variable in quoted and unquoted strings alike; a lone `$` is fine
  if (/\$\{(?![A-Za-z_][A-Za-z0-9_]*\})/.test(value)) {
    throw new Error(`${what} has an unclosed '\${', got ${JSON.stringify(value)}`);
  }
  const word = quoteArgument(value);
  const renderedBytes = Buffer.byteLength(word, 'utf8');
  if (renderedBytes > MAX_RENDERED_WORD_BYTES) {
    throw new Error(
      `${what} must render to at most ${MAX_RENDERED_WORD_BYTES} bytes, got ${renderedBytes}`
      + ` for ${JSON.stringify(value.slice(0, 40))}...`,
    );
  }
  return word;
}
