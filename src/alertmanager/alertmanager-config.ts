import { Size } from 'cdk8s';
import * as YAML from 'yaml';

/**
 * The contents of alertmanager.yml, kept in a Secret because receivers carry credentials.
 */
export class AlertmanagerConfig {
  /**
   * A structured configuration, rendered as YAML.
   *
   * @param config the configuration as Alertmanager documents it (route, receivers, ...)
   */
  public static fromObject(config: { [key: string]: any }): AlertmanagerConfig {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error(
        '\'config\' must be an object with Alertmanager\'s keys (route, receivers, ...), '
        + `got ${JSON.stringify(config)}`,
      );
    }
    return new AlertmanagerConfig(YAML.stringify(config, { sortMapEntries: false }));
  }

  /**
   * A configuration written as YAML text, kept byte for byte.
   */
  public static fromYaml(text: string): AlertmanagerConfig {
    let parsed: unknown;
    try {
      parsed = YAML.parse(text);
    } catch (e) {
      throw new Error(`'config' YAML does not parse: ${(e as Error).message.split('\n')[0]}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('\'config\' YAML must be a mapping with Alertmanager\'s keys '
        + '(route, receivers, ...)');
    }
    return new AlertmanagerConfig(text);
  }

  /**
   * A configuration that routes every alert to a receiver that does nothing: a start that
   * keeps the UI and API working until real receivers are set.
   */
  public static discardAll(): AlertmanagerConfig {
    return AlertmanagerConfig.fromObject({
      route: { receiver: 'discard' },
      receivers: [{ name: 'discard' }],
    });
  }

  /** The YAML text of alertmanager.yml. */
  public readonly yaml: string;

  private constructor(yaml: string) {
    const bytes = Buffer.byteLength(yaml, 'utf-8');
    if (bytes > Size.kibibytes(512).toKibibytes() * 1024) {
      throw new Error(`'config' is ${bytes} bytes; a Secret holds at most 1 MiB, `
        + 'keep alertmanager.yml under 512 KiB');
    }
    this.yaml = yaml;
  }
}
