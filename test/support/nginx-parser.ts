/**
 * A test-only reader of nginx configuration text that behaves like nginx's own
 * (`ngx_conf_read_token` and `ngx_conf_parse` in nginx 1.22): same words, same escapes, same
 * errors. Tests use it to check that rendered text means what the renderer intended.
 *
 * It works on UTF-8 bytes, as nginx does, and only turns finished words back into strings.
 */

/** One directive as nginx reads it: the first word, the other words and a block's body. */
export interface ParsedDirective {
  readonly name: string;
  readonly args: string[];
  readonly children?: ParsedDirective[];
}

/** Text that nginx itself would refuse, with nginx's wording and the line it reports. */
export class NginxSyntaxError extends Error {
  public constructor(public readonly reason: string, public readonly line: number) {
    super(`${reason} on line ${line}`);
    this.name = 'NginxSyntaxError';
  }
}

/**
 * Parses a whole configuration file into its directive tree.
 *
 * Only syntax is checked: directive names, argument counts and contexts are not.
 */
export function parseNginxConfig(text: string | Buffer): ParsedDirective[] {
  const tokenizer = new Tokenizer(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  return parseBlockBody(tokenizer, false);
}

/** nginx reads a file through a buffer of this size; a word must fit inside it. */
const READ_BUFFER_SIZE = 4096;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DOUBLE_QUOTE = 0x22;
const HASH = 0x23;
const DOLLAR = 0x24;
const SINGLE_QUOTE = 0x27;
const CLOSE_PAREN = 0x29;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** How a statement ended: `;`, `{`, a lone `}`, or the end of the text. */
type StatementEnd = 'semicolon' | 'block-start' | 'block-end' | 'end-of-file';

interface Statement {
  readonly words: string[];
  readonly end: StatementEnd;
}

function parseBlockBody(tokenizer: Tokenizer, insideBlock: boolean): ParsedDirective[] {
  const directives: ParsedDirective[] = [];
  for (;;) {
    const statement = tokenizer.nextStatement();
    switch (statement.end) {
      case 'block-end':
        if (!insideBlock) {
          throw tokenizer.error('unexpected "}"');
        }
        return directives;
      case 'end-of-file':
        if (insideBlock) {
          throw tokenizer.error('unexpected end of file, expecting "}"');
        }
        return directives;
      case 'semicolon':
        directives.push({ name: statement.words[0], args: statement.words.slice(1) });
        break;
      case 'block-start': {
        const children = parseBlockBody(tokenizer, true);
        directives.push({ name: statement.words[0], args: statement.words.slice(1), children });
        break;
      }
    }
  }
}

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === CR || byte === LF;
}

/**
 * Splits bytes into statements. The flags mirror the state nginx keeps while it scans one byte at
 * a time; the order of the checks matters and follows nginx's.
 */
class Tokenizer {
  private position = 0;
  private line = 1;
  // end (exclusive) of the bytes nginx would have read into its buffer so far
  private bufferEnd = 0;

  public constructor(private readonly bytes: Buffer) {}

  public error(reason: string): NginxSyntaxError {
    return new NginxSyntaxError(reason, this.line);
  }

  public nextStatement(): Statement {
    const words: string[] = [];
    let wordStart = this.position;
    let wordLine = this.line;
    let betweenWords = true;
    let closingQuoteSeen = false;
    let inComment = false;
    let afterDollar = false;
    let escapeNext = false;
    let openQuote: number | undefined;

    for (;;) {
      if (this.position >= this.bufferEnd) {
        if (this.bufferEnd >= this.bytes.length) {
          if (words.length > 0 || !betweenWords) {
            throw this.error('unexpected end of file, expecting ";" or "}"');
          }
          return { words, end: 'end-of-file' };
        }
        this.refillBuffer(wordStart, wordLine, openQuote);
      }

      const byte = this.bytes[this.position++];
      if (byte === LF) {
        this.line++;
        inComment = false;
      }
      if (inComment) {
        continue;
      }
      if (escapeNext) {
        escapeNext = false;
        continue;
      }

      if (closingQuoteSeen) {
        // a quoted word must be followed by a separator; `)` is allowed for `if ("...")`
        if (isSpace(byte)) {
          betweenWords = true;
          closingQuoteSeen = false;
          continue;
        }
        if (byte === SEMICOLON) {
          return { words, end: 'semicolon' };
        }
        if (byte === OPEN_BRACE) {
          return { words, end: 'block-start' };
        }
        if (byte !== CLOSE_PAREN) {
          throw this.error(`unexpected "${String.fromCharCode(byte)}"`);
        }
        betweenWords = true;
        closingQuoteSeen = false;
      }

      if (betweenWords) {
        wordStart = this.position - 1;
        wordLine = this.line;
        if (isSpace(byte)) {
          continue;
        }
        switch (byte) {
          case SEMICOLON:
          case OPEN_BRACE:
            if (words.length === 0) {
              throw this.error(`unexpected "${String.fromCharCode(byte)}"`);
            }
            return { words, end: byte === SEMICOLON ? 'semicolon' : 'block-start' };
          case CLOSE_BRACE:
            if (words.length > 0) {
              throw this.error('unexpected "}"');
            }
            return { words, end: 'block-end' };
          case HASH:
            inComment = true;
            continue;
          case BACKSLASH:
            escapeNext = true;
            break;
          case DOUBLE_QUOTE:
          case SINGLE_QUOTE:
            wordStart++;
            openQuote = byte;
            break;
          case DOLLAR:
            afterDollar = true;
            break;
        }
        betweenWords = false;
        continue;
      }

      // `{` right after `$` belongs to `${name}` and does not end an unquoted word
      if (byte === OPEN_BRACE && afterDollar) {
        continue;
      }
      afterDollar = false;
      if (byte === BACKSLASH) {
        escapeNext = true;
        continue;
      }
      if (byte === DOLLAR) {
        afterDollar = true;
        continue;
      }

      let wordEnded = false;
      if (openQuote !== undefined) {
        if (byte === openQuote) {
          openQuote = undefined;
          closingQuoteSeen = true;
          wordEnded = true;
        }
      } else if (isSpace(byte) || byte === SEMICOLON || byte === OPEN_BRACE) {
        betweenWords = true;
        wordEnded = true;
      }
      if (!wordEnded) {
        continue;
      }

      words.push(unescapeWord(this.bytes.subarray(wordStart, this.position - 1)));
      if (byte === SEMICOLON) {
        return { words, end: 'semicolon' };
      }
      if (byte === OPEN_BRACE) {
        return { words, end: 'block-start' };
      }
    }
  }

  /**
   * Moves the read window the way nginx does: the unfinished word is kept and the rest of the
   * buffer filled. A word (or comment) that alone fills the buffer is an error.
   */
  private refillBuffer(wordStart: number, wordLine: number, openQuote: number | undefined): void {
    const kept = this.position - wordStart;
    if (kept === READ_BUFFER_SIZE) {
      this.line = wordLine;
      if (openQuote !== undefined) {
        const quote = String.fromCharCode(openQuote);
        throw this.error(`too long parameter, probably missing terminating "${quote}" character`);
      }
      const head = this.bytes.subarray(wordStart, wordStart + 10).toString('utf8');
      throw this.error(`too long parameter "${head}..." started`);
    }
    const unread = this.bytes.length - this.bufferEnd;
    this.bufferEnd = this.position + Math.min(unread, READ_BUFFER_SIZE - kept);
  }
}

const ESCAPES = new Map<number, number>([
  [DOUBLE_QUOTE, DOUBLE_QUOTE],
  [SINGLE_QUOTE, SINGLE_QUOTE],
  [BACKSLASH, BACKSLASH],
  ['t'.charCodeAt(0), TAB],
  ['r'.charCodeAt(0), CR],
  ['n'.charCodeAt(0), LF],
]);

/**
 * Applies the escapes nginx applies to every word, quoted or not: `\"`, `\'` and `\\` become the
 * character, `\t`, `\r` and `\n` become tab, CR and LF. Any other backslash stays.
 */
function unescapeWord(raw: Buffer): string {
  const out: number[] = [];
  let i = 0;
  while (i < raw.length) {
    const byte = raw[i];
    const next = i + 1 < raw.length ? raw[i + 1] : undefined;
    if (byte === BACKSLASH && next !== undefined) {
      const replacement = ESCAPES.get(next);
      if (replacement !== undefined) {
        out.push(replacement);
        i += 2;
        continue;
      }
    }
    out.push(byte);
    i++;
  }
  return Buffer.from(out).toString('utf8');
}
